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
    inference pass of ``v``; draws run the layers' generation pass on a base draw. With
    ``draw_forward`` the other way round: draws run the layers' inference passes in order
    (``log q = log base(e) - contributions``), scoring a given ``v`` their generation
    passes. The layers see the flat context, or with ``hidden`` the base network's last
    hidden features ``h(c)``, computed once and shared with the base's mean and scale."""

    def __init__(
        self,
        layers: list[nn.Module],
        base: Gaussian,
        hidden: bool = False,
        draw_forward: bool = False,
    ) -> None:
        Layer.__init__(self)
        self.event_shape = base.event_shape
        self.event_numel = base.event_numel
        self.net = None
        self.layers = nn.ModuleList(layers)
        self.base = base
        self.hidden = hidden
        self.draw_forward = draw_forward

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

    def _forward(
        self, value: torch.Tensor, given: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Every layer's inference pass in order, and the sum of their contributions."""
        total = value.new_zeros(value.shape[0])
        for layer in self.layers:
            value, contribution = layer(value, context=given)
            total = total + contribution
        return value, total

    def _backward(
        self, value: torch.Tensor, given: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Every layer's generation pass in reverse order, and the sum of their
        contributions at the values generated (each layer's own
        ``inverse_and_contribution`` where it has one, else inverse then forward)."""
        total = value.new_zeros(value.shape[0])
        for layer in reversed(self._layers()):
            scored = getattr(layer, "inverse_and_contribution", None)
            if scored is not None:
                value, contribution = scored(value, context=given)
            else:
                value = layer.inverse(value, context=given)
                contribution = layer(value, context=given)[1]
            total = total + contribution
        return value, total

    def log_prob(self, value: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        mean, scale, given = self._prepare(context, value.shape[0])
        if self.draw_forward:
            base_value, total = self._backward(value, given)
            return self.base.log_prob_at(base_value, mean, scale) - total
        base_value, total = self._forward(value, given)
        return total + self.base.log_prob_at(base_value, mean, scale)

    def sample(self, context: torch.Tensor | None = None, n: int | None = None) -> torch.Tensor:
        mean, scale, given = self._prepare(context, n)
        value = self.base.draw_at(mean, scale)[0]
        if self.draw_forward:
            for layer in self.layers:
                value = layer(value, context=given)[0]
            return value
        for layer in reversed(self._layers()):
            value = layer.inverse(value, context=given)
        return value

    def sample_and_log_prob(
        self, context: torch.Tensor | None = None, n: int | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """A reparameterised draw (the base draw pushed through the layers) and its score,
        accumulated along the pass that draws."""
        mean, scale, given = self._prepare(context, n)
        value, log_q = self.base.draw_at(mean, scale)
        if self.draw_forward:
            value, total = self._forward(value, given)
            return value, log_q - total
        value, total = self._backward(value, given)
        return value, log_q + total
