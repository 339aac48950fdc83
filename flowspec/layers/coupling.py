"""Torch side of the coupling kinds (:mod:`flowspec.nodes._coupling`)."""

from __future__ import annotations

import torch
from torch import nn

from flowspec.core.layer import FlowLayer
from flowspec.layers._coupling import CheckerboardSplit, MaskedSplit
from flowspec.layers.transformers.base import Transformer

__all__ = ["CouplingLayer"]


class CouplingLayer(FlowLayer):
    """``z = merge(x_a, tau(x_b; conditioner(x_a, context)))``; the contribution is the
    partition's total of the transformer's log-derivatives."""

    #: The submodules :meth:`couple` and :meth:`uncouple` call without ``nn.Module.__call__``
    #: when ``direct`` (optimized code checks that no hooks are registered on them).
    DIRECT = ("conditioner", "transformer")

    def __init__(
        self,
        parts: MaskedSplit | CheckerboardSplit,
        conditioner: nn.Module,
        transformer: Transformer,
    ):
        super().__init__()
        self.parts = parts
        self.conditioner = conditioner
        self.transformer = transformer
        # Called directly, a conditioner with ``parts`` hands a transformer with
        # ``forward_parts`` its parameters as separate tensors (no view ops between them).
        self.by_parts = hasattr(conditioner, "parts") and hasattr(transformer, "forward_parts")

    def couple(
        self,
        a: torch.Tensor,
        b: torch.Tensor,
        context: torch.Tensor | None = None,
        direct: bool = False,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Inference on the parts already split: ``(z_b, contribution)``. Optimized code
        (:mod:`flowspec.optimize`) calls this with parts it took by its own index sets, and
        ``direct``: the conditioner's and transformer's ``forward`` called as methods (their
        ``parts`` and ``forward_parts`` when both have them)."""
        if direct and self.by_parts:
            z_b, log_derivative = self.transformer.forward_parts(b, self.conditioner.parts(a, context))
        else:
            transformer = self.transformer.forward if direct else self.transformer
            z_b, log_derivative = transformer(b, self._params(a, context, direct))
        return z_b, self.parts.total(log_derivative)

    def uncouple(
        self,
        a: torch.Tensor,
        z_b: torch.Tensor,
        context: torch.Tensor | None = None,
        direct: bool = False,
    ) -> torch.Tensor:
        """Generation on the parts already split: ``x_b``."""
        if direct and self.by_parts:
            return self.transformer.inverse_parts(z_b, self.conditioner.parts(a, context))
        return self.transformer.inverse(z_b, self._params(a, context, direct))

    def _params(
        self, a: torch.Tensor, context: torch.Tensor | None, direct: bool = False
    ) -> torch.Tensor | None:
        """The transformer's parameters from the kept part (the conditioner's ``forward``
        called as a method when ``direct``), or None for a fixed map."""
        if not self.transformer.takes_params:
            return None
        return self.conditioner.forward(a, context) if direct else self.conditioner(a, context)

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        a, b = self.parts.split(x)
        z_b, contribution = self.couple(a, b, context)
        return self.parts.merge(a, z_b), contribution

    def inverse(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        a, z_b = self.parts.split(z)
        return self.parts.merge(a, self.uncouple(a, z_b, context))
