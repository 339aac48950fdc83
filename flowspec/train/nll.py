"""The mean negative log-likelihood of a model over a data split, in nats per example, by
one protocol that the fit loop (validation, final figures) and ``flowspec eval`` share.

For a model whose ``log_prob`` draws noise (dequantization, augmentation, a VAE, Hutchinson
or Russian-roulette estimators) the figure depends on the draws. Every score here runs on
generators seeded afresh by ``seed`` (:data:`EVAL_SEED` by default) in batches of a fixed
size, and restores the caller's generator states afterwards: two scores of the same weights
on the same split draw the same noise (common random numbers), so the validation NLL that
selected a checkpoint, the summary printed after training and ``flowspec eval`` agree to
the last digit, comparisons between checkpoints are not decided by noise, and training
draws the same stream whether or not it validates (an exact resume stays exact).

``draws`` averages that many draws of the stochastic nodes per example. The standard error
is that of the mean over the examples (the spread of per-example values, estimator noise
included, as density-estimation papers report it: Papamakarios et al. 2017,
arXiv:1705.07057).

Example::

    >>> import flowspec, math
    >>> from flowspec.train import load_dataset
    >>> model = flowspec.compile("specs/realnvp_moons.yaml")   # untrained: about N(0, I)
    >>> split = load_dataset("moons", n_test=200).split("test")
    >>> nll = evaluate_nll(model, split)
    >>> abs(nll - math.log(2 * math.pi) - float((split.x**2).sum(1).mean()) / 2) < 1e-3
    True
    >>> scored = score(model, split, draws=2)    # a second draw changes nothing: exact
    >>> scored.n, scored.draws, scored.seed, abs(scored.mean - nll) < 1e-9, scored.stderr > 0
    (200, 2, 0, True, True)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn

from flowspec.spec.training import EVAL_SEED
from flowspec.train.data import Split
from flowspec.train.distributed import Distributed
from flowspec.train.state import seeded

__all__ = [
    "EVAL_BATCH",
    "EVAL_SEED",
    "Score",
    "bits_per_dim",
    "evaluate_nll",
    "model_dtype_device",
    "score",
]

#: Examples per batch of an evaluation: fixed, since the noise an example gets depends on
#: the batches before it.
EVAL_BATCH = 1024


def bits_per_dim(nll: float, dims: int) -> float:
    """An NLL in nats per example as bits per dimension, for ``dims`` values per example."""
    return nll / (dims * math.log(2.0))


@dataclass(frozen=True)
class Score:
    """The mean ``-log_prob`` over ``n`` examples in nats, its standard error over the
    examples (None for a single example), the draws per example and the seed."""

    n: int
    mean: float
    stderr: float | None
    draws: int
    seed: int


def model_dtype_device(model: nn.Module) -> tuple[torch.dtype, torch.device]:
    """The dtype and device of the model's first floating-point parameter or buffer."""
    for tensor in (*model.parameters(), *model.buffers()):
        if tensor.is_floating_point():
            return tensor.dtype, tensor.device
    return torch.get_default_dtype(), torch.device("cpu")


@torch.no_grad()
def _moments(model: nn.Module, split: Split, draws: int) -> tuple[float, float]:
    """The sum and the sum of squares over examples of ``-log_prob`` (averaged over
    ``draws`` draws per example)."""
    dtype, device = model_dtype_device(model)
    total = squares = 0.0
    for start in range(0, len(split), EVAL_BATCH):
        inputs = [
            part.to(device=device, dtype=dtype)
            for part in split.inputs(slice(start, start + EVAL_BATCH))
        ]
        nll = -torch.stack([model(*inputs).double() for _ in range(draws)]).mean(0)
        total += float(nll.sum())
        squares += float((nll * nll).sum())
    return total, squares


def score(
    model: nn.Module,
    split: Split | torch.Tensor,
    *,
    draws: int = 1,
    seed: int = EVAL_SEED,
    distributed: Distributed | None = None,
) -> Score:
    """Mean ``-log_prob`` over a split (or a data tensor) in nats per example, in eval mode
    without gradients, on generators seeded by ``seed`` (``seed + rank`` per process under
    ``distributed``, each scoring its share); the model's mode and the generators' states
    are restored afterwards."""
    split = split if isinstance(split, Split) else Split(split)
    flow = getattr(model, "module", model)  # inside DistributedDataParallel
    if not getattr(flow, "CONTEXT_INPUTS", ()):
        split = Split(split.x)  # e.g. moons' labels, for an unconditional model
    if len(split) == 0:
        raise ValueError("cannot evaluate the NLL of an empty data set")
    was_training = model.training
    model.eval()
    try:
        rank = distributed.rank if distributed is not None else 0
        share = distributed.shard(split) if distributed is not None else split
        with seeded(seed + rank):
            total, squares = _moments(model, share, draws) if len(share) else (0.0, 0.0)
        if distributed is not None:
            total, squares = distributed.sums(total, squares)
    finally:
        model.train(was_training)
    n = len(split)
    mean = total / n
    variance = max(squares / n - mean * mean, 0.0) * n / (n - 1) if n > 1 else None
    stderr = math.sqrt(variance / n) if variance is not None else None
    return Score(n, mean, stderr, draws, seed)


def evaluate_nll(
    model: nn.Module,
    split: Split | torch.Tensor,
    distributed: Distributed | None = None,
    seed: int = EVAL_SEED,
) -> float:
    """The mean of :func:`score`: ``-log_prob`` over a split in nats per example."""
    return score(model, split, seed=seed, distributed=distributed).mean
