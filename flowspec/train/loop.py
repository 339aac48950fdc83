"""Maximum-likelihood training of a compiled flow on a bundled data set.

The loss is ``-log_prob(x).mean()`` in nats per example: the exact negative
log-likelihood for exact models, else the negative of a one-sample lower bound (an upper
bound on the NLL). :func:`fit` uses Adam with a cosine learning-rate decay to zero and
gradient-norm clipping, and stops with :class:`TrainingDiverged` as soon as the loss or
the gradient stops being finite, rather than training on garbage.

Example::

    >>> model = flowspec.compile("specs/realnvp_moons.yaml")        # doctest: +SKIP
    >>> result = fit(model, load_dataset("moons"), steps=2000)        # doctest: +SKIP
    >>> result.test_nll                                               # doctest: +SKIP
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Callable, Iterator

import torch
from torch import nn
from tqdm.auto import tqdm

from flowspec.emit.runtime import FlowModel
from flowspec.train.data import Dataset, check_compatible

__all__ = ["FitResult", "TrainingDiverged", "evaluate_nll", "fit", "MAX_GRAD_NORM"]

MAX_GRAD_NORM = 10.0
"""Gradients are rescaled so that their global 2-norm is at most this."""
_SMOOTHING = 0.98  # of the running loss shown on the progress bar


class TrainingDiverged(RuntimeError):
    """The loss or the gradient became NaN or infinite at ``step`` (1-based)."""

    def __init__(self, step: int, what: str, value: float):
        self.step = step
        self.value = value
        super().__init__(
            f"training diverged at step {step}: the {what} is {value}; try a smaller "
            f"learning rate, a smaller scale_bound, or fewer/smaller layers"
        )


@dataclass
class FitResult:
    """What a run of :func:`fit` achieved.

    ``train_nll`` and ``test_nll`` are mean ``-log_prob`` in nats per example over the
    full splits, in eval mode. ``bits_per_dim`` is ``test_nll / (D ln 2)`` for discrete
    data (``D`` values per example) and None for continuous data, where a density's bits
    are not a code length. With a dequantized (stochastic) model, ``-log_prob`` is an
    upper bound in expectation on ``-log P(x)``, so ``bits_per_dim`` is an upper bound on
    the bits per dimension of the model's probability mass function.
    ``history`` holds the training loss of every step, ``test_history`` the test NLL at
    every ``eval_every`` steps, and ``seconds`` the wall time of the whole run.
    """

    steps: int
    train_nll: float
    test_nll: float
    bits_per_dim: float | None
    history: list[tuple[int, float]]
    seconds: float
    test_history: list[tuple[int, float]] = field(default_factory=list)


def _model_dtype_device(model: nn.Module) -> tuple[torch.dtype, torch.device]:
    """The dtype and device of the model's first floating-point parameter or buffer."""
    for tensor in (*model.parameters(), *model.buffers()):
        if tensor.is_floating_point():
            return tensor.dtype, tensor.device
    return torch.get_default_dtype(), torch.device("cpu")


@torch.no_grad()
def evaluate_nll(model: nn.Module, data: torch.Tensor, batch_size: int = 1024) -> float:
    """Mean ``-log_prob`` over ``data`` in nats per example, in eval mode without
    gradients, in batches of ``batch_size``; the model's mode is restored afterwards."""
    if len(data) == 0:
        raise ValueError("cannot evaluate the NLL of an empty data set")
    dtype, device = _model_dtype_device(model)
    was_training = model.training
    model.eval()
    try:
        total = 0.0
        for batch in data.split(batch_size):
            log_prob = model.log_prob(batch.to(device=device, dtype=dtype))
            total -= float(log_prob.double().sum())
        return total / len(data)
    finally:
        model.train(was_training)


def _batches(n: int, batch_size: int, generator: torch.Generator) -> Iterator[torch.Tensor]:
    """Index batches forever: each epoch is a fresh random permutation of ``range(n)``
    (its last, partial batch is dropped so every batch has the same size)."""
    batch_size = min(batch_size, n)
    while True:
        order = torch.randperm(n, generator=generator)
        for start in range(0, n - batch_size + 1, batch_size):
            yield order[start : start + batch_size]


def fit(
    model: FlowModel,
    dataset: Dataset,
    *,
    steps: int,
    batch_size: int = 256,
    lr: float = 1e-3,
    seed: int = 0,
    progress: bool = True,
    eval_every: int | None = None,
    log: Callable[[str], None] | None = None,
) -> FitResult:
    """Train ``model`` in place by maximum likelihood on ``dataset.train`` for ``steps``
    Adam steps, then evaluate it on both splits.

    The run is reproducible from ``seed`` (``torch.manual_seed`` is set first). Every
    ``eval_every`` steps the test NLL is computed and reported through ``log`` (or above
    the progress bar when ``log`` is None and ``progress`` is on). Raises ``ValueError``
    when the data set does not fit the model (see :func:`check_compatible`) and
    :class:`TrainingDiverged` when the loss or gradient becomes NaN or infinite.
    """
    if steps < 0:
        raise ValueError(f"steps must be non-negative, got {steps}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    if not lr > 0:
        raise ValueError(f"lr must be positive, got {lr}")
    if eval_every is not None and eval_every < 1:
        raise ValueError(f"eval_every must be at least 1, got {eval_every}")
    problems = check_compatible(model, dataset)
    if problems:
        raise ValueError(
            f"data set '{dataset.name}' does not fit the model:\n"
            + "\n".join(f"  - {p}" for p in problems)
        )
    report = log if log is not None else (tqdm.write if progress else None)

    start = time.perf_counter()
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    dtype, device = _model_dtype_device(model)
    train = dataset.train.to(device=device, dtype=dtype)
    parameters = [p for p in model.parameters() if p.requires_grad]
    if not parameters:
        raise ValueError("the model has no trainable parameters; there is nothing to fit")
    optimizer = torch.optim.Adam(parameters, lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(steps, 1))
    history: list[tuple[int, float]] = []
    test_history: list[tuple[int, float]] = []
    running: float | None = None

    was_training = model.training
    bar = tqdm(total=steps, desc=f"fit {dataset.name}", unit="step", disable=not progress)
    try:
        batches = _batches(len(train), batch_size, generator)
        model.train()
        for step in range(1, steps + 1):
            loss = -model.log_prob(train[next(batches)]).mean()
            value = float(loss.detach())
            if not math.isfinite(value):
                raise TrainingDiverged(step, "loss", value)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            norm = float(torch.nn.utils.clip_grad_norm_(parameters, MAX_GRAD_NORM))
            if not math.isfinite(norm):
                raise TrainingDiverged(step, "gradient norm", norm)
            optimizer.step()
            schedule.step()
            history.append((step, value))
            running = value if running is None else _SMOOTHING * running + (1 - _SMOOTHING) * value
            bar.update()
            if step % 10 == 0 or step == steps:
                bar.set_postfix(loss=f"{running:.4f}", refresh=False)
            if eval_every is not None and step % eval_every == 0:
                test_nll = evaluate_nll(model, dataset.test)
                test_history.append((step, test_nll))
                if report is not None:
                    report(f"step {step}: train loss {running:.4f}, test nll {test_nll:.4f}")
    finally:
        bar.close()
        model.train(was_training)

    train_nll = evaluate_nll(model, dataset.train)
    test_nll = evaluate_nll(model, dataset.test)
    bits = None
    if dataset.levels is not None:
        bits = test_nll / (math.prod(dataset.shape) * math.log(2.0))
    return FitResult(
        steps=steps,
        train_nll=train_nll,
        test_nll=test_nll,
        bits_per_dim=bits,
        history=history,
        seconds=time.perf_counter() - start,
        test_history=test_history,
    )
