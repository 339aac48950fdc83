"""Conditional flow density (spec and maths: ``flowspec.densities.flow``)."""

from __future__ import annotations

from typing import cast

import torch
from torch import nn

from flowspec.core.layer import FlowLayer, Layer
from flowspec.layers.densities.base import Density
from flowspec.layers.densities.gaussian import Gaussian

__all__ = ["FlowDensity"]


class FlowDensity(Density):
    """``log q(v | c) = log base(e | c) + sum of contributions`` with ``e`` the layers'
    inference pass of ``v``; draws run the layers' generation pass on a base draw."""

    def __init__(self, layers: list[nn.Module], base: Gaussian) -> None:
        Layer.__init__(self)
        self.event_shape = base.event_shape
        self.event_numel = base.event_numel
        self.net = None
        self.layers = nn.ModuleList(layers)
        self.base = base

    def _layers(self) -> list[FlowLayer]:
        return [cast(FlowLayer, layer) for layer in self.layers]

    def params(
        self, context: torch.Tensor | None, n: int | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The base Gaussian's mean and standard deviation."""
        return self.base.params(context, n)

    @staticmethod
    def _flat(context: torch.Tensor | None) -> torch.Tensor | None:
        return None if context is None else context.flatten(1)

    def log_prob(self, value: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        flat = self._flat(context)
        total = value.new_zeros(value.shape[0])
        for layer in self.layers:
            value, contribution = layer(value, context=flat)
            total = total + contribution
        return total + self.base.log_prob(value, context)

    def sample(self, context: torch.Tensor | None = None, n: int | None = None) -> torch.Tensor:
        flat = self._flat(context)
        value = self.base.sample(context, n)
        for layer in reversed(self._layers()):
            value = layer.inverse(value, context=flat)
        return value

    def sample_and_log_prob(
        self, context: torch.Tensor | None = None, n: int | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """A reparameterised draw (the base draw pushed through the layers) and its score,
        accumulated along generation: each layer's contribution at the value it generated
        (its own ``inverse_and_contribution`` where it has one, else inverse then forward)."""
        flat = self._flat(context)
        value, log_q = self.base.sample_and_log_prob(context, n)
        for layer in reversed(self._layers()):
            scored = getattr(layer, "inverse_and_contribution", None)
            if scored is not None:
                value, contribution = scored(value, context=flat)
            else:
                value = layer.inverse(value, context=flat)
                contribution = layer(value, context=flat)[1]
            log_q = log_q + contribution
        return value, log_q
