"""The torch contract of an elementwise transformer.

``forward(x, params) -> (z, log_derivative)`` runs the inference direction (data -> latent)
elementwise: ``params`` has shape ``x.shape + (P,)`` (the parameters of each feature on the
last axis) and ``log_derivative`` has the shape of ``x`` (``log |dz_i/dx_i|``; the layer
using the transformer sums the entries it transforms). ``inverse(z, params) -> x`` runs
generation. A transformer with no parameters per feature (the fixed monotone maps) is
called with ``params=None``. Transformers whose formulas read each parameter on its own may
also offer ``forward_parts(x, params)`` and ``inverse_parts(z, params)`` taking them as a
tuple of P tensors of the shape of ``x``: a coupling called directly by optimized code passes
them so from a conditioner with ``parts`` (no view ops to put them on a last axis and take
them off again). Both are written with static shapes (``torch.where`` and clamping, no boolean
indexing or data-dependent branches) so that ``torch.compile(fullgraph=True)`` captures them.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any

import torch

from flowspec.core.layer import Layer

__all__ = ["Transformer", "LinearTransformer"]


class Transformer(Layer):
    """An elementwise, strictly monotone map ``z = tau(x; params)``."""

    #: False for the fixed maps (no parameters per feature): couplings and autoregressive
    #: layers then pass ``params=None`` and never run their conditioner, whose last layer
    #: has no outputs (a convolution with none cannot even run).
    takes_params: bool = True

    # ``params: Any``: a tensor for transformers that take parameters, None for the fixed
    # maps (``takes_params``), which is what subclasses declare.
    @abstractmethod
    def forward(self, x: torch.Tensor, params: Any) -> tuple[torch.Tensor, torch.Tensor]:
        """``(z, log |dz/dx|)``, both of the shape of ``x``."""

    @abstractmethod
    def inverse(self, z: torch.Tensor, params: Any) -> torch.Tensor:
        """``x`` with ``tau(x; params) = z``."""


class LinearTransformer(Transformer):
    """A transformer that is ``z = a x + b`` in ``x``: optimized code composes adjacent
    ones on their parameters (:mod:`flowspec.optimize.affine`)."""

    @abstractmethod
    def scale_shift(self, params: Any) -> tuple[torch.Tensor | float, ...]:
        """``(a, b, log|a|)``, floats or tensors of the shape of ``params`` without its last
        axis."""

    def forward(self, x: torch.Tensor, params: Any) -> tuple[torch.Tensor, torch.Tensor]:
        scale, shift, log_scale = self.scale_shift(params)
        log_derivative = (
            torch.full_like(x, log_scale)
            if isinstance(log_scale, float)
            else (log_scale.expand_as(x))
        )
        return x * scale + shift, log_derivative

    def inverse(self, z: torch.Tensor, params: Any) -> torch.Tensor:
        scale, shift, _ = self.scale_shift(params)
        return (z - shift) / scale
