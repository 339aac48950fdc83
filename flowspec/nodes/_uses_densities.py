"""Node kinds whose fields hold density parts (decoder, encoder, dequantizer, sign): their
likelihood class is the weakest of their own and their densities' (a decoder that is a flow
of tolerance-exact layers makes an exact slice exact only to a tolerance)."""

from __future__ import annotations

from flowspec.core.node import NodeSpec
from flowspec.core.properties import Likelihood
from flowspec.densities.base import DensitySpec

__all__ = ["UsesDensities"]


class UsesDensities(NodeSpec):
    """A node kind whose fields include density parts (decoder, encoder, dequantizer, sign)."""

    def likelihood(self) -> Likelihood:
        parts = [getattr(self, name, None) for name in type(self).model_fields]
        return max(
            [super().likelihood(), *(p.likelihood() for p in parts if isinstance(p, DensitySpec))]
        )
