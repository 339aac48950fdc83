"""The rational-quadratic spline transformer of neural spline flows.

Durkan, Bekasov, Murray and Papamakarios 2019, "Neural Spline Flows", arXiv:1906.04032.

On ``[-B, B]`` the map is a monotone rational-quadratic spline through ``bins + 1`` knots
whose widths, heights and interior derivatives the conditioner computes (the end knots sit
at ``(-B, -B)`` and ``(B, B)`` with derivative 1); outside ``[-B, B]`` it is the identity
(linear tails), so the map is defined on the whole real line. Forward, inverse (the root of
a quadratic) and log-derivative are analytic, each one pass. Parameters at zero give equal
bins and unit derivatives: the identity.

Example::

    transformer: {kind: rq_spline, bins: 8, bound: 4.0}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from flowspec.core.example import Example
from flowspec.core.ports import PortInfo
from flowspec.transformers.base import TransformerSpec

if TYPE_CHECKING:
    from flowspec.core.node import NodeCheck
    from flowspec.layers.transformers.rq_spline import RQSplineTransformer

__all__ = ["RQSplineSpec"]


class RQSplineSpec(TransformerSpec):
    """A monotone rational-quadratic spline on ``[-bound, bound]``, identity outside."""

    kind: Literal["rq_spline"] = "rq_spline"
    bins: int = Field(default=8, ge=1, le=512, description="Number of spline bins (1 .. 512).")
    bound: float = Field(
        default=5.0,
        gt=0,
        le=1.0e4,
        description="B: the spline acts on [-B, B]; the identity outside (at most 1e4: float32 "
        "keeps about 7 digits, so a wider spline loses small inputs, and 1e39 overflows it).",
    )
    min_bin_width: float = Field(
        default=1.0e-3, gt=0, lt=1, description="Smallest bin width, as a fraction of 2B."
    )
    min_bin_height: float = Field(
        default=1.0e-3, gt=0, lt=1, description="Smallest bin height, as a fraction of 2B."
    )
    min_derivative: float = Field(
        default=1.0e-3, gt=0, lt=1, description="Smallest derivative at an interior knot."
    )
    summary = "monotone rational-quadratic spline on [-B, B], identity outside"
    reference = "Durkan et al. 2019, arXiv:1906.04032"
    examples = (Example({"bins": 4, "bound": 3.0}, (PortInfo((3,)),)),)

    def params_per_feature(self) -> int:
        return 3 * self.bins - 1

    def check_static(self, check: NodeCheck, *field: str | int) -> None:
        if self.bins == 1:
            check.error(
                "E702",
                "a spline of 1 bin is the identity whatever its weights: its only knots are "
                "the fixed ends (-B, -B) and (B, B) with derivative 1, so the conditioner's "
                "outputs change nothing",
                *field,
                "bins",
                hint="use 2 bins or more (the usual 8), or an affine transformer",
            )
        for name, code in (("min_bin_width", "E700"), ("min_bin_height", "E701")):
            smallest = getattr(self, name)
            if smallest * self.bins >= 1:
                check.error(
                    code,
                    f"{self.bins} bins of at least {name} {smallest} do not fit in [-B, B] "
                    f"(bins * {name} = {smallest * self.bins:g} must be below 1)",
                    *field,
                    name,
                    hint=f"lower {name} below {1 / self.bins:g}, or use fewer bins",
                )

    def build(self) -> RQSplineTransformer:
        from flowspec.layers.transformers.rq_spline import RQSplineTransformer

        return RQSplineTransformer(
            self.bins, self.bound, self.min_bin_width, self.min_bin_height, self.min_derivative
        )

    def describe(self) -> str:
        return f"rq_spline({self.bins} bins, B={self.bound:g})"
