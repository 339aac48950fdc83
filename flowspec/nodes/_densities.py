"""What kinds with density parts share: their likelihood class is the weakest of their own
and their densities' (a decoder that is a flow of tolerance-exact layers makes an exact
slice exact only to a tolerance), and the checks of a decoder."""

from __future__ import annotations

from flowspec.core.node import NodeCheck, NodeSpec
from flowspec.core.ports import PortInfo
from flowspec.core.properties import Likelihood
from flowspec.densities.base import DensitySpec

__all__ = ["UsesDensities", "check_decoder"]


def check_decoder(density: DensitySpec, event: PortInfo, check: NodeCheck, field: str) -> bool:
    """A decoder scores given values (``log p(x | z)`` of the data), so it must model values
    like ``event`` and compute the density of values it did not draw itself."""
    return density.check_event(event, check, field) and density.check_scoring(check, field)


class UsesDensities(NodeSpec):
    """A node kind whose fields include density parts (decoder, encoder, dequantizer, sign)."""

    def likelihood(self) -> Likelihood:
        parts = [getattr(self, name, None) for name in type(self).model_fields]
        return max(
            [super().likelihood(), *(p.likelihood() for p in parts if isinstance(p, DensitySpec))]
        )
