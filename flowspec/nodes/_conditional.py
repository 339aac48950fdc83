"""A conditional diagonal Gaussian density, shared by the slice decoder, the augment
encoder and the ``conditional_normal`` base distribution.

SurVAE flows (Nielsen et al. 2020, arXiv:2007.02731) model what a surjection drops, or
what an augmentation adds, with a conditional density; VFlow (Chen et al. 2020,
arXiv:2002.09741) uses the same kind of density as its augmentation encoder. Here it is

    p(v | c) = N(v; mu(c), diag sigma(c)^2)

with ``mu`` and the pre-activation of ``sigma`` both given by one conditioner network that
maps the flattened context to ``2 * numel(event)`` features. The scale is

    sigma = min_scale + softplus(raw + b),   b = log(exp(1 - min_scale) - 1),

so ``sigma >= min_scale`` always (no collapse to a point mass, no overflow as with
``exp``) and, because the network's last layer starts at zero, ``sigma = 1`` and ``mu = 0``
at initialisation: the density starts as N(0, I) whatever the context.

Example (the field of a kind that uses it)::

    decoder: {net: {kind: mlp, hidden: [64, 64]}, min_scale: 0.001}
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from flowspec.conditioners.choice import NetChoice
from flowspec.conditioners.mlp import MLPSpec
from flowspec.core.ports import numel

if TYPE_CHECKING:
    from flowspec.layers._conditional import ConditionalDiagonalNormal

__all__ = ["ConditionalNormalParams"]


class ConditionalNormalParams(BaseModel):
    """Settings of a conditional diagonal Gaussian N(mu(c), diag sigma(c)^2)."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, allow_inf_nan=False)

    net: NetChoice = Field(
        default_factory=MLPSpec,
        description="Network from the flattened context to the mean and scale of every "
        "element of the event (its last layer starts at zero: the density starts at N(0, I)).",
    )
    min_scale: float = Field(
        default=1e-3,
        gt=0.0,
        lt=1.0,
        description="Floor of the standard deviation: sigma = min_scale + softplus(.), "
        "so sigma never falls below it.",
    )

    def density_parameter_count(
        self, context_features: int, event_shape: tuple[int, ...]
    ) -> int:
        """The parameters of :meth:`build_density`'s network."""
        return self.net.parameter_count(context_features, 2 * numel(event_shape))

    def build_density(
        self, context_features: int, event_shape: tuple[int, ...]
    ) -> "ConditionalDiagonalNormal":
        from flowspec.layers._conditional import ConditionalDiagonalNormal

        net = self.net.build(context_features, 2 * numel(event_shape), zero_init=True)
        return ConditionalDiagonalNormal(event_shape, net, self.min_scale)


