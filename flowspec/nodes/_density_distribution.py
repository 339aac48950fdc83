"""Terminal nodes that are a density part: the categorical and discretized-logistic bases.

Such a node's fields are those of its density (``flowspec.densities``); with a ``context``
port it is conditional, otherwise its parameters are learned directly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowspec.core.node import NodeCheck, NodeSpec
from flowspec.core.ports import PortInfo
from flowspec.densities.base import DensitySpec

if TYPE_CHECKING:
    from flowspec.layers._density_distribution import DensityDistribution

__all__ = ["DensityDistributionSpec"]


class DensityDistributionSpec(NodeSpec, DensitySpec):  # type: ignore[misc]  # NodeSpec.describe wins
    """A base distribution given by the density part of the same kind."""

    terminal = True
    accepts_context = True

    def infer(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None, check: NodeCheck
    ) -> tuple[PortInfo, ...] | None:
        if not self.check_event(inputs[0], check, "in"):
            return None
        return ()

    def parameter_count(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> int:
        return self.density_parameter_count(inputs[0], context.numel if context is not None else 0)

    # A node's build (ports in), not the density's (an event and a width), which it wraps.
    def build(  # type: ignore[override]
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None
    ) -> DensityDistribution:
        from flowspec.layers._density_distribution import DensityDistribution

        context_features = context.numel if context is not None else 0
        return DensityDistribution(DensitySpec.build(self, inputs[0], context_features))
