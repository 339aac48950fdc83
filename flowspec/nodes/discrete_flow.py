"""Discrete flow: a coupling of categorical values, ``z = (mu + sigma x) mod K``.

Tran et al. 2019, "Discrete Flows: Invertible Generative Models of Discrete Data",
arXiv:1905.10347 (bipartite flow). The first half ``x_a`` of an input with values
``0..K-1`` is kept; each element of the second half becomes

    z_b = (mu(x_a) + sigma(x_a) * x_b) mod K,

with the shift ``mu`` in ``0..K-1`` and, when ``scale`` is on, ``sigma`` a unit modulo K (a
number coprime with K, so the map is a bijection with inverse
``x_b = sigma^-1 (z_b - mu) mod K``). Both are the argmax of logits from the network on the
one-hot ``x_a``; gradients pass the argmax straight-through (softmax expectation, with
``temperature``). The contribution is zero: the model stays an exact pmf.

Example::

    {kind: discrete_flow, net: {kind: mlp, hidden: [64]}, scale: true}
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from flowspec.core.example import Example
from flowspec.core.node import NodeCheck
from flowspec.core.ports import PortInfo, Support
from flowspec.nodes._discrete_coupling import DiscreteCouplingSpec

if TYPE_CHECKING:
    from flowspec.layers.discrete_flow import DiscreteFlow

__all__ = ["DiscreteFlowSpec", "units"]


def units(levels: int) -> list[int]:
    """The invertible scales modulo ``levels``: 1..K-1 coprime with K."""
    return [s for s in range(1, levels) if math.gcd(s, levels) == 1] or [1]


class DiscreteFlowSpec(DiscreteCouplingSpec):
    """Tran et al.'s bipartite discrete flow on values 0..K-1 (modular affine coupling)."""

    kind: Literal["discrete_flow"] = "discrete_flow"
    scale: bool = Field(default=False, description="Also multiply by a learned unit modulo K.")
    temperature: float = Field(
        default=1.0,
        gt=0.0,
        le=100.0,
        description="Softmax temperature of the straight-through gradient.",
    )
    summary = "discrete flow: z_b = (mu(x_a) + sigma(x_a) x_b) mod K, zero volume"
    reference = "Tran et al. 2019, Discrete Flows, arXiv:1905.10347"

    has_parameters = True
    examples = (
        Example({"net": {"hidden": [8]}}, (PortInfo((4,), Support(levels=5)),), label="shift"),
        Example(
            {"scale": True, "net": {"hidden": [8]}},
            (PortInfo((3,), Support(levels=6)),),
            label="scale",
        ),
    )

    def infer(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None, check: NodeCheck
    ) -> tuple[PortInfo, ...] | None:
        (x,) = inputs
        return (x,) if self.check_discrete_input(x, check, need_levels=True) else None

    def _widths(self, x: PortInfo) -> tuple[int, int]:
        """The network's input and output widths."""
        levels = x.support.levels
        assert levels is not None
        keep, change = self.halves(x)
        scales = len(units(levels)) if self.scale else 1
        return keep * levels, change * (levels + scales)

    def parameter_count(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> int:
        return self.net.parameter_count(*self._widths(inputs[0]))

    def build(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> DiscreteFlow:
        from flowspec.layers.discrete_flow import DiscreteFlow

        x = inputs[0]
        levels = x.support.levels
        assert levels is not None
        scales = units(levels) if self.scale else [1]
        net = self.net.build(*self._widths(x), zero_init=True)
        return DiscreteFlow(self.halves(x)[0], levels, scales, self.temperature, net)
