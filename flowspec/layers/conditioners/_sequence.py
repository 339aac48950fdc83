"""The shared torch side of the sequence conditioners (rnn, causal_transformer): flatten the
features, flip them for the reversed order, run the network on the sequence, and lay the
parameters out as ``(batch, *shape, params)``."""

from __future__ import annotations

from abc import abstractmethod

import torch

from flowspec.core.layer import Layer

__all__ = ["SequenceConditioner"]


class SequenceConditioner(Layer):
    """``(x, context) -> (batch, *shape, params)``; feature ``i``'s parameters depend only on
    the features before it in the sequence (natural or reversed order)."""

    def __init__(self, shape: list[int], reverse: bool) -> None:
        super().__init__()
        self.shape = tuple(shape)
        self.reverse = reverse

    @abstractmethod
    def run(self, sequence: torch.Tensor, context: torch.Tensor | None) -> torch.Tensor:
        """``(batch, D) -> (batch, D, params)``, output ``i`` depending on inputs ``< i``."""

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        sequence = x.flatten(1)
        if self.reverse:
            sequence = sequence.flip(1)
        params = self.run(sequence, context)
        if self.reverse:
            params = params.flip(1)
        return params.view(x.shape[0], *self.shape, params.shape[-1])
