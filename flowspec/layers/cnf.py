"""The continuous normalizing flow's torch modules (spec and maths: :mod:`flowspec.nodes.cnf`)."""

from __future__ import annotations

from typing import Any

import torch
import torchdiffeq
from torch import nn

from flowspec.core.layer import FlowLayer, Layer
from flowspec.layers._jacobian import batch_jacobian

__all__ = ["Dynamics", "CNF"]


class Dynamics(Layer):
    """``f(t, y) = net([t, y])`` on flat states ``y``, or ``net(t, y)`` with ``y`` viewed
    as images of ``shape`` (a convolutional field); with a state ``(y, a)`` it also returns
    ``tr(df/dy)`` (exactly, or Hutchinson's ``e^T (df/dy) e`` with the probe ``noise`` set
    per solve)."""

    def __init__(self, net: nn.Module, trace: str, shape: list[int] | None = None) -> None:
        super().__init__()
        self.net = net
        self.trace = trace
        self.shape = tuple(shape) if shape is not None else None
        self.noise: torch.Tensor | None = None
        self.create_graph = False

    def velocity(self, t: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        if self.shape is not None:
            return self.net(t, y.view(y.shape[0], *self.shape)).flatten(1)
        return self.net(torch.cat([t.to(y).expand(y.shape[0], 1), y], dim=1))

    def forward(
        self, t: torch.Tensor, state: torch.Tensor | tuple[torch.Tensor, torch.Tensor]
    ) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        if isinstance(state, torch.Tensor):
            return self.velocity(t, state)
        y = state[0]
        with torch.enable_grad():
            y = y if y.requires_grad else y.detach().requires_grad_()
            dy = self.velocity(t, y)
            if self.trace == "exact":
                jac = batch_jacobian(dy, y, self.create_graph)
                divergence = torch.diagonal(jac, dim1=1, dim2=2).sum(dim=1)
            else:
                noise = self.noise
                assert noise is not None  # drawn by CNF.forward for the hutchinson trace
                (row,) = torch.autograd.grad(dy, y, noise, create_graph=self.create_graph)
                divergence = (row * noise).sum(dim=1)
        if not self.create_graph:
            dy, divergence = dy.detach(), divergence.detach()
        return dy, divergence


class CNF(FlowLayer):
    """Inference integrates ``(y, a)`` from 0 to ``time``; generation ``y`` back to 0. The
    state is each example flattened; ``image`` is the shape a convolutional field sees."""

    def __init__(
        self,
        net: nn.Module,
        time: float,
        trace: str,
        method: str,
        rtol: float,
        atol: float,
        step_size: float | None,
        adjoint: bool,
        image: list[int] | None = None,
    ) -> None:
        super().__init__()
        self.dynamics = Dynamics(net, trace, image)
        self.time = time
        self.method, self.rtol, self.atol, self.step_size = method, rtol, atol, step_size
        self.adjoint = adjoint

    def _solve(
        self,
        state: torch.Tensor | tuple[torch.Tensor, torch.Tensor],
        start: float,
        end: float,
        like: torch.Tensor,
    ) -> Any:
        """torchdiffeq's solution at ``start`` and ``end``: a tensor, or a tuple of them
        for a tuple ``state``."""
        times = torch.tensor([start, end], dtype=like.dtype, device=like.device)
        options = {"step_size": self.step_size} if self.step_size is not None else None
        settings = dict(rtol=self.rtol, atol=self.atol, method=self.method, options=options)
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
        self.dynamics.create_graph = torch.is_grad_enabled()
        hutchinson = self.dynamics.trace == "hutchinson"
        self.dynamics.noise = torch.randn_like(flat) if hutchinson else None
        start = torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
        ys, logdets = self._solve((flat, start), 0.0, self.time, x)
        return ys[-1].view(x.shape), logdets[-1]

    def inverse(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        return self._solve(z.flatten(1), self.time, 0.0, z)[-1].view(z.shape)
