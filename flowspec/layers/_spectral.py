"""Spectral normalisation by power iteration on the operator a layer applies: a dense
matrix, or a convolution on images of a given size (whose operator norm is not the norm of
its reshaped kernel).

Miyato, Kataoka, Koyama and Yoshida, "Spectral Normalization for Generative Adversarial
Networks", ICLR 2018, arXiv:1802.05957 (persistent power-iteration vectors); Gouk, Frank,
Pfahringer and Cree, "Regularisation of Neural Networks by Enforcing Lipschitz Continuity",
2018, arXiv:1804.04368, and Chen et al., "Residual Flows", NeurIPS 2019, arXiv:1906.02735
(the convolution's norm by power iteration with the convolution and its transpose).
"""

from __future__ import annotations

from typing import Any

import torch
from torch.nn import functional as F
from torch.nn.grad import conv2d_weight

__all__ = ["DenseOperator", "ConvOperator", "spectral_norm", "power_iteration_"]


class DenseOperator:
    """``v -> W v`` for a weight ``W`` of shape ``(out, in)``; vectors are flat."""

    def apply(self, weight: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return weight @ v

    def layer(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        """The affine layer on a batch ``x`` of shape ``(batch, in)``."""
        return F.linear(x, weight, bias)

    def adjoint(self, weight: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        return weight.T @ u

    def weight_gradient(
        self, weight: torch.Tensor, u: torch.Tensor, v: torch.Tensor
    ) -> torch.Tensor:
        """``d <u, W v> / dW``."""
        return torch.outer(u, v)


class ConvOperator:
    """``v -> conv2d(v, W)`` (stride 1, 'same' padding) on one image ``v`` of shape
    ``(in_channels, H, W)``; ``u`` has shape ``(out_channels, H, W)``."""

    def __init__(self, padding: int) -> None:
        self.padding = padding

    def apply(self, weight: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        return F.conv2d(v.unsqueeze(0), weight, padding=self.padding).squeeze(0)

    def layer(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        """The convolution with bias on a batch ``x`` of shape ``(batch, in, H, W)``."""
        return F.conv2d(x, weight, bias, padding=self.padding)

    def adjoint(self, weight: torch.Tensor, u: torch.Tensor) -> torch.Tensor:
        return F.conv_transpose2d(u.unsqueeze(0), weight, padding=self.padding).squeeze(0)

    def weight_gradient(
        self, weight: torch.Tensor, u: torch.Tensor, v: torch.Tensor
    ) -> torch.Tensor:
        """``d <u, conv2d(v, W)> / dW``."""
        return conv2d_weight(v.unsqueeze(0), weight.shape, u.unsqueeze(0), padding=self.padding)


def power_iteration_(
    operator: DenseOperator | ConvOperator,
    weight: torch.Tensor,
    u: torch.Tensor,
    v: torch.Tensor,
    steps: int,
) -> None:
    """``steps`` power-iteration steps of the buffers ``u``, ``v`` towards the top singular
    vectors of ``operator`` with ``weight``."""
    with torch.no_grad():
        for _ in range(steps):
            v.copy_(F.normalize(operator.adjoint(weight, u).flatten(), dim=0, eps=1e-12).view_as(v))
            u.copy_(F.normalize(operator.apply(weight, v).flatten(), dim=0, eps=1e-12).view_as(u))


class _SpectralNorm(torch.autograd.Function):
    """``sigma = <u, A_W v>`` in the forward pass; the backward pass returns its gradient
    in ``W`` and then takes ``steps`` power-iteration steps on the buffers ``u``, ``v``.

    So the estimate improves once per training step (as with Miyato et al.'s update in
    training-mode forward passes), while every forward pass is a pure function of the
    parameters and buffers: train and eval modes agree and repeated calls are identical."""

    @staticmethod
    def forward(
        weight: torch.Tensor,
        u: torch.Tensor,
        v: torch.Tensor,
        steps: int,
        operator: DenseOperator | ConvOperator,
    ) -> torch.Tensor:
        return (u * operator.apply(weight, v)).sum()

    @staticmethod
    def setup_context(ctx: Any, inputs: tuple[Any, ...], output: torch.Tensor) -> None:
        weight, u, v, steps, operator = inputs
        ctx.save_for_backward(weight.detach(), u, v)
        ctx.steps, ctx.operator = steps, operator

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor, None, None, None, None]:
        weight, u, v = ctx.saved_tensors
        grad_weight = grad * ctx.operator.weight_gradient(weight, u, v)
        power_iteration_(ctx.operator, weight, u, v, ctx.steps)
        return grad_weight, None, None, None, None


def spectral_norm(
    operator: DenseOperator | ConvOperator,
    weight: torch.Tensor,
    u: torch.Tensor,
    v: torch.Tensor,
    steps: int,
) -> torch.Tensor:
    """The power-iteration estimate of the operator norm (a lower bound that the iteration
    refines by ``steps`` per backward pass)."""
    return _SpectralNorm.apply(weight, u, v, steps, operator)
