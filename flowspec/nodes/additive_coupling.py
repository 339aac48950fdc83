"""Additive coupling (NICE): the coupling layer with an additive transformer.

Dinh, Krueger and Bengio, "NICE: Non-linear Independent Components Estimation", ICLR 2015
workshop, arXiv:1410.8516.

Inference: ``z_a = x_a``, ``z_b = x_b + t(x_a)``. The Jacobian is unit triangular, so the
layer preserves volume and its contribution is zero. The conditioner's last layer starts
at zero, so the layer starts as the identity. The same layer as
``{kind: coupling, transformer: {kind: additive}}``, kept by name.

Example::

    {kind: additive_coupling, net: {kind: mlp, hidden: [64, 64]}, mask: alternate}
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
from flowspec.transformers.additive import AdditiveSpec
from flowspec.transformers.base import TransformerSpec

__all__ = ["AdditiveCouplingSpec"]


class AdditiveCouplingSpec(CouplingBase):
    """Additive coupling layer (NICE): shifts the transformed features given the rest."""

    kind: Literal["additive_coupling"] = "additive_coupling"
    net: CouplingConditionerChoice = Field(
        default_factory=MLPSpec, description="Conditioner network."
    )
    summary = "NICE additive coupling: z_b = x_b + t(x_a), volume preserving"
    reference = (
        "Dinh et al. 2014, NICE: Non-linear Independent Components Estimation, arXiv:1410.8516"
    )
    contribution = "0"
    volume_preserving = True
    conditioner_field: ClassVar[tuple[str, ...]] = ("net",)

    has_parameters = True
    examples = (
        Example({"net": {"hidden": [8]}}, (PortInfo((4,)),)),
        Example(
            {"mask": "alternate", "net": {"hidden": [8]}},
            (PortInfo((5,)),),
            PortInfo((2,)),
            label="context",
        ),
    )

    def parts(self) -> tuple[TransformerSpec, ConditionerSpec]:
        return AdditiveSpec(), self.net
