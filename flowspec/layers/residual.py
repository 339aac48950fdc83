"""The invertible residual block's torch modules (spec and maths:
:mod:`flowspec.nodes.residual`)."""

from __future__ import annotations

import torch

from flowspec.core.layer import FlowLayer
from flowspec.layers._jacobian import batch_jacobian
from flowspec.layers._lipschitz_nets import SpectralConvNet, SpectralMLP
from flowspec.layers._solvers import fixed_point

__all__ = ["ResidualBlock", "hutchinson_powers"]


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
    the inverse by fixed-point iteration. Both work on each example flattened (``g`` takes
    flat tensors and views them as images itself), so images need nothing else."""

    def __init__(
        self,
        net: SpectralMLP | SpectralConvNet,
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
        create_graph = torch.is_grad_enabled()
        shape = x.shape
        with torch.enable_grad():
            flat = x.flatten(1)
            x_in = flat if flat.requires_grad else flat.detach().requires_grad_()
            gx = self.net.with_weights(x_in, weights, context)
            if self.logdet == "exact":
                jac = batch_jacobian(gx, x_in, create_graph)
                eye = torch.eye(x_in.shape[1], dtype=x.dtype, device=x.device)
                estimate = torch.linalg.slogdet(eye + jac)[1]
            else:
                estimate = self._estimate(gx, x_in, create_graph)
        z = (x_in + gx).view(shape)
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
        flat = z.flatten(1)
        x = fixed_point(
            lambda x: flat - self.net.with_weights(x, weights, context),
            flat,
            self.tol,
            self.max_iter,
        )
        return x.view(z.shape)
