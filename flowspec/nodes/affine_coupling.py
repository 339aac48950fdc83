"""Affine coupling (RealNVP).

Dinh, Sohl-Dickstein and Bengio, "Density estimation using Real NVP", ICLR 2017,
arXiv:1605.08803.

Inference: ``z_a = x_a``, ``z_b = x_b * exp(s(x_a)) + t(x_a)``, with
``log|det dz/dx| = sum(s)``. The log-scale is soft-bounded, ``s = B tanh(s_raw / B)``,
and the conditioner's last layer starts at zero, so each layer starts as the identity.

Example::

    {kind: affine_coupling, net: {kind: mlp, hidden: [64, 64]}, scale_bound: 2.0}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field, PositiveFloat

from flowspec.core.ports import PortInfo
from flowspec.nodes._coupling import CouplingSpec

if TYPE_CHECKING:
    from flowspec.layers.affine_coupling import AffineCoupling

__all__ = ["AffineCouplingSpec"]


class AffineCouplingSpec(CouplingSpec):
    """Affine coupling layer (RealNVP): scales and shifts half the features given the rest."""

    kind: Literal["affine_coupling"] = "affine_coupling"
    scale_bound: PositiveFloat = Field(
        default=2.0, description="Bound B on the log-scale: s = B * tanh(s_raw / B)."
    )
    summary = "RealNVP affine coupling: z_b = x_b * exp(s(x_a)) + t(x_a)"
    reference = "Dinh et al. 2016, Density estimation using Real NVP, arXiv:1605.08803"

    def build(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> AffineCoupling:
        # Two outputs per transformed feature: its raw log-scale and its shift.
        from flowspec.layers.affine_coupling import AffineCoupling

        parts, net = self._conditioner(inputs, context, outputs_per_feature=2)
        return AffineCoupling(parts, net, self.scale_bound)


