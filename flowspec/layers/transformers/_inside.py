"""Keeping a saturating map's values strictly inside its open image.

``sigmoid``, ``tanh``, ``exp`` and ``softplus`` round to an end of their image far in the
tails (``sigmoid(40) == 1.0`` in float64, ``sigmoid(17) == 1.0`` in float32, ``exp(-800) ==
0.0``), where the inverse of a following or reverse map is infinite: a ``logit`` after a
``sigmoid`` gave ``inf`` and then a NaN log_prob. Their values are clamped one step of the
dtype inside each end (``eps`` relative to an end at ``±1``, the smallest subnormal above
0, the largest finite value below infinity), so the next map stays finite. The
log-derivatives are computed from the input in a stable form and are left as they are;
past the clamp the round trip returns the clamp's preimage instead of the input, which
the dtype cannot tell apart anyway.
"""

from __future__ import annotations

import math

import torch

__all__ = ["inside"]


def _step_inside(end: float, dtype: torch.dtype, toward: int) -> float:
    """The value one step of ``dtype`` from ``end`` toward the interval's interior."""
    info = torch.finfo(dtype)
    if math.isinf(end):
        return -toward * info.max
    if end == 0.0:
        return toward * info.tiny * info.eps  # the smallest subnormal
    return end + toward * abs(end) * info.eps


def inside(z: torch.Tensor, low: float, high: float) -> torch.Tensor:
    """``z`` clamped into the open interval ``(low, high)`` by one step of its dtype."""
    return z.clamp(_step_inside(low, z.dtype, 1), _step_inside(high, z.dtype, -1))
