"""torch's random number generator states as flat tensors, for checkpoints.

:func:`rng_state` and :func:`restore_rng` save and restore the CPU generator and, when
present, every CUDA device's, so a resumed run draws the same dequantization noise as an
uninterrupted one. (The optimizer saves its own state: :mod:`flowspec.train.optim`.)

Example::

    >>> saved = rng_state()                   # doctest: +SKIP
    >>> restore_rng(saved)                    # doctest: +SKIP
"""

from __future__ import annotations

import torch

__all__ = ["rng_state", "restore_rng"]

_RNG = "rng."


def rng_state() -> dict[str, torch.Tensor]:
    """torch's CPU generator state and every CUDA device's, as uint8 tensors."""
    states = {f"{_RNG}cpu": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for device, state in enumerate(torch.cuda.get_rng_state_all()):
            states[f"{_RNG}cuda.{device}"] = state
    return states


def restore_rng(tensors: dict[str, torch.Tensor]) -> None:
    """Set the generators saved by :func:`rng_state` (CUDA ones when CUDA is present)."""
    torch.set_rng_state(tensors[f"{_RNG}cpu"].to(torch.uint8))
    cuda = sorted(k for k in tensors if k.startswith(f"{_RNG}cuda."))
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([tensors[k].to(torch.uint8) for k in cuda])
