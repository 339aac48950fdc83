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

__all__ = ["Layer", "FlowLayer", "DistributionLayer", "hook_epoch"]

#: How many hooks any :class:`Layer` has had registered (see :func:`hook_epoch`).
_HOOKS_REGISTERED = [0]


def hook_epoch() -> int:
    """A number that changes whenever a forward or backward hook is registered on any
    :class:`Layer`. Optimized generated code skips ``nn.Module.__call__`` of layers; it
    rescans their hook dictionaries only when this number moved since the last scan found
    none (a hook is only ever removed after one was registered, so while a scan finds
    hooks it scans on every call)."""
    return _HOOKS_REGISTERED[0]


def _counting(register: Any) -> Any:
    @functools.wraps(register)
    def counted(self: nn.Module, *args: Any, **kw: Any) -> Any:
        _HOOKS_REGISTERED[0] += 1
        return register(self, *args, **kw)

    return counted


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

    register_forward_pre_hook = _counting(nn.Module.register_forward_pre_hook)
    register_forward_hook = _counting(nn.Module.register_forward_hook)
    register_full_backward_pre_hook = _counting(nn.Module.register_full_backward_pre_hook)
    register_full_backward_hook = _counting(nn.Module.register_full_backward_hook)
    register_backward_hook = _counting(nn.Module.register_backward_hook)


class FlowLayer(Layer):
    """A non-terminal node's module: ``forward(*inputs, context=None)`` runs inference and
    returns ``(outputs, contribution)``, ``inverse(*outputs, context=None)`` generation.
    Each kind takes its own number of inputs, so both are declared with any signature."""

    forward: Callable[..., Any]
    inverse: Callable[..., Any]


class DistributionLayer(Layer):
    """A terminal node's module: ``forward`` is ``log p(z)``, ``sample`` draws ``z``."""

    @abstractmethod
    def forward(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor: ...

    @abstractmethod
    def sample(self, n: int, context: torch.Tensor | None = None) -> torch.Tensor: ...
