"""What optimized generated code needs at run time (see :mod:`flowspec.optimize`).

The optimized ``_log_prob`` and ``_generate`` call layers' methods directly (no
``nn.Module.__call__``) and read features by folded index sets; they give way to the
literal per-node code whenever that could differ for the user: a hook registered globally,
on a node's module or on a submodule whose ``__call__`` the direct methods skip (a
coupling's conditioner and transformer), or a layer still waiting for its data-dependent
initialisation (actnorm), which must see its input batch exactly as the spec wires it.
The check is a few attribute reads per call: hooks on flowspec's layers are counted as
they are registered (:func:`flowspec.core.layer.hook_epoch`), so the hook dicts are
scanned again only after one was. Index tables of folded permutations are non-persistent
buffers, so they follow ``.to()`` and never enter a ``state_dict``: a checkpoint loads
into the optimized and the literal model alike.
"""

from __future__ import annotations

from typing import ClassVar, Protocol

import torch
from torch import nn
from torch.nn.modules import module as _module

from flowspec.core.layer import Layer, hook_epoch

__all__ = ["FastPath"]


class AffineLayer(Protocol):
    """A layer that is an affine map of its input (elementwise linear maps, actnorm)."""

    def affine(self, x: torch.Tensor) -> tuple[torch.Tensor | float, ...]: ...


class FastPath(nn.Module):
    """Mixin of :class:`~flowspec.emit.runtime.FlowModel` for optimized code."""

    #: Set by an optimized generated subclass: buffer name -> index list.
    INDEX_TABLES: ClassVar[dict[str, list[int]]] = {}
    #: The nodes' layers by id (set by ``FlowModel.__init__``).
    nodes: nn.ModuleDict

    def _register_index_tables(self) -> None:
        """Register the index tables, and note which modules the checks of
        :meth:`_use_literal` look at: every module whose ``nn.Module.__call__`` optimized
        code skips (the nodes' layers and the submodules their ``DIRECT`` names) for hooks,
        those with a data-dependent initialisation for that."""
        for name, index in self.INDEX_TABLES.items():
            self.register_buffer(name, torch.tensor(index, dtype=torch.long), persistent=False)
        nodes = tuple(self.nodes.values())
        self._hooked = nodes + tuple(
            getattr(layer, name) for layer in nodes for name in getattr(layer, "DIRECT", ())
        )
        self._pending = tuple(m for m in nodes if hasattr(m, "is_initialized"))
        # Hooks on Layers move hook_epoch(); any other module is scanned on every call.
        self._epoch_tells = all(isinstance(m, Layer) for m in self._hooked)
        self._hook_free_at = -1

    def _use_literal(self) -> bool:
        """Whether the literal per-node code must run instead of the optimized
        ``_log_prob``: a layer waits for its data-dependent initialisation, or hooks."""
        for layer in self._pending:
            if not layer.is_initialized:
                return True
        return self._hooks_registered()

    def _hooks_registered(self) -> bool:
        """Whether a hook is registered globally or on a module whose ``__call__``
        optimized code skips. Runs on every call: the scan of the modules' hook dicts is
        skipped while no hook was registered on a Layer since the last scan found none."""
        if (
            _module._global_forward_hooks
            or _module._global_forward_pre_hooks
            or _module._global_backward_hooks
            or _module._global_backward_pre_hooks
        ):
            return True
        epoch = hook_epoch()
        if epoch == self._hook_free_at:
            return False
        for layer in self._hooked:
            if (
                layer._forward_hooks
                or layer._forward_pre_hooks
                or layer._backward_hooks
                or layer._backward_pre_hooks
            ):
                return True
        if self._epoch_tells and not torch.compiler.is_compiling():
            self._hook_free_at = epoch
        return False

    @staticmethod
    def _join(*parts: torch.Tensor) -> torch.Tensor:
        """Pieces of a value joined along event axis 0."""
        return torch.cat(parts, dim=1)

    @staticmethod
    def _affine_chain(x: torch.Tensor, *layers: AffineLayer) -> tuple[torch.Tensor, torch.Tensor]:
        """Adjacent affine maps ``z = s_k (... (s_1 x + t_1) ...) + t_k`` as one
        ``z = S x + T``, composed on their (small) parameters; the summed contribution."""
        scale, shift, log_det = _compose(x, layers)
        return x * scale + shift, log_det * x.new_ones(x.shape[0])

    @staticmethod
    def _affine_chain_inverse(z: torch.Tensor, *layers: AffineLayer) -> torch.Tensor:
        """The inverse of :meth:`_affine_chain`: ``x = (z - T) / S``."""
        scale, shift, _ = _compose(z, layers)
        return (z - shift) / scale


def _compose(x: torch.Tensor, layers: tuple[AffineLayer, ...]) -> tuple[torch.Tensor | float, ...]:
    """``(S, T, log|det| per sample)`` of the affine maps applied in order (Python floats
    where every map is fixed)."""
    scale, shift, log_det = layers[0].affine(x)
    for layer in layers[1:]:
        s, t, d = layer.affine(x)
        scale, shift, log_det = s * scale, s * shift + t, log_det + d
    return scale, shift, log_det
