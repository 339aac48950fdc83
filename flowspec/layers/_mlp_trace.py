"""The exact trace of an MLP's Jacobian in closed form: what a CNF with an ``mlp`` field
pays for ``trace: exact`` (Grathwohl et al. 2019, FFJORD, arXiv:1810.01367, Sec. 2.2:
``d log p / dt = -tr(df/dy)``), in one forward pass instead of one backward pass per feature.

For ``f = W_{n+1} s(W_n ... s(W_1 u))`` with ``y`` some columns of the input ``u``, the
Jacobian in ``y`` is ``J = W_{n+1} S_n W_n ... W_2 S_1 V``, where ``S_k = diag(s'(a_k))``
holds the activation's slopes at layer ``k`` and ``V = W_1[:, y]``. The trace is invariant
under cyclic shifts, so ``tr J = tr(S_n W_n ... W_2 S_1 Q)`` with ``Q = V W_{n+1}`` (hidden
by hidden, shared by every example): with two hidden layers that is the bilinear form
``s'_2^T (W_2 o Q^T) s'_1`` per example, the cost of one more hidden layer; each further
hidden layer multiplies a per-example square matrix (hidden^3 per example).
"""

from __future__ import annotations

from typing import cast

import torch
from torch import nn

from flowspec.layers.conditioners.mlp import MLP

__all__ = ["has_closed_form_trace", "mlp_and_trace"]


def has_closed_form_trace(net: nn.Module) -> bool:
    """Whether ``net`` is an :class:`MLP` of linear layers with elementwise activations
    between them (no dropout): the networks :func:`mlp_and_trace` handles."""
    if not isinstance(net, MLP):
        return False
    modules = list(net)
    linears, activations = modules[0::2], modules[1::2]
    return all(isinstance(m, nn.Linear) for m in linears) and not any(
        isinstance(m, nn.Linear | nn.Dropout) for m in activations
    )


def _slopes(
    activation: nn.Module, a: torch.Tensor, create_graph: bool
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(s(a), s'(a))`` for an elementwise activation: ``s'`` is the gradient of
    ``sum s(a)`` (reverse mode: forward mode is off inside autograd functions, where the
    adjoint method's solves run), differentiable when ``create_graph``."""
    with torch.enable_grad():
        point = a if create_graph and a.requires_grad else a.detach().requires_grad_()
        h = activation(point)
        (slope,) = torch.autograd.grad(h, point, torch.ones_like(h), create_graph=create_graph)
    return (h, slope) if create_graph else (h.detach(), slope)


def mlp_and_trace(
    net: nn.Module, u: torch.Tensor, columns: slice
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(net(u), tr(d net(u) / d u[:, columns]))`` per example for a ``net`` that
    :func:`has_closed_form_trace` accepts, ``u`` of shape ``(batch, features)`` and as many
    outputs as ``columns`` selects (a square Jacobian)."""
    modules = list(net.children())
    linears = [cast(nn.Linear, module) for module in modules[0::2]]
    activations = modules[1::2]
    create_graph = torch.is_grad_enabled()
    slopes = []
    h = u
    for linear, activation in zip(linears, activations, strict=False):
        h, slope = _slopes(activation, linear(h), create_graph)
        slopes.append(slope)
    out = linears[-1](h)
    entry = linears[0].weight[:, columns]
    if not slopes:
        return out, entry.diagonal().sum().expand(u.shape[0])
    shared = entry @ linears[-1].weight
    if len(slopes) == 1:
        return out, slopes[0] @ shared.diagonal()
    chain = shared
    for linear, slope in zip(linears[1:-2], slopes[:-2], strict=True):
        chain = linear.weight @ (slope.unsqueeze(-1) * chain)
    closing = linears[-2].weight.T * chain
    trace = (torch.matmul(slopes[-2].unsqueeze(1), closing).squeeze(1) * slopes[-1]).sum(1)
    return out, trace
