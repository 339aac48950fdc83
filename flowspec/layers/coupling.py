"""Torch side of the coupling kinds (:mod:`flowspec.nodes._coupling`)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from flowspec.core.layer import FlowLayer
from flowspec.layers._coupling import CheckerboardSplit, ColumnSplit, MaskedSplit
from flowspec.layers.transformers.base import Transformer

__all__ = ["CouplingLayer"]


class CouplingLayer(FlowLayer):
    """``z = merge(x_a, tau(x_b; conditioner(x_a, context)))`` (Dinh et al. 2016,
    arXiv:1605.08803); the contribution is the partition's total of the transformer's
    log-derivatives.

    :meth:`couple` and :meth:`uncouple` are the coupling on parts already split: generated
    code whose graph passes keep the two parts apart calls them (no split, no merge).
    The conditioner and the transformer run as modules, so hooks on them fire."""

    def __init__(
        self,
        parts: MaskedSplit | CheckerboardSplit | ColumnSplit,
        conditioner: nn.Module,
        transformer: Transformer,
    ) -> None:
        super().__init__()
        self.parts = parts
        self.conditioner = conditioner
        self.transformer = transformer

    def couple(
        self, a: torch.Tensor, b: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Inference on the parts: ``(z_b, contribution)``."""
        # Submodules are read from ``_modules``, where ``self.conditioner`` finds them only
        # after a failed lookup: on CPython 3.11 that builds an AttributeError, which costs
        # as much as a tensor op on small models.
        modules: dict[str, Any] = self._modules
        transformer = modules["transformer"]
        params = modules["conditioner"](a, context) if transformer.takes_params else None
        z_b, log_derivative = transformer(b, params)
        return z_b, modules["parts"].total(log_derivative)

    def uncouple(
        self, a: torch.Tensor, z_b: torch.Tensor, context: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Generation on the parts: ``x_b``."""
        modules: dict[str, Any] = self._modules
        transformer = modules["transformer"]
        params = modules["conditioner"](a, context) if transformer.takes_params else None
        result: torch.Tensor = transformer.inverse(z_b, params)
        return result

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        parts: Any = self._modules["parts"]
        a, b = parts.split(x)
        z_b, contribution = self.couple(a, b, context)
        return parts.merge(a, z_b), contribution

    def rebuild(
        self, z: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """Training that keeps no activations (``train: {memory: invertible}``): the parts
        ``a``, ``b`` of the input rebuilt from ``z`` (leaves that require grad, ``x =
        parts.merge(a, b)``) and inference recomputed from them, ``(a, b, z, contribution)``,
        with one pass of the conditioner for both: the kept part is the same on both
        sides (Gomez et al. 2017, arXiv:1707.04585, section 3). The gradient of ``x`` is
        ``parts.split_adjoint`` of those of ``a`` and ``b``."""
        modules: dict[str, Any] = self._modules
        parts, transformer = modules["parts"], modules["transformer"]
        kept, z_b = parts.split(z)
        a = kept.detach().requires_grad_(True)
        params = modules["conditioner"](a, context) if transformer.takes_params else None
        with torch.no_grad():
            b = transformer.inverse(z_b, None if params is None else params.detach())
        b.requires_grad_(True)
        z_b, log_derivative = transformer(b, params)
        return a, b, parts.merge(a, z_b), parts.total(log_derivative)

    def inverse(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        parts: Any = self._modules["parts"]
        a, z_b = parts.split(z)
        merged: torch.Tensor = parts.merge(a, self.uncouple(a, z_b, context))
        return merged
