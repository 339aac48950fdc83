"""The continuous normalizing flow's torch modules (spec and maths: :mod:`flowspec.nodes.cnf`)."""

from __future__ import annotations

from typing import Any

import torch
import torchdiffeq
from torch import nn

from flowspec.core.layer import FlowLayer, Layer
from flowspec.layers._jacobian import batch_jacobian
from flowspec.layers._mlp_trace import has_closed_form_trace, mlp_and_trace

__all__ = ["Dynamics", "CNF"]


class Dynamics(Layer):
    """``f(t, y; c) = net([t, y, c])`` on flat states ``y``, or ``net(t, y, c)`` with ``y``
    viewed as images of ``shape`` (a convolutional field), ``c`` only for a conditional CNF;
    with a state ``(y, a)`` it also returns ``tr(df/dy)`` (exactly, or Hutchinson's
    ``e^T (df/dy) e`` with the probe ``noise`` set per solve). A context rides along as the
    state's last element with zero velocity, so the adjoint method returns its gradient too.

    The exact trace of an MLP field is computed in closed form with the velocity
    (:mod:`flowspec.layers._mlp_trace`: one forward pass); other fields take one backward
    pass per feature.

    The trace keeps its graph only where the caller builds one: a plain solve under grad, or
    the adjoint's backward solve. The adjoint's forward solve runs without grad, and there a
    state that says ``requires_grad`` (a view of the previous layer's output) is not part of
    any graph, so the trace differentiates a detached copy."""

    def __init__(self, net: nn.Module, trace: str, shape: list[int] | None = None) -> None:
        super().__init__()
        self.net = net
        self.trace = trace
        self.shape = tuple(shape) if shape is not None else None
        #: Whether the field is an MLP whose exact trace has a closed form.
        self.plain_mlp = shape is None and has_closed_form_trace(net)
        self.noise: torch.Tensor | None = None
        #: Whether a tuple state carries the log-density change ``(y, a[, c])`` (inference)
        #: or is ``(y, c)`` (generation of a conditional CNF).
        self.scoring = False

    def velocity(
        self, t: torch.Tensor, y: torch.Tensor, context: torch.Tensor | None
    ) -> torch.Tensor:
        if self.shape is not None:
            return self.net(t, y.view(y.shape[0], *self.shape), context).flatten(1)
        return self.net(self.flat_inputs(t, y, context))

    @staticmethod
    def flat_inputs(t: torch.Tensor, y: torch.Tensor, context: torch.Tensor | None) -> torch.Tensor:
        """An MLP field's input ``[t, y, c]``: the state's features are columns
        ``1 .. 1 + D``."""
        parts = [t.to(y).expand(y.shape[0], 1), y]
        return torch.cat(parts if context is None else [*parts, context], dim=1)

    def forward(
        self, t: torch.Tensor, state: torch.Tensor | tuple[torch.Tensor, ...]
    ) -> torch.Tensor | tuple[torch.Tensor, ...]:
        if isinstance(state, torch.Tensor):
            return self.velocity(t, state, None)
        if not self.scoring:
            y, given = state
            return self.velocity(t, y, given), torch.zeros_like(given)
        y, context = state[0], (state[2] if len(state) == 3 else None)
        dy, divergence = self.velocity_and_divergence(t, y, context)
        if context is None:
            return dy, divergence
        return dy, divergence, torch.zeros_like(context)

    def velocity_and_divergence(
        self, t: torch.Tensor, y: torch.Tensor, context: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``f(t, y; c)`` and ``tr(df/dy)`` (exact, or Hutchinson's estimate)."""
        if self.trace == "exact" and self.plain_mlp:
            columns = slice(1, 1 + y.shape[1])
            return mlp_and_trace(self.net, self.flat_inputs(t, y, context), columns)
        create_graph = torch.is_grad_enabled()
        with torch.enable_grad():
            y = y if create_graph and y.requires_grad else y.detach().requires_grad_()
            dy = self.velocity(t, y, context)
            if self.trace == "exact":
                jac = batch_jacobian(dy, y, create_graph)
                divergence = torch.diagonal(jac, dim1=1, dim2=2).sum(dim=1)
            else:
                noise = self.noise
                assert noise is not None  # drawn by CNF.forward for the hutchinson trace
                (row,) = torch.autograd.grad(dy, y, noise, create_graph=create_graph)
                divergence = (row * noise).sum(dim=1)
        if not create_graph:
            dy, divergence = dy.detach(), divergence.detach()
        return dy, divergence


class CNF(FlowLayer):
    """Inference integrates ``(y, a)`` from 0 to ``time``; generation ``y`` back to 0 (with
    a flat context alongside, constant, for a conditional CNF). The state is each example
    flattened; ``image`` is the shape a convolutional field sees."""

    def __init__(
        self,
        net: nn.Module,
        time: float,
        trace: str,
        method: str,
        rtol: float,
        atol: float,
        options: dict[str, float],
        adjoint: bool,
        image: list[int] | None = None,
    ) -> None:
        super().__init__()
        self.dynamics = Dynamics(net, trace, image)
        self.time = time
        self.method, self.rtol, self.atol = method, rtol, atol
        #: torchdiffeq's ``options``: the fixed methods' ``step_size``, or the adaptive
        #: methods' ``first_step`` (none: torchdiffeq picks it from the field).
        self.options = options
        self.adjoint = adjoint

    def _solve(
        self,
        state: torch.Tensor | tuple[torch.Tensor, ...],
        start: float,
        end: float,
        like: torch.Tensor,
    ) -> Any:
        """torchdiffeq's solution at ``start`` and ``end``: a tensor, or a tuple of them
        for a tuple ``state``."""
        times = torch.tensor([start, end], dtype=like.dtype, device=like.device)
        settings = dict(rtol=self.rtol, atol=self.atol, method=self.method, options=self.options)
        if self.adjoint and torch.is_grad_enabled():
            params = tuple(p for p in self.dynamics.parameters() if p.requires_grad)
            return torchdiffeq.odeint_adjoint(
                self.dynamics, state, times, adjoint_params=params, **settings
            )
        return torchdiffeq.odeint(self.dynamics, state, times, **settings)

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        flat = x.flatten(1)
        hutchinson = self.dynamics.trace == "hutchinson"
        self.dynamics.noise = torch.randn_like(flat) if hutchinson else None
        self.dynamics.scoring = True
        start = torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
        given = () if context is None else (context.flatten(1),)
        ys, logdets, *_ = self._solve((flat, start, *given), 0.0, self.time, x)
        return ys[-1].view(x.shape), logdets[-1]

    def inverse(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        self.dynamics.scoring = False
        if context is None:
            return self._solve(z.flatten(1), self.time, 0.0, z)[-1].view(z.shape)
        ys, _ = self._solve((z.flatten(1), context.flatten(1)), self.time, 0.0, z)
        return ys[-1].view(z.shape)
