"""Base distributions that are a density part used as a terminal node: the categorical and
discretized-logistic bases (their torch module: :mod:`flowspec.layers._density_as_base`).

Such a node's fields are those of its density (``flowspec.densities``); with a ``context``
port it is conditional, otherwise its parameters are learned directly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flowspec.core.node import NodeCheck, NodeSpec
from flowspec.core.ports import PortInfo
from flowspec.densities.base import DensitySpec
from flowspec.nodes._checks import check_fills_integers, check_unused_settings

if TYPE_CHECKING:
    from flowspec.layers._density_as_base import DensityDistribution

__all__ = ["DensityDistributionSpec"]


class DensityDistributionSpec(NodeSpec, DensitySpec):  # type: ignore[misc]  # NodeSpec.describe wins
    """A base distribution given by the density part of the same kind."""

    terminal = True
    accepts_context = True

    def check_static(self, check: NodeCheck) -> None:
        """Without a context the density's parameters are learned directly: a net is unused."""
        if self.context is None:
            check_unused_settings(
                self,
                ("net",),
                f"without a context, the {self.kind} distribution learns its parameters directly",
                check,
                hint="remove 'net', or condition the distribution with 'context: <port>'",
            )

    def infer(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None, check: NodeCheck
    ) -> tuple[PortInfo, ...] | None:
        if not self.check_event(inputs[0], check, "in"):
            return None
        check_fills_integers(inputs[0], check)
        return ()

    def parameter_count(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> int:
        return self.density_parameter_count(inputs[0], context.numel if context is not None else 0)

    # A node's build (ports in), not the density's (an event and a width), which it wraps.
    def build(  # type: ignore[override]
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None
    ) -> DensityDistribution:
        from flowspec.layers._density_as_base import DensityDistribution

        context_features = context.numel if context is not None else 0
        return DensityDistribution(DensitySpec.build(self, inputs[0], context_features))
