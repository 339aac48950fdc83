"""One contestant of a benchmark: a model with ``log_prob`` and ``sample``, whatever library
built it, plus a note on how its architecture differs from the spec's."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

__all__ = ["Builder", "Contender", "count_parameters"]


@dataclass
class Contender:
    """A model under test. ``log_prob`` maps a batch to per-sample log-densities (the same
    units for every contender of a benchmark); ``sample(n)`` draws ``n`` data points."""

    name: str
    module: nn.Module
    log_prob: Callable[[torch.Tensor], torch.Tensor]
    sample: Callable[[int], torch.Tensor]
    note: str = ""


#: Builds a fresh, untrained contender. Builders import their library themselves, so a
#: memory probe in a fresh process imports only the library it measures.
Builder = Callable[[], Contender]


def count_parameters(module: nn.Module) -> int:
    """Number of trainable scalars."""
    return sum(p.numel() for p in module.parameters() if p.requires_grad)
