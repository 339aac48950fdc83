"""Compiler throughput: how long flowspec takes to check and to build specs of 10, 100 and
1,000 graph nodes (and 3,000 and 10,000, the most a graph may have, in the full run), per
node, so that the growth is visible. ``flowspec.check`` pauses the cyclic collector itself,
so its 'gc off' column should match the plain one.
Prints a markdown section.

The specs are chains of alternating ``affine_coupling`` (default conditioner, MLP 64x64)
and ``reverse`` nodes on ``x: [4]``, ending in ``standard_normal``; the size counts every
graph node, input and prior included. Two variants: every node written out, and one block
``[affine_coupling, reverse]`` used with ``repeat``. Figures are medians of several runs:
``flowspec.check(text)`` (split into ``flowspec.load``, the YAML and source map, and the
rest: validation, graph, passes) and ``.build_model()`` (split into ``.source()``, the code
generation, and ``.build_nodes()``, the torch modules; the rest is ``exec`` of the source),
each also with Python's cyclic garbage collector switched off, which separates the
compiler's own growth from that of the collector's full passes over the whole heap.
A cProfile of the largest explicit spec lists the hot spots.

    python benchmarks/suites/bench_compiler.py            # full: 10, 100, 1,000, 3,000, 10,000 nodes
    python benchmarks/suites/bench_compiler.py --quick    # smoke run: 10 and 100 nodes
"""

from __future__ import annotations

import cProfile
import gc
import io
import math
import pstats
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/: its packages
from harness.specs import chain_spec, sized_parser
from harness.table import markdown_table

import flowspec

__all__ = ["CompileTimes", "time_spec", "profile_spec", "TARGET_SECONDS"]

TARGET_SECONDS = 1.0
"""Check plus build of a 1,000-node spec should take less than this."""

SUPERLINEAR = 1.25
"""Growth exponents (time ~ nodes^b) from this up, between the two largest sizes, are
reported as superlinear; timing noise on a shared machine moves b by about 0.1."""


@dataclass
class CompileTimes:
    """Median seconds of each phase for one spec, and its graph size."""

    nodes: int
    load: float
    check: float
    check_without_gc: float
    source: float
    build_nodes: float
    build: float
    build_without_gc: float


def _median_seconds(fn: Callable[[], object], runs: int, collect: bool = True) -> float:
    """Median wall time of ``fn``. Each run starts after a full collection; with
    ``collect=False`` the cyclic garbage collector is also off during the run."""
    times = []
    for _ in range(runs):
        gc.collect()
        if not collect:
            gc.disable()
        try:
            start = time.perf_counter()
            fn()
            times.append(time.perf_counter() - start)
        finally:
            gc.enable()
    return statistics.median(times)


def time_spec(text: str, runs: int) -> CompileTimes:
    """Median times of ``check(text)`` and ``build_model()`` and their parts."""
    checked = flowspec.check(text)
    return CompileTimes(
        nodes=len(checked.graph.nodes),
        load=_median_seconds(lambda: flowspec.load(text), runs),
        check=_median_seconds(lambda: flowspec.check(text), runs),
        check_without_gc=_median_seconds(lambda: flowspec.check(text), runs, collect=False),
        source=_median_seconds(checked.source, runs),
        build_nodes=_median_seconds(checked.build_nodes, runs),
        build=_median_seconds(checked.build_model, runs),
        build_without_gc=_median_seconds(checked.build_model, runs, collect=False),
    )


def _stats_table(profiler: cProfile.Profile, sort: str, top: int, *restrict: str) -> str:
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats(sort).print_stats(*restrict, top)
    lines = out.getvalue().strip().splitlines()
    start = next(i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls"))
    return "\n".join(line.replace(sys.prefix, "<prefix>") for line in lines[start:])


def profile_spec(text: str, top: int = 12) -> tuple[str, str]:
    """cProfile of one check plus build: the ``top`` functions by own time, and flowspec's
    own functions by cumulative time."""
    profiler = cProfile.Profile()
    profiler.enable()
    flowspec.check(text).build_model()
    profiler.disable()
    return (
        _stats_table(profiler, "tottime", top),
        _stats_table(profiler, "cumulative", top, "flowspec/"),
    )


def _us(seconds: float, nodes: int) -> str:
    return f"{seconds / nodes * 1e6:,.0f}"


def _rows(results: dict[tuple[str, int], CompileTimes]) -> list[list[object]]:
    rows = []
    for (variant, _), t in results.items():
        rows.append(
            [
                variant,
                f"{t.nodes:,}",
                f"{t.check * 1e3:,.1f}",
                _us(t.check, t.nodes),
                f"{t.load * 1e3:,.1f}",
                f"{t.check_without_gc * 1e3:,.1f}",
                f"{t.build * 1e3:,.1f}",
                _us(t.build, t.nodes),
                f"{t.source * 1e3:,.1f}",
                f"{t.build_nodes * 1e3:,.1f}",
                f"{t.build_without_gc * 1e3:,.1f}",
                f"{(t.check + t.build) * 1e3:,.1f}",
            ]
        )
    return rows


def _exponent(small: CompileTimes, large: CompileTimes, phase: str) -> float:
    """``b`` in time ~ nodes^b between two sizes: 1 is linear."""
    ratio = getattr(large, phase) / getattr(small, phase)
    return math.log(ratio) / math.log(large.nodes / small.nodes)


def _growth(results: dict[tuple[str, int], CompileTimes], sizes: list[int]) -> list[str]:
    """The growth exponent between neighbouring sizes from the second smallest up (the
    smallest is dominated by fixed costs), and the 1,000-node target."""
    lines = []
    pairs = list(pairwise(sizes[1:])) or list(pairwise(sizes))
    phases = {
        "check": "check",
        "check_without_gc": "check with gc off",
        "build": "build_model",
        "build_without_gc": "build_model with gc off",
    }
    for variant in ("explicit", "block"):
        for phase, label in phases.items():
            exponents = [
                _exponent(results[(variant, a)], results[(variant, b)], phase) for a, b in pairs
            ]
            steps = ", ".join(
                f"{e:.2f} ({a:,} -> {b:,})" for e, (a, b) in zip(exponents, pairs, strict=True)
            )
            verdict = "linear" if exponents[-1] < SUPERLINEAR else "SUPERLINEAR"
            lines.append(f"- {variant}, {label}: growth exponent {steps}: {verdict}.")
        if (variant, 1000) in results:
            t = results[(variant, 1000)]
            total = t.check + t.build
            missed = total - TARGET_SECONDS
            verdict = "met" if missed < 0 else f"missed by {missed:.2f} s"
            lines.append(
                f"- {variant}, 1,000 nodes: check + build {total:.3f} s "
                f"(target < {TARGET_SECONDS:g} s: {verdict})."
            )
    return lines


def main() -> None:
    parser = sized_parser(__doc__ or "", "--runs", "runs per figure (median; default 7)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    sizes = args.sizes or ([10, 100] if args.quick else [10, 100, 1000, 3000, 10000])
    runs = args.runs or (2 if args.quick else 7)
    results: dict[tuple[str, int], CompileTimes] = {}
    for variant in ("explicit", "block"):
        for size in sizes:
            print(f"[compiler] {variant} {size}", file=sys.stderr, flush=True)
            results[(variant, size)] = time_spec(chain_spec(size, variant == "explicit"), runs)
    header = [
        "spec",
        "graph nodes",
        "check ms",
        "check µs/node",
        "of which load ms",
        "check ms, gc off",
        "build_model ms",
        "build µs/node",
        "of which source() ms",
        "of which build_nodes() ms",
        "build_model ms, gc off",
        "check + build ms",
    ]
    by_own_time, by_cumulative = profile_spec(chain_spec(sizes[-1], explicit=True))
    print(
        "\n\n".join(
            [
                "## Compiler throughput",
                f"Chains of alternating affine_coupling (default MLP 64x64) and reverse on [4]; median "
                f"of {runs} runs; `torch.set_num_threads(1)`. 'explicit' writes every node out, "
                "'block' repeats one two-node block. check = `flowspec.check(text)` (load = "
                "`flowspec.load(text)`: YAML and source map); build_model = `.build_model()` "
                "(source() = code generation, build_nodes() = torch modules, the rest = exec). "
                "'gc off': the same with Python's cyclic garbage collector disabled during the run.",
                markdown_table(header, _rows(results)),
                "\n".join(_growth(results, sizes)) if len(sizes) > 1 else "",
                f"cProfile of check + build_model of the {sizes[-1]:,}-node explicit spec, top "
                f"functions by own time:\n\n```\n{by_own_time}\n```",
                f"The same profile, flowspec's functions by cumulative time:\n\n```\n{by_cumulative}"
                "\n```",
            ]
        )
    )


if __name__ == "__main__":
    main()
