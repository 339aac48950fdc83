"""Training every contender in lockstep: step ``k`` of all of them sees the same batch, in an
order that rotates with ``k``, and each step is timed on its own."""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import torch

from harness.contender import Contender
from harness.timing import rotated

__all__ = ["TrainResult", "train_lockstep"]


@dataclass
class TrainResult:
    """Seconds per training step, the last loss, the step where the loss stopped being
    finite (``None`` when it never did; training of that contender stops there), and the
    test scores taken along the way as ``(steps done, score)``."""

    step_seconds: list[float] = field(default_factory=list)
    last_loss: float = math.nan
    diverged_at: int | None = None
    scores: list[tuple[int, float]] = field(default_factory=list)

    def best_score(self) -> tuple[int, float]:
        """The lowest finite score and after how many steps it was taken."""
        finite = [(value, step) for step, value in self.scores if math.isfinite(value)]
        value, step = min(finite) if finite else (math.nan, 0)
        return step, value

    def median_step(self, skip: int) -> float:
        """Median step time, ignoring the first ``skip`` steps (warm-up)."""
        timed = self.step_seconds[skip:] or self.step_seconds
        return statistics.median(timed) if timed else math.nan


def _score_all(
    contenders: Mapping[str, Contender],
    results: dict[str, TrainResult],
    score: Callable[[Contender], float],
    steps_done: int,
) -> None:
    """Score every contender without disturbing the global random stream of training."""
    with torch.random.fork_rng(), torch.no_grad():
        for name, contender in contenders.items():
            value = score(contender) if results[name].diverged_at is None else math.nan
            results[name].scores.append((steps_done, value))


def train_lockstep(
    contenders: Mapping[str, Contender],
    batch_at: Callable[[int], torch.Tensor],
    steps: int,
    lr: float,
    score: Callable[[Contender], float],
    score_every: int,
) -> dict[str, TrainResult]:
    """Adam at ``lr`` on the mean negative ``log_prob`` of ``batch_at(k)`` for ``k < steps``,
    scoring every contender after each ``score_every`` steps and at the end (untimed).
    The timed region is one whole step: forward, zero_grad, backward and optimizer step."""
    optimizers = {
        name: torch.optim.Adam(c.module.parameters(), lr=lr) for name, c in contenders.items()
    }
    results = {name: TrainResult() for name in contenders}
    for step in range(steps):
        if step and step % score_every == 0:
            _score_all(contenders, results, score, step)
        batch = batch_at(step)
        active = [name for name in contenders if results[name].diverged_at is None]
        for name in rotated(active, step) if active else []:
            optimizer = optimizers[name]
            start = time.perf_counter()
            loss = -contenders[name].log_prob(batch).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            results[name].step_seconds.append(time.perf_counter() - start)
            value = float(loss)
            results[name].last_loss = value
            if not math.isfinite(value):
                results[name].diverged_at = step
    _score_all(contenders, results, score, steps)
    return results
