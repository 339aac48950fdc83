"""The coupling layer: any elementwise transformer, any conditioner that fits.

Dinh et al. 2014, "NICE", arXiv:1410.8516; Dinh et al. 2016, "Density estimation using
Real NVP", arXiv:1605.08803; Durkan et al. 2019, "Neural Spline Flows", arXiv:1906.04032.

``z_a = x_a``, ``z_b = tau(x_b; theta(x_a, context))``: the mask says which features are
kept (``a``) and which are transformed (``b``). Density and sampling both take one pass,
unless the transformer inverts by iteration (then sampling iterates).

Example::

    - kind: coupling
      mask: alternate
      transformer: {kind: affine, scale_bound: 3.0}
      conditioner: {kind: mlp, hidden: [64, 64]}
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from flowspec.conditioners.base import ConditionerSpec
from flowspec.conditioners.choice import CouplingConditionerChoice
from flowspec.conditioners.mlp import MLPSpec
from flowspec.core.example import Example
from flowspec.core.ports import PortInfo
from flowspec.nodes._coupling import CouplingBase
from flowspec.transformers.affine import AffineSpec
from flowspec.transformers.base import TransformerSpec
from flowspec.transformers.choice import TransformerChoice

__all__ = ["CouplingSpec"]


class CouplingSpec(CouplingBase):
    """A coupling layer with a chosen transformer and conditioner."""

    kind: Literal["coupling"] = "coupling"
    transformer: TransformerChoice = Field(
        default_factory=AffineSpec, description="The elementwise map of the changed features."
    )
    conditioner: CouplingConditionerChoice = Field(
        default_factory=MLPSpec,
        description="The network computing the changed features' parameters from the kept ones.",
    )
    summary = "z_b = tau(x_b; theta(x_a)): any transformer, any conditioner"
    reference = "Dinh et al. 2016, arXiv:1605.08803; Durkan et al. 2019, arXiv:1906.04032"

    has_parameters = True
    examples = (
        Example({"conditioner": {"hidden": [8]}}, (PortInfo((4,)),), label="half"),
        Example(
            {
                "mask": "alternate",
                "transformer": {"kind": "rq_spline", "bins": 4, "bound": 3.0},
                "conditioner": {"hidden": [8]},
            },
            (PortInfo((5,)),),
            PortInfo((2,)),
            label="alternate",
        ),
        Example(
            {"mask": [1, 0, 0, 1], "conditioner": {"hidden": [8]}},
            (PortInfo((4,)),),
            label="explicit",
        ),
        Example(
            {"mask": "checkerboard", "conditioner": {"kind": "conv", "channels": 4}},
            (PortInfo((1, 2, 3)),),
            label="checkerboard",
        ),
        Example(
            {
                "mask": "checkerboard_flipped",
                "conditioner": {"kind": "resnet", "channels": 4, "blocks": 1},
            },
            (PortInfo((2, 2, 2)),),
            PortInfo((1, 2, 2)),
            label="checkerboard_flipped",
        ),
        Example(
            {"mask": "channel", "conditioner": {"kind": "conv", "channels": 4}},
            (PortInfo((2, 2, 2)),),
            label="channel",
        ),
        Example(
            {
                "mask": "channel_flipped",
                "conditioner": {"kind": "resnet", "channels": 4, "blocks": 1},
            },
            (PortInfo((3, 2, 2)),),
            PortInfo((2,)),
            label="channel_flipped",
        ),
        Example(
            {"mask": "columns", "conditioner": {"kind": "conv", "channels": 4}},
            (PortInfo((1, 2, 4)),),
            label="columns",
        ),
        Example(
            {"mask": "columns_flipped", "conditioner": {"kind": "conv", "channels": 4}},
            (PortInfo((2, 2, 2)),),
            PortInfo((1, 2, 1)),
            label="columns_flipped",
        ),
    )

    def parts(self) -> tuple[TransformerSpec, ConditionerSpec]:
        return self.transformer, self.conditioner

    def describe(self) -> dict:
        return {
            "mask": self.mask,
            "transformer": self.transformer.describe(),
            "conditioner": self.conditioner.describe(),
        }
