"""The torch side of every (conditional) density: parameters from a context, or learned.

A density over one event of shape ``event_shape`` exposes ``params(context)``,
``log_prob(value, context)`` (shape ``(batch,)``) and ``sample(context)``; without a
context, ``n`` says how many draws. ``sample_and_log_prob`` draws and scores in one go
(reparameterised where the density allows it).
"""

from __future__ import annotations

import math
from abc import abstractmethod
from typing import Any

import torch
from torch import nn

from flowspec.core.layer import Layer

__all__ = ["Density"]


class Density(Layer):
    """``p(v | c)`` over an event; ``net`` maps the flat context to ``param_count`` numbers,
    or, when ``net`` is None, the parameters are one learned vector (unconditional)."""

    def __init__(
        self, event_shape: tuple[int, ...], param_count: int, net: nn.Module | None
    ) -> None:
        super().__init__()
        self.event_shape = tuple(event_shape)
        self.event_numel = math.prod(self.event_shape)
        self.net = net
        if net is None:
            self.raw_params = nn.Parameter(torch.zeros(param_count))

    def raw(self, context: torch.Tensor | None, n: int | None = None) -> torch.Tensor:
        """The unconstrained parameters, ``(batch, param_count)``."""
        if self.net is not None:
            if context is None:
                raise ValueError("this density is conditional: it needs a context tensor")
            return self.net(context.flatten(1))
        if n is None:
            if context is None:
                raise ValueError("an unconditional density needs n (how many rows)")
            n = context.shape[0]
        return self.raw_params.expand(n, -1)

    @abstractmethod
    def params(self, context: torch.Tensor | None, n: int | None = None) -> Any:
        """The density's parameters, per context row (or ``n`` rows)."""

    @abstractmethod
    def log_prob(self, value: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        """``log p(value | context)``, shape ``(batch,)``."""

    @abstractmethod
    def sample(self, context: torch.Tensor | None = None, n: int | None = None) -> torch.Tensor:
        """One draw per context row (or ``n`` draws), shape ``(batch, *event)``."""

    def sample_and_log_prob(
        self, context: torch.Tensor | None = None, n: int | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """A draw and its log-density (reparameterised where a subclass can)."""
        value = self.sample(context, n)
        return value, self.log_prob(value, context)

    def _event(self, flat: torch.Tensor) -> torch.Tensor:
        return flat.reshape(flat.shape[0], *self.event_shape)
