"""Data-dependent initialisation of a compiled model: one entry point for every layer set
from data (actnorm's bias and scale, standardize's mean and std).

``model.initialize(x)`` runs inference on ``x`` once per such layer, in inference order:
each pass stops at the layer being set (it records the values that reach it, chunk by
chunk, and raises :class:`~flowspec.layers._data_init.Recorded`), the layer is set from
their exact per-feature moments, and the next pass sees it set. So every layer is set from
what it receives in the trained model, however large ``x`` is. It runs the literal
per-node code (the optimized ``_log_prob`` gives way while a layer is unset), in eval mode,
without gradients.

Before it, a model says so instead of guessing (:meth:`Initialization._check_initialized`):
``log_prob`` in eval mode raises :class:`UninitializedError` naming the nodes; in training
mode actnorm sets itself from its first batch (Glow); ``standardize``, whose statistics
fix the data's units, refuses every use, ``sample`` included.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

from flowspec.layers._data_init import DataInitialized, Recorded, UninitializedError

__all__ = ["Initialization", "UninitializedError"]


class Initialization(nn.Module):
    """Mixin of :class:`~flowspec.emit.runtime.FlowModel`: its layers set from data."""

    #: The nodes' layers by id (set by ``FlowModel.__init__``).
    nodes: nn.ModuleDict

    if TYPE_CHECKING:  # defined by FlowModel

        def _check_inputs(
            self,
            inputs: tuple[torch.Tensor, ...],
            named: dict[str, torch.Tensor],
            expected: tuple[str, ...] | None = None,
        ) -> int | None: ...

        def _log_prob(self, *inputs: torch.Tensor, **named: torch.Tensor) -> torch.Tensor: ...

    def _register_data_layers(self) -> None:
        """Note every layer set from data, at any depth, in inference order, by name
        (``node`` or ``node.path`` for one inside a node, e.g. in a flow density)."""
        self._data_layers = tuple(
            (f"{node}.{path}".rstrip("."), module)
            for node, layer in self.nodes.items()
            for path, module in layer.named_modules()
            if isinstance(module, DataInitialized) and module.data_init
        )

    def uninitialized(self) -> list[str]:
        """The layers still waiting to be set from data (node ids)."""
        return [name for name, layer in self._data_layers if not layer.is_initialized]

    @torch.no_grad()
    def initialize(self, *inputs: torch.Tensor, **named: torch.Tensor) -> list[str]:
        """Set every layer that takes its numbers from data (actnorm, standardize) from
        ``inputs`` (data, and context for conditional models, as ``log_prob`` takes them):
        typically the whole training split. Each is set from the exact per-feature mean
        and std of the values that reach it, measured in inference order (chunks of 4096
        examples), after the layers before it are set. Layers already set are set again.
        Returns the layers set (node ids); raises ValueError naming the node when its
        values cannot set it (non-finite values, a feature with one value)."""
        batch = self._check_inputs(inputs, named)
        if batch is None:
            raise TypeError("initialize needs the data (and context) to set the layers from")
        for _, layer in self._data_layers:
            layer.mark_initialized(False)
        was_training = self.training
        self.eval()
        try:
            for name, layer in self._data_layers:
                _set_from_passes(self, name, layer, inputs, named, batch)
        finally:
            for _, layer in self._data_layers:
                layer._moments = None
            self.train(was_training)
        return [name for name, _ in self._data_layers]

    def _check_initialized(self, generating: bool = False) -> None:
        """Raise :class:`UninitializedError` naming the layers an evaluation (or, with
        ``generating``, a generation) would use unset."""
        unset = [
            (name, layer)
            for name, layer in self._data_layers
            if not layer.is_initialized
            and not (layer.GENERATES_UNSET and (generating or layer.training))
        ]
        if unset:
            names = ", ".join(f"'{name}' ({type(layer).__name__})" for name, layer in unset)
            sets = "; ".join(
                dict.fromkeys(f"{type(layer).__name__} sets {layer.SETS}" for _, layer in unset)
            )
            use = "sampling" if generating else "log_prob"
            raise UninitializedError(
                f"node(s) {names} have not been set from data, which {use} needs: call "
                "model.initialize(x) with the training data first (flowspec train does it "
                f"from the training split before the first step), or load trained weights "
                f"({sets})"
            )


def _set_from_passes(
    model: Initialization,
    name: str,
    layer: DataInitialized,
    inputs: tuple[torch.Tensor, ...],
    named: dict[str, torch.Tensor],
    batch: int,
    chunk: int = 4096,
) -> None:
    """Record what reaches ``layer`` over every chunk of the inputs, then set it. A layer
    inference never calls (one inside a proposal that only generates) is not used by
    ``log_prob``: it keeps its numbers (actnorm: the identity) and counts as set."""
    layer.record()
    try:
        for start in range(0, batch, chunk):
            part = slice(start, start + chunk)
            try:
                model._log_prob(
                    *(x[part] for x in inputs), **{k: v[part] for k, v in named.items()}
                )
            except Recorded:
                continue
            layer.mark_initialized()
            return
        layer.finish()
    except ValueError as error:
        raise ValueError(f"node '{name}' cannot be set from these data: {error}") from None
