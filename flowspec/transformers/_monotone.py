"""The base of the fixed monotone maps (scale_shift, leaky_relu, sigmoid, logit, tanh, exp,
log, softplus): transformers with no parameters per feature, only their own constants.

A scalar map applied to every element is a bijection exactly when it is strictly monotone,
and its Jacobian is diagonal, so ``log|det dz/dx| = sum_i log|f'(x_i)|`` (Papamakarios et
al. 2021, "Normalizing Flows for Probabilistic Modeling and Inference", JMLR,
arXiv:1912.02762, section 2.2). Each map has a domain and sends the input's support to its
image, computed in plain Python from the map at the ends of the support, so the compiler
knows, with no torch, that a sigmoid's output lives in ``(0, 1)`` and that a logit needs
such values. The same spec serves ``{kind: elementwise, fn: logit}`` and
``transformer: {kind: logit}`` in a coupling or autoregressive layer.

Example::

    transformer: {kind: tanh}
"""

from __future__ import annotations

import math
from abc import abstractmethod
from typing import ClassVar

from flowspec.core.ports import Support
from flowspec.transformers._rebuild import monotone_rebuild_error
from flowspec.transformers.base import TransformerSpec

__all__ = ["MonotoneMapSpec", "FLOAT32_MAX", "usable_factor"]

#: The largest finite float32: models run in float32 unless converted.
FLOAT32_MAX = 3.4028234663852886e38


def usable_factor(value: float) -> bool:
    """Whether a nonzero factor (a scale, a slope) and its reciprocal are finite and nonzero
    in float32: 1e-46 or 1e39 pass as Python floats but are 0 or inf in the model."""
    return 1.0 / FLOAT32_MAX <= abs(value) <= FLOAT32_MAX


class MonotoneMapSpec(TransformerSpec):
    """A fixed strictly monotone map: zero parameters per feature."""

    #: The closed hull of the values the map accepts (an end where the map is infinite is
    #: open in :meth:`domain`); maps whose hull depends on a setting override :meth:`hull`.
    interval: ClassVar[tuple[float, float]] = (-math.inf, math.inf)

    def hull(self) -> tuple[float, float]:
        """The closed hull of the domain."""
        return self.interval

    def params_per_feature(self) -> int:
        return 0

    @abstractmethod
    def scalar_map(self, v: float) -> float:
        """The map at one float (+-inf allowed), used to carry support ends through it;
        plain Python, so that checking a spec needs no torch."""

    def domain(self) -> Support:
        low, high = self.hull()
        return Support(
            low,
            high,
            closed_low=math.isfinite(self.scalar_map(low)),
            closed_high=math.isfinite(self.scalar_map(high)),
        )

    def rebuild_error(self, support: Support) -> float:
        """The largest relative error, in units of the dtype's resolution, of an input in
        ``support`` rebuilt from this map's stored output, or of its log-det recomputed
        there (:mod:`flowspec.transformers._rebuild`)."""
        low, high = self.hull()
        low, high = max(low, support.low), min(high, support.high)
        domain = self.domain()
        return monotone_rebuild_error(
            self.scalar_map, low, high, lambda v: domain.low < v < domain.high
        )

    def output_support(self, support: Support) -> Support:
        """The image of ``support`` (monotone: map the ends, in either order)."""
        ends = [
            (self.scalar_map(support.low), support.closed_low),
            (self.scalar_map(support.high), support.closed_high),
        ]
        (low, closed_low), (high, closed_high) = sorted(ends, key=lambda end: end[0])
        return Support(
            low,
            high,
            closed_low=closed_low and math.isfinite(low),
            closed_high=closed_high and math.isfinite(high),
            partial=support.partial,
            ordered=support.ordered,
        )

    def describe(self) -> str:
        settings = ", ".join(
            f"{name}={value:g}" if isinstance(value, float) else f"{name}={value}"
            for name, value in self.model_dump(exclude={"kind"}).items()
            if name in self.model_fields_set
        )
        return f"{self.kind}({settings})" if settings else self.kind
