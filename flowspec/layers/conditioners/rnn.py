"""Torch side of :mod:`flowspec.conditioners.rnn` (a GRU, Cho et al. 2014, arXiv:1406.1078)."""

from __future__ import annotations

import torch
from torch import nn

from flowspec.layers.conditioners._sequence import SequenceConditioner

__all__ = ["RNNConditioner"]


class RNNConditioner(SequenceConditioner):
    """A GRU cell unrolled over the features: state ``h_i`` has read ``x_<i``."""

    def __init__(
        self, shape: list[int], reverse: bool, hidden: int, params: int, context: int
    ) -> None:
        super().__init__(shape, reverse)
        self.input_gates = nn.Linear(1, 3 * hidden)
        self.state_gates = nn.Linear(hidden, 3 * hidden)
        self.initial = nn.Linear(context, hidden) if context else None
        self.hidden = hidden
        self.out = nn.Linear(hidden, params)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def _step(self, value: torch.Tensor, state: torch.Tensor) -> torch.Tensor:
        reset_in, update_in, new_in = self.input_gates(value).chunk(3, dim=-1)
        reset_h, update_h, new_h = self.state_gates(state).chunk(3, dim=-1)
        reset = torch.sigmoid(reset_in + reset_h)
        update = torch.sigmoid(update_in + update_h)
        candidate = torch.tanh(new_in + reset * new_h)
        return (1 - update) * candidate + update * state

    def run(self, sequence: torch.Tensor, context: torch.Tensor | None) -> torch.Tensor:
        if self.initial is not None and context is not None:
            state = torch.tanh(self.initial(context))
        else:
            state = sequence.new_zeros(sequence.shape[0], self.hidden)
        states = [state]
        for i in range(sequence.shape[1] - 1):
            state = self._step(sequence[:, i : i + 1], state)
            states.append(state)
        return self.out(torch.stack(states, dim=1))
