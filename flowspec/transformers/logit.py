"""The logit, ``z = logit(alpha + (1 - 2 alpha) x)``, from [0, 1] to the real line.

The data preprocessing of Dinh et al. 2016, "Density estimation using Real NVP",
arXiv:1605.08803, section 4.1: ``alpha`` squeezes ``[0, 1]`` into ``[alpha, 1 - alpha]``
first, so that inputs at 0 or 1 stay finite. With ``u = alpha + (1 - 2 alpha) x``,
``log dz/dx = log(1 - 2 alpha) - log u - log(1 - u)``. The domain is where ``u`` lies in
``(0, 1)``: without ``alpha`` inputs declared in the closed ``[0, 1]`` do not fit.

Example::

    {kind: elementwise, fn: logit, alpha: 0.05}
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from flowspec.core.example import Example
from flowspec.core.ports import PortInfo, Support
from flowspec.transformers._monotone import MonotoneMapSpec

if TYPE_CHECKING:
    from flowspec.core.node import NodeCheck
    from flowspec.layers.transformers.logit import LogitTransformer

__all__ = ["LogitSpec"]


class LogitSpec(MonotoneMapSpec):
    """``z = logit(alpha + (1 - 2 alpha) x)``: [0, 1] (or a little wider) -> real."""

    kind: Literal["logit"] = "logit"
    alpha: float = Field(
        default=0.0,
        description="Squeeze the input into [alpha, 1 - alpha] first, "
        "z = logit(alpha + (1 - 2 alpha) x), with 0 <= alpha < 0.5 (RealNVP preprocessing).",
    )
    summary = "z = logit(alpha + (1 - 2 alpha) x), [0, 1] -> real"
    reference = "Dinh et al. 2016, arXiv:1605.08803"
    domain_fix = "{kind: elementwise, fn: sigmoid} (or data scaled to [0, 1])"
    examples = (
        Example(
            {"alpha": 0.05},
            (PortInfo((3,), Support(0.0, 1.0, closed_low=True, closed_high=True)),),
            label="closed",
        ),
        Example({}, (PortInfo((3,), Support(0.0, 1.0)),), label="open"),
    )

    def hull(self) -> tuple[float, float]:
        width = 1.0 - 2.0 * self.alpha
        return -self.alpha / width, (1.0 - self.alpha) / width

    def scalar_map(self, v: float) -> float:
        u = self.alpha + (1.0 - 2.0 * self.alpha) * v
        return -math.inf if u <= 0.0 else math.inf if u >= 1.0 else math.log(u / (1.0 - u))

    def end_fix(self) -> str:
        return "set alpha, e.g. 0.05, "

    def check_static(self, check: NodeCheck, *field: str | int) -> None:
        if not (0.0 <= self.alpha < 0.5):
            check.error(
                "E425",
                f"logit needs 0 <= alpha < 0.5, got {self.alpha}",
                *field,
                "alpha",
                hint="alpha squeezes [0, 1] into [alpha, 1 - alpha]; 0.05 is usual for images",
            )

    def build(self) -> LogitTransformer:
        from flowspec.layers.transformers.logit import LogitTransformer

        return LogitTransformer(self.alpha)
