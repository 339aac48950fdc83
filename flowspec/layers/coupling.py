"""Torch side of the coupling kinds (:mod:`flowspec.nodes._coupling`)."""

from __future__ import annotations

from typing import Any

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
    ) -> None:
        super().__init__()
        self.parts = parts
        self.conditioner = conditioner
        self.transformer = transformer

    def __setattr__(self, name: str, value: Any) -> None:
        super().__setattr__(name, value)
        if name in self.DIRECT:
            # Called directly, a conditioner with ``parts`` hands a transformer with
            # ``forward_parts`` its parameters as separate tensors (no view ops between
            # them); kept in step when either is reassigned.
            modules = self._modules
            object.__setattr__(
                self,
                "by_parts",
                hasattr(modules.get("conditioner"), "parts")
                and hasattr(modules.get("transformer"), "forward_parts"),
            )

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
        if direct:
            conditioner, transformer, parts = self._direct_modules()
            if self.by_parts:
                z_b, log_derivative = transformer.forward_parts(b, conditioner.parts(a, context))
            else:
                params = conditioner.forward(a, context) if transformer.takes_params else None
                z_b, log_derivative = transformer.forward(b, params)
            return z_b, parts.total(log_derivative)
        z_b, log_derivative = self.transformer(b, self._params(a, context))
        return z_b, self.parts.total(log_derivative)

    def uncouple(
        self,
        a: torch.Tensor,
        z_b: torch.Tensor,
        context: torch.Tensor | None = None,
        direct: bool = False,
    ) -> torch.Tensor:
        """Generation on the parts already split: ``x_b``."""
        if direct:
            conditioner, transformer, _ = self._direct_modules()
            if self.by_parts:
                return transformer.inverse_parts(z_b, conditioner.parts(a, context))
            params = conditioner.forward(a, context) if transformer.takes_params else None
            return transformer.inverse(z_b, params)
        return self.transformer.inverse(z_b, self._params(a, context))

    def _direct_modules(self) -> tuple[Any, Any, Any]:
        """The conditioner, transformer and partition, read from ``_modules``: an attribute
        read goes through ``nn.Module.__getattr__`` only after missing the instance dict,
        which builds and drops an AttributeError message each time (profile: a few
        percent of a small model's call). ``_modules`` is what ``__getattr__`` reads, so
        reassigned submodules, ``.to()``, copies and torch.compile see the same modules."""
        modules = self._modules
        return modules["conditioner"], modules["transformer"], modules["parts"]

    def _params(self, a: torch.Tensor, context: torch.Tensor | None) -> torch.Tensor | None:
        """The transformer's parameters from the kept part, or None for a fixed map."""
        if not self.transformer.takes_params:
            return None
        return self.conditioner(a, context)

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None, direct: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``direct`` as in :meth:`couple` (optimized code passes it for the couplings it
        does not split itself: checkerboard masks)."""
        parts: Any = self._modules["parts"] if direct else self.parts
        a, b = parts.split(x)
        z_b, contribution = self.couple(a, b, context, direct)
        return parts.merge(a, z_b), contribution

    def inverse(
        self, z: torch.Tensor, context: torch.Tensor | None = None, direct: bool = False
    ) -> torch.Tensor:
        parts: Any = self._modules["parts"] if direct else self.parts
        a, z_b = parts.split(z)
        return parts.merge(a, self.uncouple(a, z_b, context, direct))
