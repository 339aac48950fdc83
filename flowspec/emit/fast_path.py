"""What optimized generated code needs at run time (see :mod:`flowspec.optimize`).

The optimized ``_log_prob`` calls each layer's ``forward`` directly and reads features by
folded index sets; it gives way to the literal per-node code whenever that could differ
for the user: a hook registered on a node's module (or globally), or a layer still
waiting for its data-dependent initialisation (actnorm), which must see its input batch
exactly as the spec wires it. Index tables of folded permutations are non-persistent
buffers, so they follow ``.to()`` and never enter a ``state_dict``: a checkpoint loads
into the optimized and the literal model alike.
"""

from __future__ import annotations

from typing import ClassVar

import torch
from torch import nn
from torch.nn.modules import module as _module

__all__ = ["FastPath"]


class FastPath(nn.Module):
    """Mixin of :class:`~flowspec.emit.runtime.FlowModel` for optimized code."""

    #: Set by an optimized generated subclass: buffer name -> index list.
    INDEX_TABLES: ClassVar[dict[str, list[int]]] = {}

    def _register_index_tables(self) -> None:
        """Register the index tables, and note which node modules the check of
        :meth:`_use_literal` looks at (all of them for hooks; those with a data-dependent
        initialisation for that), so that the check costs a few attribute reads."""
        for name, index in self.INDEX_TABLES.items():
            self.register_buffer(name, torch.tensor(index, dtype=torch.long), persistent=False)
        self._hooked = tuple(self.nodes.values())
        self._pending = tuple(m for m in self._hooked if hasattr(m, "is_initialized"))

    def _use_literal(self) -> bool:
        """Whether the literal per-node code must run instead of the optimized one.
        Written out attribute by attribute: it runs on every call of ``log_prob``."""
        if (
            _module._global_forward_hooks
            or _module._global_forward_pre_hooks
            or _module._global_backward_hooks
            or _module._global_backward_pre_hooks
        ):
            return True
        for layer in self._pending:
            if not layer.is_initialized:
                return True
        for layer in self._hooked:
            if (
                layer._forward_hooks
                or layer._forward_pre_hooks
                or layer._backward_hooks
                or layer._backward_pre_hooks
            ):
                return True
        return False

    @staticmethod
    def _join(*parts: torch.Tensor) -> torch.Tensor:
        """Pieces of a value joined along event axis 0."""
        return torch.cat(parts, dim=1)

    @staticmethod
    def _affine_chain(x: torch.Tensor, *layers: nn.Module) -> tuple[torch.Tensor, torch.Tensor]:
        """Adjacent affine maps ``z = s_k (... (s_1 x + t_1) ...) + t_k`` as one
        ``z = S x + T``, composed on their (small) parameters; the summed contribution."""
        scale, shift, log_det = _compose(x, layers)
        return x * scale + shift, log_det * x.new_ones(x.shape[0])

    @staticmethod
    def _affine_chain_inverse(z: torch.Tensor, *layers: nn.Module) -> torch.Tensor:
        """The inverse of :meth:`_affine_chain`: ``x = (z - T) / S``."""
        scale, shift, _ = _compose(z, layers)
        return (z - shift) / scale


def _compose(
    x: torch.Tensor, layers: tuple[nn.Module, ...]
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(S, T, log|det| per sample)`` of the affine maps applied in order."""
    scale, shift, log_det = layers[0].affine(x)
    for layer in layers[1:]:
        s, t, d = layer.affine(x)
        scale, shift, log_det = s * scale, s * shift + t, log_det + d
    return scale, shift, log_det
