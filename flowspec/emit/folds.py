"""What generated code of folded operations (:mod:`flowspec.optimize`) calls at run time.

Index tables of folded permutations are non-persistent buffers, so they follow ``.to()``
and never enter a ``state_dict``: a checkpoint loads into the optimized and the literal
model alike. Composed affine maps read each layer's ``affine`` (``z = scale * x + shift``)
and are applied as one.
"""

from __future__ import annotations

from typing import ClassVar, Protocol

import torch
from torch import nn

__all__ = ["AffineLayer", "Folds"]


class AffineLayer(Protocol):
    """A layer that is an affine map of its input (elementwise linear maps, actnorm)."""

    def affine(self, x: torch.Tensor) -> tuple[torch.Tensor | float, ...]: ...


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
    def _affine_chain(x: torch.Tensor, *layers: AffineLayer) -> tuple[torch.Tensor, torch.Tensor]:
        """Adjacent affine maps ``z = s_k (... (s_1 x + t_1) ...) + t_k`` as one
        ``z = S x + T``, composed on their (small) parameters; the summed contribution."""
        scale, shift, log_det = _compose(x, layers, initialise=True)
        return x * scale + shift, log_det * x.new_ones(x.shape[0])

    @staticmethod
    def _affine_chain_inverse(z: torch.Tensor, *layers: AffineLayer) -> torch.Tensor:
        """The inverse of :meth:`_affine_chain`: ``x = (z - T) / S``."""
        scale, shift, _ = _compose(z, layers, initialise=False)
        return (z - shift) / scale


def _compose(
    x: torch.Tensor, layers: tuple[AffineLayer, ...], initialise: bool
) -> tuple[torch.Tensor | float, ...]:
    """``(S, T, log|det| per sample)`` of the affine maps applied in order (Python floats
    where every map is fixed). In inference (``initialise``), a layer not yet set from data
    (actnorm) first runs once as a module on its own input, the maps before it applied to
    ``x``, as the literal code would have given it: it sets itself from that batch in
    training mode, or records it for ``FlowModel.initialize``."""
    scale, shift, log_det = _affine_of(layers[0], x, x, initialise)
    for layer in layers[1:]:
        s, t, d = _affine_of(layer, x, (scale, shift), initialise)
        scale, shift, log_det = s * scale, s * shift + t, log_det + d
    return scale, shift, log_det


def _affine_of(
    layer: AffineLayer,
    x: torch.Tensor,
    before: torch.Tensor | tuple[torch.Tensor | float, ...],
    initialise: bool,
) -> tuple[torch.Tensor | float, ...]:
    """``layer``'s affine map, run first on its input (``before``: that input, or the
    composed map of the layers before it) when it waits to be set from data."""
    if initialise and not getattr(layer, "is_initialized", True):
        assert isinstance(layer, nn.Module), "a layer set from data is a module"
        if isinstance(before, tuple):
            before = x * before[0] + before[1]
        layer(before)
    return layer.affine(x)
