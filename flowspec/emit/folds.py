"""What generated code of folded operations (:mod:`flowspec.optimize`) calls at run time.

Index tables of folded permutations are non-persistent buffers, so they follow ``.to()``
and never enter a ``state_dict``: a checkpoint loads into the optimized and the literal
model alike. Composed affine maps read each layer's ``affine`` (``z = scale * x + shift``)
and are applied as one.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn

__all__ = ["Folds"]


class Folds(nn.Module):
    """Mixin of :class:`~flowspec.emit.runtime.FlowModel`: the helpers of folded code."""

    #: Set by a generated subclass whose code gathers features: buffer name -> index list.
    INDEX_TABLES: ClassVar[dict[str, list[int]]] = {}

    def _register_index_tables(self) -> None:
        for name, index in self.INDEX_TABLES.items():
            self.register_buffer(name, torch.tensor(index, dtype=torch.long), persistent=False)

    @staticmethod
    def _join(*parts: torch.Tensor) -> torch.Tensor:
        """Pieces of a value joined along event axis 0."""
        return torch.cat(parts, dim=1)

    @staticmethod
    def _affine_chain(x: torch.Tensor, *layers: nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
        """Adjacent affine maps ``z = s_k (... (s_1 x + t_1) ...) + t_k`` as one
        ``z = S x + T``, composed on their (small) parameters; the summed contribution."""
        scale, shift, log_det = _compose(x, layers, initialise=True)
        return x * scale + shift, log_det * x.new_ones(x.shape[0])

    @staticmethod
    def _affine_chain_inverse(z: torch.Tensor, *layers: nn.Module) -> torch.Tensor:
        """The inverse of :meth:`_affine_chain`: ``x = (z - T) / S``."""
        scale, shift, _ = _compose(z, layers, initialise=False)
        return (z - shift) / scale


def _compose(
    x: torch.Tensor, layers: tuple[nn.Module, ...], initialise: bool
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(S, T, log|det| per sample)`` of the affine maps applied in order. In inference
    (``initialise``), a layer still waiting for its data-dependent initialisation (actnorm
    before its first batch) first runs once on its own input: the maps before it applied to
    ``x``, as the literal code would have given it."""
    composed: tuple | None = None
    for layer in layers:
        if initialise and not getattr(layer, "is_initialized", True):
            layer(x if composed is None else x * composed[0] + composed[1])
        s, t, d = layer.affine(x)
        if composed is None:
            composed = s, t, d
        else:
            scale, shift, log_det = composed
            composed = s * scale, s * shift + t, log_det + d
    return composed
