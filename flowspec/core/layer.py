"""The base of every torch module flowspec builds: it remembers its constructor arguments.

That record is what lets ``flowspec compile --standalone`` write a module that rebuilds the
same tree of layers with nothing but torch (see :mod:`flowspec.emit.standalone`). Layers
take plain constructor arguments (numbers, strings, lists, tuples, other layers), never spec
objects.
"""

from __future__ import annotations

import functools
from abc import abstractmethod
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

__all__ = ["Layer", "FlowLayer", "DistributionLayer"]


class Layer(nn.Module):
    """An ``nn.Module`` whose ``rebuild_args`` are the arguments it was constructed with."""

    #: Classes without an ``__init__`` of their own are rebuilt with no arguments.
    rebuild_args: tuple[tuple[Any, ...], dict[str, Any]] = ((), {})

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is None:
            return

        @functools.wraps(init)
        def recording_init(self: Layer, *args: Any, **kw: Any) -> None:
            init(self, *args, **kw)
            # The outermost __init__ returns last, so a subclass's arguments win over the
            # ones it passed to super().__init__.
            object.__setattr__(self, "rebuild_args", (args, kw))

        cls.__init__ = recording_init  # type: ignore[method-assign,assignment]  # wraps, same signature


class FlowLayer(Layer):
    """A non-terminal node's module: ``forward(*inputs, context=None)`` runs inference and
    returns ``(outputs, contribution)``, ``inverse(*outputs, context=None)`` generation.
    Each kind takes its own number of inputs, so both are declared with any signature."""

    forward: Callable[..., Any]
    inverse: Callable[..., Any]

    #: Set on a stochastic node's layer to keep, in :attr:`proposal_term`, the ``-log q``
    #: term of its next inference passes (``flowspec eval --by-node``; off otherwise).
    keep_proposal_term: bool = False
    #: The ``-log q(z | x)`` part of the last contribution, shape ``(batch,)``: what a
    #: bound pays for its draw (the rest is log-densities and log-dets).
    proposal_term: torch.Tensor | None = None

    def _proposal(self, neg_log_q: torch.Tensor) -> torch.Tensor:
        """``neg_log_q``, this node's ``-log q`` term, kept when :attr:`keep_proposal_term`."""
        if self.keep_proposal_term:
            self.proposal_term = neg_log_q
        return neg_log_q


class DistributionLayer(Layer):
    """A terminal node's module: ``forward`` is ``log p(z)``, ``sample`` draws ``z``."""

    @abstractmethod
    def forward(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor: ...

    @abstractmethod
    def sample(self, n: int, context: torch.Tensor | None = None) -> torch.Tensor: ...
