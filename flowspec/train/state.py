"""torch's random number generator states as flat tensors, for checkpoints.

:func:`rng_state` and :func:`restore_rng` save and restore the CPU generator and, when
present, every CUDA device's, so a resumed run draws the same dequantization noise as an
uninterrupted one. (The optimizer saves its own state: :mod:`flowspec.train.optim`; the
batch order is a function of the seed and the step, see :mod:`flowspec.train.loop`.)

A single process stores its generators as ``rng.cpu`` and ``rng.cuda.<device>``. Under
DistributedDataParallel every process seeds its own generators (``seed + rank``), so the
checkpoint holds every process's: :func:`by_rank` names process ``r``'s states
``rng.rank<r>.cpu`` and ``rng.rank<r>.cuda.<device>``, and each process restores its own
with ``restore_rng(tensors, rank)``.

Example::

    >>> import torch
    >>> saved = rng_state()
    >>> first = torch.rand(3)
    >>> restore_rng(saved)
    >>> torch.equal(torch.rand(3), first)
    True
    >>> other = rng_state()
    >>> restore_rng(by_rank([saved, other]), rank=1)   # process 1 restores its own
    >>> torch.equal(torch.rand(3), first)
    False
    >>> with seeded(7):
    ...     noise = torch.rand(3)
    >>> with seeded(7):
    ...     torch.equal(torch.rand(3), noise)
    True

:func:`seeded` runs a block on generators seeded afresh and puts the previous states back
afterwards: evaluations draw the same noise every time (common random numbers), and the
training's own stream is left where it was, so a resumed run stays exact.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import torch

__all__ = ["by_rank", "rng_state", "restore_rng", "seeded"]

_RNG = "rng."


def rng_state() -> dict[str, torch.Tensor]:
    """torch's CPU generator state and every CUDA device's, as uint8 tensors."""
    states = {f"{_RNG}cpu": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for device, state in enumerate(torch.cuda.get_rng_state_all()):
            states[f"{_RNG}cuda.{device}"] = state
    return states


def _prefix(rank: int | None) -> str:
    return _RNG if rank is None else f"{_RNG}rank{rank}."


def by_rank(states: list[dict[str, torch.Tensor]]) -> dict[str, torch.Tensor]:
    """Every process's :func:`rng_state` (``states[r]`` of rank ``r``) under one set of
    names, for one checkpoint."""
    return {
        _prefix(rank) + name[len(_RNG) :]: tensor
        for rank, state in enumerate(states)
        for name, tensor in state.items()
    }


def restore_rng(tensors: dict[str, torch.Tensor], rank: int | None = None) -> None:
    """Set the generators saved by :func:`rng_state` (CUDA ones when CUDA is present), or
    with ``rank``, process ``rank``'s generators among those stored by :func:`by_rank`."""
    prefix = _prefix(rank)
    torch.set_rng_state(tensors[f"{prefix}cpu"].to(torch.uint8))
    cuda = sorted(
        (k for k in tensors if k.startswith(f"{prefix}cuda.")),
        key=lambda k: int(k.rsplit(".", 1)[1]),
    )
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([tensors[k].to(torch.uint8) for k in cuda])


@contextmanager
def seeded(seed: int) -> Iterator[None]:
    """Run the block with torch's generators (CPU and CUDA) seeded by ``seed``, then restore
    their states as they were before it."""
    saved = rng_state()
    torch.manual_seed(seed)
    try:
        yield
    finally:
        restore_rng(saved)
