"""The torch module of the ``elementwise`` node (spec, shape rule and checks:
:mod:`flowspec.nodes.elementwise`): a transformer applied to every element, its parameters
either none (the fixed monotone maps of :mod:`flowspec.layers.transformers`) or learned per
feature."""

from __future__ import annotations

from typing import Any, cast

import torch
from torch import nn

from flowspec.core.layer import FlowLayer
from flowspec.layers.transformers.base import LinearTransformer, Transformer

__all__ = ["Elementwise"]


class Elementwise(FlowLayer):
    """``z = tau(x; theta)`` elementwise; the contribution sums ``log|tau'|`` per sample.

    With ``params > 0``, ``theta`` is a parameter of shape ``(*shape, params)``: one set per
    feature, shared by every sample (zuko's unconditional transforms), starting at zero,
    which every transformer's parameterisation maps to (or near) the identity."""

    def __init__(
        self, transformer: Transformer, shape: list[int] | None = None, params: int = 0
    ) -> None:
        super().__init__()
        self.transformer = transformer
        self.params = nn.Parameter(torch.zeros(*(shape or []), params)) if params else None
        self.register_load_state_dict_pre_hook(Elementwise._move_own_parameters)

    @staticmethod
    def _move_own_parameters(module: nn.Module, state_dict: dict, prefix: str, *args: Any) -> None:
        """Checkpoints written before the maps became transformers kept a learnable
        scale_shift's ``log_scale`` and ``shift`` on this module: move them to the
        transformer, which holds them now."""
        for name in ("log_scale", "shift"):
            if prefix + name in state_dict:
                state_dict[f"{prefix}transformer.{name}"] = state_dict.pop(prefix + name)

    def _theta(self, x: torch.Tensor) -> torch.Tensor | None:
        """The parameters for every sample of ``x`` (a view, no copy)."""
        return None if self.params is None else self.params.expand(x.shape[0], *self.params.shape)

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        z, log_derivative = self.transformer(x, self._theta(x))
        return z, log_derivative.reshape(x.shape[0], -1).sum(1)

    def inverse(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        return self.transformer.inverse(z, self._theta(z))

    def affine(self, x: torch.Tensor) -> tuple[torch.Tensor | float, ...]:
        """``(scale, shift, log|det| per sample)`` of ``z = scale * x + shift`` for inputs
        shaped like ``x`` (Python floats when fixed), for a linear transformer (``LinearTransformer``) only: what
        optimized code composes adjacent affine maps from."""
        scale, shift, log_scale = cast(LinearTransformer, self.transformer).scale_shift(self.params)
        if isinstance(log_scale, float):
            return scale, shift, log_scale * x[0].numel()
        return scale, shift, log_scale.expand(x.shape[1:]).sum()
