"""How much a fixed monotone map's inverse amplifies round-off when an input is rebuilt
from a stored output (``train: {memory: invertible}``, :mod:`flowspec.graph.memory`).

With ``y = f(x)`` stored in a dtype of resolution ``eps``, the rebuilt ``x' = f^-1(y)``
carries the rounding of ``y`` through the inverse and its own:
``|x' - x| <= eps (|f(x)| / |f'(x)| + |x|)``. The backward pass then recomputes
the log-det ``g = log|f'|`` at ``x'``, off by ``|g'(x)| |x' - x|``. Both are measured
relative to their own size (``max(|x|, 1)``, ``max(|g|, 1)``) and in units of ``eps``:
:func:`monotone_rebuild_error` is the larger, maximised over points of the support that
approach its ends (within float32's range, one float32 rounding from an open end), with
``f'`` and ``f''`` by central differences in float64. A sigmoid on the whole real line
gives infinity (its outputs round to 1 past x = 17 in float32), a logit with ``alpha =
0.05`` a few units, a logit without ``alpha`` about ``1 / eps``.

Plain Python: checking a spec needs no torch.
"""

from __future__ import annotations

import math
from collections.abc import Callable

__all__ = ["monotone_rebuild_error"]

_FLOAT32_EPS = 2.0**-23
_FLOAT32_MAX = 3.4028234663852886e38
_FAR = 1e4  # how far along an infinite end the map is probed


def _probes(low: float, high: float) -> list[float]:
    """Points of ``[low, high]``: geometric approaches to each end (one float32 rounding
    inside a finite end, out to ``_FAR`` along an infinite one) and points between."""
    points: list[float] = []
    lo = low if math.isfinite(low) else -_FAR
    hi = high if math.isfinite(high) else _FAR
    for end, inward in ((lo, 1.0), (hi, -1.0)):
        width = hi - lo
        points += [end + inward * width * 10.0**-k for k in range(1, 8)]
        points.append(end + inward * _FLOAT32_EPS * max(abs(end), 1.0))
    points += [lo + (hi - lo) * (i + 0.5) / 32 for i in range(32)]  # off a kink at 0
    if not math.isfinite(low) or not math.isfinite(high):
        points += [s * 10.0**k for k in range(5) for s in (-1.0, 1.0) if lo <= s * 10.0**k <= hi]
    return points


def _safe(f: Callable[[float], float], x: float) -> float:
    try:
        return f(x)
    except (OverflowError, ValueError, ZeroDivisionError):
        return math.nan


def monotone_rebuild_error(
    f: Callable[[float], float], low: float, high: float, image: Callable[[float], bool]
) -> float:
    """The largest relative error, in units of the dtype's resolution, of an input of ``f``
    in ``[low, high]`` rebuilt from its stored output, or of the log-det recomputed there
    (infinity when unbounded). ``image(x)`` says whether ``x`` is inside the map's domain."""
    worst = 0.0
    for x in _probes(low, high):
        scale = max(abs(x), 1.0)
        h = 1e-4 * scale
        for end in (low, high):
            if math.isfinite(end):
                h = min(h, abs(x - end) / 4)
        if h <= 0 or not (image(x - h) and image(x + h)):
            continue
        y, below, above = _safe(f, x), _safe(f, x - h), _safe(f, x + h)
        if not all(math.isfinite(v) and abs(v) < _FLOAT32_MAX for v in (y, below, above)):
            continue
        slope = (above - below) / (2 * h)
        if slope == 0.0:
            return math.inf
        curvature = (above - 2 * y + below) / (h * h)
        rebuilt = abs(y) / abs(slope) + abs(x)  # |x' - x| / eps
        log_det = math.log(abs(slope))
        worst = max(
            worst,
            rebuilt / scale,
            abs(curvature / slope) * rebuilt / max(abs(log_det), 1.0),
        )
    return worst
