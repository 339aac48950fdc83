"""Affine coupling (RealNVP): the coupling layer with an affine transformer.

Dinh, Sohl-Dickstein and Bengio, "Density estimation using Real NVP", ICLR 2017,
arXiv:1605.08803.

Inference: ``z_a = x_a``, ``z_b = x_b * exp(s(x_a)) + t(x_a)``, with
``log|det dz/dx| = sum(s)``. The log-scale is soft-bounded, ``s = B tanh(s_raw / B)``,
and the conditioner's last layer starts at zero, so each layer starts as the identity.
The same layer as ``{kind: coupling, transformer: {kind: affine}}``, kept by name.

Example::

    {kind: affine_coupling, net: {kind: mlp, hidden: [64, 64]}, scale_bound: 2.0}
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from flowspec.conditioners.base import ConditionerSpec
from flowspec.conditioners.choice import CouplingConditionerChoice
from flowspec.conditioners.mlp import MLPSpec
from flowspec.core.example import Example
from flowspec.core.ports import PortInfo
from flowspec.nodes._coupling import CouplingBase
from flowspec.transformers.affine import AffineSpec
from flowspec.transformers.base import LogScaleBound, TransformerSpec

__all__ = ["AffineCouplingSpec"]


class AffineCouplingSpec(CouplingBase):
    """Affine coupling layer (RealNVP): scales and shifts half the features given the rest."""

    kind: Literal["affine_coupling"] = "affine_coupling"
    net: CouplingConditionerChoice = Field(
        default_factory=MLPSpec, description="Conditioner network."
    )
    scale_bound: LogScaleBound = Field(
        default=2.0, description="Bound B on the log-scale: s = B * tanh(s_raw / B)."
    )
    summary = "RealNVP affine coupling: z_b = x_b * exp(s(x_a)) + t(x_a)"
    reference = "Dinh et al. 2016, Density estimation using Real NVP, arXiv:1605.08803"
    transformer_field: ClassVar[tuple[str, ...]] = ("scale_bound",)
    conditioner_field: ClassVar[tuple[str, ...]] = ("net",)

    has_parameters = True
    examples = (
        Example({"net": {"hidden": [8]}, "scale_bound": 3.0}, (PortInfo((4,)),), label="flat"),
        Example(
            {"mask": "channel", "net": {"kind": "conv", "channels": 4}},
            (PortInfo((2, 2, 2)),),
            PortInfo((2,)),
            label="image",
        ),
    )

    def parts(self) -> tuple[TransformerSpec, ConditionerSpec]:
        return AffineSpec(scale_bound=self.scale_bound), self.net
