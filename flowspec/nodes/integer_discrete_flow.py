"""Integer discrete flow: additive coupling with rounding, ``z_b = x_b + round(t(x_a))``.

Hoogeboom, Peters, van den Berg and Welling 2019, "Integer Discrete Flows and Lossless
Compression", arXiv:1905.07376. The first half ``x_a`` is kept; the second is shifted by
the rounded output of the network on ``x_a`` (scaled by ``1/K`` when the input has K
levels). The map is a bijection of the integers with zero contribution, so the model is
an exact pmf over all integers (pair it with a ``discretized_logistic`` base). Data with K
levels is a finite set, and so is its image: the base, a pmf over all integers, also puts
mass on integers no data maps to, so the model's mass on the data's domain is below one
(W501 at the base, and the model is classed a lower bound, as for a density on the real
line fed bounded values). Gradients pass the rounding straight-through. The network's last
layer starts at zero (identity).

Example::

    {kind: integer_discrete_flow, net: {kind: mlp, hidden: [128, 128]}}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from flowspec.core.example import Example
from flowspec.core.node import NodeCheck
from flowspec.core.ports import PortInfo, Support
from flowspec.nodes._discrete_coupling import DiscreteCouplingSpec

if TYPE_CHECKING:
    from flowspec.layers.integer_discrete_flow import IntegerDiscreteFlow

__all__ = ["IntegerDiscreteFlowSpec"]


class IntegerDiscreteFlowSpec(DiscreteCouplingSpec):
    """IDF additive coupling on integers; the output may be any integer."""

    kind: Literal["integer_discrete_flow"] = "integer_discrete_flow"
    summary = "integer discrete flow: z_b = x_b + round(t(x_a)), zero volume"
    reference = "Hoogeboom et al. 2019, Integer Discrete Flows, arXiv:1905.07376"

    has_parameters = True
    examples = (
        Example({"net": {"hidden": [8]}}, (PortInfo((4,), Support(levels=5)),), label="levels"),
        Example(
            {"net": {"hidden": [8]}}, (PortInfo((3,), Support(integers=True)),), label="integers"
        ),
    )

    def infer(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None, check: NodeCheck
    ) -> tuple[PortInfo, ...] | None:
        (x,) = inputs
        if not self.check_discrete_input(x, check, need_levels=False):
            return None
        # A bijection of the integers: values with levels (a finite set) stay a finite set.
        confined = x.support.partial or x.support.levels is not None
        return (PortInfo(x.shape, Support(integers=True, partial=confined)),)

    def parameter_count(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> int:
        return self.net.parameter_count(*self.halves(inputs[0]))

    def build(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> IntegerDiscreteFlow:
        from flowspec.layers.integer_discrete_flow import IntegerDiscreteFlow

        x = inputs[0]
        keep, change = self.halves(x)
        scale = 1.0 / x.support.levels if x.support.levels else 1.0
        return IntegerDiscreteFlow(keep, scale, self.net.build(keep, change, zero_init=True))
