"""The torch contract of an elementwise transformer.

``forward(x, params) -> (z, log_derivative)`` runs the inference direction (data -> latent)
elementwise: ``params`` has shape ``x.shape + (P,)`` (the parameters of each feature on the
last axis) and ``log_derivative`` has the shape of ``x`` (``log |dz_i/dx_i|``; the layer
using the transformer sums the entries it transforms). ``inverse(z, params) -> x`` runs
generation. Transformers whose formulas read each parameter on its own may also offer
``forward_parts(x, params)`` and ``inverse_parts(z, params)`` taking them as a tuple of P
tensors of the shape of ``x``: a coupling called directly by optimized code passes them so
from a conditioner with ``parts`` (no view ops to put them on a last axis and take them
off again). Both are written with static shapes (``torch.where`` and clamping, no boolean
indexing or data-dependent branches) so that ``torch.compile(fullgraph=True)`` captures them.
"""

from __future__ import annotations

from abc import abstractmethod

import torch

from flowspec.core.layer import Layer

__all__ = ["Transformer"]


class Transformer(Layer):
    """An elementwise, strictly monotone map ``z = tau(x; params)``."""

    @abstractmethod
    def forward(self, x: torch.Tensor, params: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(z, log |dz/dx|)``, both of the shape of ``x``."""

    @abstractmethod
    def inverse(self, z: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        """``x`` with ``tau(x; params) = z``."""
