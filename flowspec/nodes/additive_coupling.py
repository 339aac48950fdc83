"""Additive coupling (NICE).

Dinh, Krueger and Bengio, "NICE: Non-linear Independent Components Estimation", ICLR 2015
workshop, arXiv:1410.8516.

Inference: ``z_a = x_a``, ``z_b = x_b + t(x_a)``. The Jacobian is unit triangular, so the
layer preserves volume and its contribution is zero. The conditioner's last layer starts
at zero, so the layer starts as the identity.

Example::

    {kind: additive_coupling, net: {kind: mlp, hidden: [64, 64]}, mask: alternate}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal


from flowspec.core.ports import PortInfo
from flowspec.nodes._coupling import CouplingSpec

if TYPE_CHECKING:
    from flowspec.layers.additive_coupling import AdditiveCoupling

__all__ = ["AdditiveCouplingSpec"]


class AdditiveCouplingSpec(CouplingSpec):
    """Additive coupling layer (NICE): shifts the transformed features given the rest."""

    kind: Literal["additive_coupling"] = "additive_coupling"
    summary = "NICE additive coupling: z_b = x_b + t(x_a), volume preserving"
    reference = (
        "Dinh et al. 2014, NICE: Non-linear Independent Components Estimation, arXiv:1410.8516"
    )
    contribution = "0"
    volume_preserving = True

    def build(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> AdditiveCoupling:
        # One output per transformed feature: its shift t.
        from flowspec.layers.additive_coupling import AdditiveCoupling

        return AdditiveCoupling(*self._conditioner(inputs, context, outputs_per_feature=1))


