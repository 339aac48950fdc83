"""Node kinds whose fields hold density parts (decoder, encoder, dequantizer, sign): their
likelihood class and direction costs follow from their own and their densities'.

A density part is either **scored** (a slice's or VAE's decoder, an abs node's sign: its
``log_prob`` of given values is part of the node's inference, its draws of the node's
generation) or a **proposal** (an augment's or VAE's encoder, a dequantizer: inference
draws from it and scores the draw along its generation direction, and generation does not
use it). So a decoder that is a flow of tolerance-exact layers makes an exact slice exact
only to a tolerance, a decoder whose layers cannot score given values makes the node's
inference unavailable (and is an error, E807: :func:`check_decoder`), and planar layers
in a VAE encoder cost nothing in inference."""

from __future__ import annotations

from typing import ClassVar

from flowspec.core.node import NodeCheck, NodeSpec
from flowspec.core.ports import PortInfo
from flowspec.core.properties import Cost, Costs, Likelihood
from flowspec.densities.base import DensitySpec

__all__ = ["UsesDensities", "check_decoder"]


def check_decoder(density: DensitySpec, event: PortInfo, check: NodeCheck, field: str) -> bool:
    """A decoder scores given values (``log p(x | z)`` of the data), so it must model values
    like ``event`` and compute the density of values it did not draw itself."""
    return density.check_event(event, check, field) and density.check_scoring(check, field)


class UsesDensities(NodeSpec):
    """A node kind whose fields include density parts (decoder, encoder, dequantizer, sign)."""

    #: The fields holding proposal densities (drawn from in inference); the others are scored.
    proposals: ClassVar[tuple[str, ...]] = ()

    def _densities(self, proposals: bool) -> list[tuple[str, DensitySpec]]:
        """The density fields (name, density), proposals or scored ones."""
        return [
            (name, value)
            for name in type(self).model_fields
            if isinstance(value := getattr(self, name, None), DensitySpec)
            and (name in self.proposals) == proposals
        ]

    def likelihood(self) -> Likelihood:
        scored = [density.likelihood() for _, density in self._densities(proposals=False)]
        return max([super().likelihood(), *scored])

    def tolerance(self) -> str | None:
        return next(
            (f"{name}: {t}" for name, d in self._densities(False) if (t := d.tolerance())), None
        )

    def costs(self) -> Costs:
        """Inference scores with the scored densities and draws from the proposals (their
        generation direction); generation draws from the scored densities."""
        own = super().costs()
        scored = [density.costs() for _, density in self._densities(proposals=False)]
        drawn = [density.costs().generation for _, density in self._densities(proposals=True)]
        return Costs(
            max([own.inference, *(c.inference for c in scored), *drawn]),
            max([own.generation, *(c.generation for c in scored)]),
        )

    def inference_remedy(self) -> str:
        for name, density in self._densities(proposals=False):
            if density.costs().inference is Cost.UNAVAILABLE:
                return f"its {name} cannot score given values: {density.inference_remedy()}"
        return super().inference_remedy()
