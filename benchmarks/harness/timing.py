"""Interleaved timing with medians: every contender runs once per round, in an order that
rotates from round to round, so drift on a shared, noisy machine hits all of them alike."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Mapping

__all__ = ["interleaved_medians", "rotated"]


def rotated(names: list[str], shift: int) -> list[str]:
    """``names`` rotated left by ``shift``: round ``k`` starts with contender ``k mod n``."""
    shift %= len(names)
    return names[shift:] + names[:shift]


def _seconds_per_call(fn: Callable[[], object], inner: int) -> float:
    start = time.perf_counter()
    for _ in range(inner):
        fn()
    return (time.perf_counter() - start) / inner


def interleaved_medians(
    fns: Mapping[str, Callable[[], object]], repeats: int, inner: int, warmup: int = 3
) -> dict[str, float]:
    """Median seconds per call of each function over ``repeats`` rounds of ``inner`` calls,
    after ``warmup`` untimed rounds."""
    names = list(fns)
    for _ in range(warmup):
        for name in names:
            fns[name]()
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_ in range(repeats):
        for name in rotated(names, round_):
            samples[name].append(_seconds_per_call(fns[name], inner))
    return {name: statistics.median(values) for name, values in samples.items()}
