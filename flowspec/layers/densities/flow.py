"""Conditional flow density (spec and maths: ``flowspec.densities.flow``)."""

from __future__ import annotations

from typing import cast

import torch
from torch import nn

from flowspec.core.layer import FlowLayer, Layer
from flowspec.layers.conditioners.mlp import MLP
from flowspec.layers.densities.base import Density
from flowspec.layers.densities.gaussian import Gaussian

__all__ = ["FlowDensity"]


class FlowDensity(Density):
    """``log q(v | c) = log base(e | c) + sum of contributions`` with ``e`` the layers'
    inference pass of ``v``; draws run the layers' generation pass on a base draw. The
    layers see the flat context, or with ``hidden`` the base network's last hidden
    features ``h(c)``, computed once and shared with the base's mean and scale."""

    def __init__(self, layers: list[nn.Module], base: Gaussian, hidden: bool = False) -> None:
        Layer.__init__(self)
        self.event_shape = base.event_shape
        self.event_numel = base.event_numel
        self.net = None
        self.layers = nn.ModuleList(layers)
        self.base = base
        self.hidden = hidden

    def _layers(self) -> list[FlowLayer]:
        return [cast(FlowLayer, layer) for layer in self.layers]

    def _prepare(
        self, context: torch.Tensor | None, n: int | None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """The base's mean and standard deviation, and what the layers are conditioned on."""
        flat = None if context is None else context.flatten(1)
        if flat is None or not self.hidden:
            return (*self.base.params(context, n), flat)
        net = cast(MLP, self.base.net)
        features = net.features(flat)
        return (*self.base.split(net.head(features)), features)

    def params(
        self, context: torch.Tensor | None, n: int | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The base Gaussian's mean and standard deviation."""
        mean, scale, _ = self._prepare(context, n)
        return mean, scale

    def log_prob(self, value: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        mean, scale, given = self._prepare(context, value.shape[0])
        total = value.new_zeros(value.shape[0])
        for layer in self.layers:
            value, contribution = layer(value, context=given)
            total = total + contribution
        return total + self.base.log_prob_at(value, mean, scale)

    def sample(self, context: torch.Tensor | None = None, n: int | None = None) -> torch.Tensor:
        mean, scale, given = self._prepare(context, n)
        value = self.base.draw_at(mean, scale)[0]
        for layer in reversed(self._layers()):
            value = layer.inverse(value, context=given)
        return value

    def sample_and_log_prob(
        self, context: torch.Tensor | None = None, n: int | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """A reparameterised draw (the base draw pushed through the layers) and its score,
        accumulated along generation: each layer's contribution at the value it generated
        (its own ``inverse_and_contribution`` where it has one, else inverse then forward)."""
        mean, scale, given = self._prepare(context, n)
        value, log_q = self.base.draw_at(mean, scale)
        for layer in reversed(self._layers()):
            scored = getattr(layer, "inverse_and_contribution", None)
            if scored is not None:
                value, contribution = scored(value, context=given)
            else:
                value = layer.inverse(value, context=given)
                contribution = layer(value, context=given)[1]
            log_q = log_q + contribution
        return value, log_q
