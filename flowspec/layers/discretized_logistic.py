"""The discretized logistic base distribution's torch module (spec:
:mod:`flowspec.nodes.discretized_logistic`).

Over all integers (the base of integer discrete flows, Hoogeboom et al. 2019, "Integer
Discrete Flows and Lossless Compression", arXiv:1905.07376) nothing says where the values
lie: the components would start at 0 with scale 1 and their means move about the learning
rate per step, so a prior of pixels in 0..16 spends its first thousand steps walking there.
It is set from data instead, as actnorm is (:mod:`flowspec.layers._data_init`): each
element's components start at the mean and spread of the values that reach it in the
training split (``model.initialize``, which ``flowspec train`` runs), or of the first
training batch in a plain torch loop. Over ``0..K-1`` the middle of the levels is known and
nothing is set.
"""

from __future__ import annotations

import torch
from torch import nn

from flowspec.core.layer import Layer
from flowspec.layers._data_init import DataInitialized, Moments
from flowspec.layers._density_as_base import DensityDistribution
from flowspec.layers.densities.discretized_logistic import DiscretizedLogistic

__all__ = ["ContextNet", "DiscretizedLogisticBase"]


class ContextNet(Layer):
    """A conditioner ``(batch, *context) -> (batch, *values, params)`` as a density's net:
    it takes the flattened context and gives each value's parameters side by side."""

    def __init__(self, conditioner: nn.Module, context_shape: tuple[int, ...]) -> None:
        super().__init__()
        self.conditioner = conditioner
        self.context_shape = tuple(context_shape)

    def forward(self, context: torch.Tensor) -> torch.Tensor:
        shaped = context.view(context.shape[0], *self.context_shape)
        return self.conditioner(shaped).flatten(1)


class DiscretizedLogisticBase(DensityDistribution, DataInitialized):
    """``log p(z | context)`` of a discretized logistic mixture; over all integers its
    components start at the data's per-element mean and spread (:meth:`set_from`)."""

    GENERATES_UNSET = True
    SETS = (
        "its components' means and scales (from the values reaching it; in training mode "
        "from its first batch)"
    )

    def __init__(self, density: DiscretizedLogistic) -> None:
        super().__init__(density)
        over_integers = density.levels is None
        if over_integers:
            density.anchor()
        self._init_data_state(density.event_numel, data_init=over_integers)

    def set_from(self, mean: torch.Tensor, std: torch.Tensor | None) -> None:
        density = self.density
        assert isinstance(density, DiscretizedLogistic)
        density.centre_at(mean, std)

    def unset_input(self, x: torch.Tensor) -> None:
        if self._moments is None and self.training:
            moments = Moments(self.features)
            moments.add(x)
            with torch.no_grad():
                self.set_from(moments.mean, moments.std())
            self.mark_initialized()
        else:
            super().unset_input(x)

    def forward(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        if not self.is_initialized:
            self.unset_input(z.flatten(1))
        return self.density.log_prob(z, context)
