"""The base class of every generated flow module.

Generated code supplies straight-line methods: ``_log_prob`` and ``_inference`` (data ->
latents, the running total only, or with every node's contribution; both are written
from the same node list) and ``_generate`` (latents -> data). This base class turns them
into the public API: ``log_prob``, ``trace``, ``sample`` and ``iwbo``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar

import torch
from torch import nn

from flowspec.emit.fast_path import FastPath

__all__ = ["FlowModel", "Trace"]


@dataclass
class Trace:
    """One inference pass: the total, each node's contribution and each terminal's latent.

    ``log_prob == sum(contributions.values())`` (distributions' log-densities included).
    """

    log_prob: torch.Tensor
    contributions: dict[str, torch.Tensor]
    latents: dict[str, torch.Tensor]


class FlowModel(FastPath):
    """A compiled flow. ``log_prob(x)`` is exact when ``exact`` is True, else a lower bound
    (an ELBO from one draw of every stochastic node; see :meth:`iwbo` for tighter ones)."""

    #: Set by the generated subclass.
    EXACT: ClassVar[bool]
    DATA_INPUTS: ClassVar[tuple[str, ...]]
    CONTEXT_INPUTS: ClassVar[tuple[str, ...]]
    INPUT_SHAPES: ClassVar[dict[str, tuple[int, ...]]]
    SPEC_NAME: ClassVar[str]

    def __init__(self, nodes: dict[str, nn.Module]):
        super().__init__()
        self.nodes = nn.ModuleDict(nodes)
        self._register_index_tables()

    @property
    def exact(self) -> bool:
        return self.EXACT

    def forward(self, *inputs: torch.Tensor, **named: torch.Tensor) -> torch.Tensor:
        return self.log_prob(*inputs, **named)

    def log_prob(self, *inputs: torch.Tensor, **named: torch.Tensor) -> torch.Tensor:
        """``log p(x)``, shape ``(batch,)``: exact, or a one-sample lower bound."""
        self._check_inputs(inputs, named)
        return self._log_prob(*inputs, **named)

    def trace(self, *inputs: torch.Tensor, **named: torch.Tensor) -> Trace:
        """The latents and every node's contribution for an input."""
        self._check_inputs(inputs, named)
        return Trace(*self._inference(*inputs, **named))

    def sample(self, n: int, **context: torch.Tensor) -> Any:
        """``n`` draws from the model: a tensor, or a dict when there are several data inputs.
        A conditional model takes its context inputs by name, one row per draw."""
        if isinstance(n, bool) or not isinstance(n, (int, torch.SymInt)) or n < 0:
            raise ValueError(f"n must be a whole number >= 0, got {n!r}")
        batch = self._check_inputs((), context, self.CONTEXT_INPUTS)
        if batch is not None and batch != n:
            raise ValueError(f"n ({n}) must equal the number of context rows ({batch})")
        return self._generate(n, **context)

    def _check_inputs(
        self,
        inputs: tuple[torch.Tensor, ...],
        named: dict[str, torch.Tensor],
        expected: tuple[str, ...] | None = None,
    ) -> int | None:
        """Each expected input given once, as a tensor of shape ``(batch, *event)`` with the
        spec's event shape and one batch size for all; that batch size (None if none)."""
        expected = expected if expected is not None else self.DATA_INPUTS + self.CONTEXT_INPUTS
        if len(inputs) > len(expected):
            raise TypeError(
                f"this model takes {len(expected)} inputs ({', '.join(expected)}), "
                f"got {len(inputs)} by position"
            )
        given = dict(zip(expected, inputs))
        for name, value in named.items():
            if name not in expected:
                raise TypeError(f"unexpected input {name!r}; this model takes {', '.join(expected)}")
            if name in given:
                raise TypeError(f"input {name!r} is given twice, by position and by name")
            given[name] = value
        batches = []  # a list: under torch.export batch sizes are symbolic, not hashable
        for name in expected:
            value = given.get(name)
            if not isinstance(value, torch.Tensor):
                raise TypeError(f"input {name!r} must be a tensor, got {type(value).__name__}")
            event = self.INPUT_SHAPES[name]
            if value.dim() != len(event) + 1 or tuple(value.shape[1:]) != event or value.shape[0] == 0:
                raise ValueError(
                    f"input {name!r} must have shape (batch, {', '.join(map(str, event))}) "
                    f"with batch >= 1, got {tuple(value.shape)}"
                )
            batches.append(value.shape[0])
        if any(batch != batches[0] for batch in batches[1:]):
            sizes = ", ".join(f"{name}: {given[name].shape[0]}" for name in expected)
            raise ValueError(f"inputs must share one batch size, got {sizes}")
        return batches[0] if batches else None

    def iwbo(self, *inputs: torch.Tensor, k: int = 16, **named: torch.Tensor) -> torch.Tensor:
        """Importance-weighted bound ``log mean_k exp(bound_k)`` (Burda et al. 2016,
        arXiv:1509.00519): tighter as ``k`` grows, equal to ``log_prob`` for exact models."""
        if isinstance(k, bool) or not isinstance(k, int) or k < 1:
            raise ValueError(f"k must be a whole number >= 1, got {k!r}")
        if self.EXACT:
            return self.log_prob(*inputs, **named)
        batch = self._check_inputs(inputs, named)
        repeated = [x.repeat(k, *([1] * (x.dim() - 1))) for x in inputs]
        repeated_named = {key: x.repeat(k, *([1] * (x.dim() - 1))) for key, x in named.items()}
        bounds = self.log_prob(*repeated, **repeated_named).view(k, batch)
        return torch.logsumexp(bounds, dim=0) - math.log(k)

    def _log_prob(self, *inputs: torch.Tensor, **named: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError("generated subclasses define _log_prob")

    def _inference(self, *inputs: torch.Tensor, **named: torch.Tensor):
        raise NotImplementedError("generated subclasses define _inference")

    def _generate(self, n: int, **context: torch.Tensor):
        raise NotImplementedError("generated subclasses define _generate")
