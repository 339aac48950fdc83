"""The leaky ReLU, ``z = x`` for ``x >= 0`` and ``negative_slope * x`` below.

Strictly monotone for a positive slope, so invertible, unlike the ReLU (Oliva et al. 2018,
"Transformation Autoregressive Networks", arXiv:1801.09819, use it between linear maps).
``log|dz/dx|`` is 0 above zero and ``log negative_slope`` below.

Example::

    {kind: elementwise, fn: leaky_relu, negative_slope: 0.2}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from flowspec.core.example import Example
from flowspec.core.ports import PortInfo
from flowspec.transformers._monotone import FLOAT32_MAX, MonotoneMapSpec, usable_factor

if TYPE_CHECKING:
    from flowspec.core.node import NodeCheck
    from flowspec.layers.transformers.leaky_relu import LeakyReLUTransformer

__all__ = ["LeakyReLUSpec"]


class LeakyReLUSpec(MonotoneMapSpec):
    """``z = x`` above zero, ``negative_slope * x`` below."""

    kind: Literal["leaky_relu"] = "leaky_relu"
    negative_slope: float = Field(default=0.01, description="The slope for negative inputs (> 0).")
    summary = "z = x above 0, negative_slope * x below"
    reference = "Oliva et al. 2018, arXiv:1801.09819"
    examples = (Example({"negative_slope": 0.3}, (PortInfo((3,)),)),)

    def scalar_map(self, v: float) -> float:
        return v if v >= 0 else self.negative_slope * v

    def check_static(self, check: NodeCheck, *field: str | int) -> None:
        if not (self.negative_slope > 0.0 and usable_factor(self.negative_slope)):
            check.error(
                "E424",
                f"leaky_relu needs negative_slope > 0 whose inverse float32 can hold (between "
                f"{1 / FLOAT32_MAX:.3g} and {FLOAT32_MAX:.3g}), got {self.negative_slope} "
                "(slope 0 is relu, which is not invertible; a negative slope is not monotone; "
                "float32 rounds a tinier slope to 0 and a huger one to infinity)",
                *field,
                "negative_slope",
                hint="use a small positive slope such as 0.01",
            )

    def build(self) -> LeakyReLUTransformer:
        from flowspec.layers.transformers.leaky_relu import LeakyReLUTransformer

        return LeakyReLUTransformer(self.negative_slope)
