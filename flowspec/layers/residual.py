"""The invertible residual block's torch modules (spec and maths:
:mod:`flowspec.nodes.residual`)."""

from __future__ import annotations

from itertools import pairwise
from typing import Any, cast

import torch
from torch import nn
from torch.nn import functional as F

from flowspec.core.layer import FlowLayer, Layer
from flowspec.layers._jacobian import batch_jacobian
from flowspec.layers._solvers import fixed_point

__all__ = ["SpectralMLP", "ResidualBlock", "hutchinson_powers", "power_iteration_"]


def lipschitz_activation(name: str, x: torch.Tensor) -> torch.Tensor:
    """The 1-Lipschitz activation ``name`` (elu, tanh, relu or leaky_relu) applied to ``x``."""
    if name == "elu":
        return F.elu(x)
    if name == "tanh":
        return torch.tanh(x)
    if name == "relu":
        return F.relu(x)
    return F.leaky_relu(x)


class _SpectralNorm(torch.autograd.Function):
    """``sigma = u^T W v`` in the forward pass; the backward pass returns its gradient
    ``u v^T`` and then takes ``steps`` power-iteration steps on the buffers ``u``, ``v``.

    So the estimate improves once per training step (as with Miyato et al.'s update in
    training-mode forward passes), while every forward pass is a pure function of the
    parameters and buffers: train and eval modes agree and repeated calls are identical."""

    @staticmethod
    def forward(weight: torch.Tensor, u: torch.Tensor, v: torch.Tensor, steps: int) -> torch.Tensor:
        return u @ weight @ v

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: torch.Tensor) -> None:
        weight, u, v, steps = inputs
        ctx.save_for_backward(weight.detach(), u, v)
        ctx.steps = steps

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None, None, None]:
        weight, u, v = ctx.saved_tensors
        grad_weight = grad * torch.outer(u, v)
        power_iteration_(weight, u, v, ctx.steps)
        return grad_weight, None, None, None


def power_iteration_(weight: torch.Tensor, u: torch.Tensor, v: torch.Tensor, steps: int) -> None:
    """``steps`` power-iteration steps towards the top singular vectors of ``weight``."""
    with torch.no_grad():
        for _ in range(steps):
            v.copy_(F.normalize(weight.T @ u, dim=0, eps=1e-12))
            u.copy_(F.normalize(weight @ v, dim=0, eps=1e-12))


class SpectralMLP(Layer):
    """An MLP ``D (+ C) -> hidden -> D`` whose linear layers are rescaled to spectral norm
    at most ``lipschitz``: ``W <- W min(1, lipschitz / sigma(W))``, ``sigma`` estimated by
    power iteration with persistent vectors (Miyato et al. 2018, arXiv:1802.05957), which
    take ``power_iterations`` steps per backward pass (see :class:`_SpectralNorm`). With
    ``context_features`` C the first layer reads ``[x, c]`` and only its columns of ``x``
    are normalised: the bound holds in ``x`` for every context."""

    def __init__(
        self,
        features: int,
        hidden: list[int],
        activation: str,
        lipschitz: float,
        power_iterations: int,
        context_features: int = 0,
    ) -> None:
        super().__init__()
        sizes = [features + context_features, *hidden, features]
        linears = [nn.Linear(a, b) for a, b in pairwise(sizes)]
        self.linears = nn.ModuleList(linears)
        with torch.no_grad():  # g starts near zero, the block near the identity; not at
            linears[-1].weight.mul_(1e-3)  # zero, where power iteration has no direction
            linears[-1].bias.zero_()
        self.features, self.context_features = features, context_features
        self.activation = activation
        self.lipschitz = lipschitz
        self.power_iterations = power_iterations
        for index in range(len(linears)):
            out_features, in_features = self._bounded(index).shape
            self.register_buffer(f"u{index}", F.normalize(torch.randn(out_features), dim=0))
            self.register_buffer(f"v{index}", F.normalize(torch.randn(in_features), dim=0))
        self.refresh()

    def _linears(self) -> list[nn.Linear]:
        return [cast(nn.Linear, linear) for linear in self.linears]

    def _bounded(self, index: int) -> torch.Tensor:
        """The part of layer ``index``'s weight whose spectral norm is bounded: all of it,
        but only the columns reading ``x`` in the first layer of a conditional net."""
        weight = self._linears()[index].weight
        return weight[:, : self.features] if index == 0 and self.context_features else weight

    def refresh(self, steps: int = 50) -> None:
        """Run the power iteration ``steps`` times for the current weights (done at
        construction; call it after changing weights by hand)."""
        for index in range(len(self.linears)):
            u, v = getattr(self, f"u{index}"), getattr(self, f"v{index}")
            bounded = self._bounded(index)
            if bounded.device.type != "meta":
                power_iteration_(bounded, u, v, steps)

    def weights(self) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Each layer's normalised weight and its bias."""
        result: list[tuple[torch.Tensor, torch.Tensor]] = []
        for index, linear in enumerate(self._linears()):
            u, v = getattr(self, f"u{index}"), getattr(self, f"v{index}")
            bounded = self._bounded(index)
            sigma = _SpectralNorm.apply(bounded, u, v, self.power_iterations)
            scale = torch.clamp(self.lipschitz / sigma.clamp_min(1e-12), max=1.0)
            weight = bounded * scale
            if index == 0 and self.context_features:  # the context's columns stay free
                weight = torch.cat([weight, linear.weight[:, self.features :]], dim=1)
            result.append((weight, linear.bias))
        return result

    def with_weights(
        self,
        x: torch.Tensor,
        weights: list[tuple[torch.Tensor, torch.Tensor]],
        context: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """``g(x)`` (``g(x; c)`` given a flat context) with the given normalised weights."""
        if context is not None:
            x = torch.cat([x, context], dim=1)
        for index, (weight, bias) in enumerate(weights):
            if index:
                x = lipschitz_activation(self.activation, x)
            x = F.linear(x, weight, bias)
        return x

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        return self.with_weights(x, self.weights(), context)


def hutchinson_powers(
    gx: torch.Tensor, x: torch.Tensor, v: torch.Tensor, n: int, create_graph: bool
) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """``[v^T J^k v for k = 1..n]`` per sample (``J = dg/dx``) and the row vectors
    ``w_k = v^T J^k`` (``k = 0..n``) they come from, by ``n`` vector-Jacobian products."""
    w, products, rows = v, [], [v]
    for _ in range(n):
        (w,) = torch.autograd.grad(gx, x, w, create_graph=create_graph, retain_graph=True)
        rows.append(w)
        products.append((w * v).sum(dim=1))
    return products, rows


class ResidualBlock(FlowLayer):
    """``z = x + g(x)`` (``x + g(x; c)`` given a context); the log-determinant by ``logdet`` (exact, series or roulette);
    the inverse by fixed-point iteration."""

    def __init__(
        self,
        net: SpectralMLP,
        logdet: str,
        terms: int,
        roulette_p: float,
        trace_samples: int,
        tol: float,
        max_iter: int,
    ) -> None:
        super().__init__()
        self.net = net
        self.logdet = logdet
        self.terms, self.roulette_p, self.trace_samples = terms, roulette_p, trace_samples
        self.tol, self.max_iter = tol, max_iter

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        weights = self.net.weights()
        given = None if context is None else context.flatten(1)
        create_graph = torch.is_grad_enabled()
        with torch.enable_grad():
            x_in = x if x.requires_grad else x.detach().requires_grad_()
            gx = self.net.with_weights(x_in, weights, given)
            if self.logdet == "exact":
                jac = batch_jacobian(gx, x_in, create_graph)
                eye = torch.eye(x.shape[1], dtype=x.dtype, device=x.device)
                estimate = torch.linalg.slogdet(eye + jac)[1]
            else:
                estimate = self._estimate(gx, x_in, create_graph)
        z = x_in + gx
        if not create_graph:
            z, estimate = z.detach(), estimate.detach()
        return z, estimate

    def _estimate(self, gx: torch.Tensor, x: torch.Tensor, create_graph: bool) -> torch.Tensor:
        """The series or roulette estimate of ``log det(I + J)``, averaged over
        ``trace_samples`` Gaussian probes."""
        total = torch.zeros(x.shape[0], dtype=x.dtype, device=x.device)
        for _ in range(self.trace_samples):
            v = torch.randn_like(x)
            if self.logdet == "series":
                products, _ = hutchinson_powers(gx, x, v, self.terms, create_graph)
                total = total + sum((-1) ** k * p / (k + 1) for k, p in enumerate(products))
            else:
                total = total + self._roulette(gx, x, v, create_graph)
        return total / self.trace_samples

    def _survival(self, k: int) -> float:
        """``P(N >= k)``: 1 for the first ``terms`` terms, then geometric decay."""
        return (1 - self.roulette_p) ** max(0, k - self.terms)

    def _roulette(
        self, gx: torch.Tensor, x: torch.Tensor, v: torch.Tensor, create_graph: bool
    ) -> torch.Tensor:
        """Russian roulette: ``n = terms + Geometric(p)`` terms, term ``k`` reweighted by
        ``1 / P(N >= k)``. The value comes from the power series; with gradients, its
        gradient is the Neumann series ``sum_k (-1)^k v^T J^k dJ v / P(N >= k + 1)``."""
        tail = int(torch.distributions.Geometric(probs=torch.tensor(self.roulette_p)).sample())
        n = self.terms + tail
        products, rows = hutchinson_powers(gx, x, v, n, create_graph=False)
        value = sum(
            (-1) ** k * p / ((k + 1) * self._survival(k + 1)) for k, p in enumerate(products)
        ).detach()
        if not create_graph:
            return value
        neumann = sum((-1) ** k * w / self._survival(k + 1) for k, w in enumerate(rows[:n]))
        (jvp_row,) = torch.autograd.grad(gx, x, neumann.detach(), create_graph=True)
        surrogate = (jvp_row * v).sum(dim=1)
        return value + surrogate - surrogate.detach()

    def inverse(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        weights = self.net.weights()
        given = None if context is None else context.flatten(1)
        return fixed_point(
            lambda x: z - self.net.with_weights(x, weights, given), z, self.tol, self.max_iter
        )
