"""Glow on CIFAR-10 written by hand in plain torch, the architecture of
specs/zoo/glow_cifar10_affine.yaml (Kingma and Dhariwal 2018, arXiv:1807.03039, as the
official code builds it): uniform dequantization; 3 levels of squeeze and 32 steps of
[actnorm, LU 1x1 convolution without bias, affine coupling whose net is 3x3 conv -> actnorm
-> ReLU -> 1x1 conv -> actnorm -> ReLU -> zero 3x3 conv with a learned scale, the 3x3
convolutions seeing a padding channel]; after the first two levels half the channels are
scored by a Gaussian whose means and log-scales are a zero 3x3 conv of the other half; a
learned diagonal Gaussian on the rest. Only the training direction (log_prob) is written:
the benchmark times its train step against flowspec's and normflows'.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["HandwrittenGlow"]

LOG_2PI = math.log(2 * math.pi)


def _padded(x: torch.Tensor) -> torch.Tensor:
    """``x`` zero-padded by 1 with a channel that is 1 on the padding."""
    border = F.pad(x.new_zeros(1, 1, *x.shape[2:]), (1, 1, 1, 1), value=1.0)
    return torch.cat([F.pad(x, (1, 1, 1, 1)), border.expand(x.shape[0], -1, -1, -1)], 1)


class _Affine(nn.Module):
    """``(x + b) * exp(factor * s)`` per channel."""

    def __init__(self, channels: int, factor: float = 1.0) -> None:
        super().__init__()
        self.factor = factor
        self.b = nn.Parameter(torch.zeros(channels, 1, 1))
        self.s = nn.Parameter(torch.zeros(channels, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x + self.b) * torch.exp(self.factor * self.s)


class _ZeroConv(nn.Module):
    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(cout, cin + 1, 3, 3))
        self.scale = _Affine(cout, 3.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.scale(F.conv2d(_padded(x), self.weight))


class _Net(nn.Module):
    def __init__(self, cin: int, width: int, cout: int) -> None:
        super().__init__()
        self.w1 = nn.Parameter(torch.randn(width, cin + 1, 3, 3) * 0.05)
        self.n1 = _Affine(width)
        self.w2 = nn.Parameter(torch.randn(width, width, 1, 1) * 0.05)
        self.n2 = _Affine(width)
        self.out = _ZeroConv(width, cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.n1(F.conv2d(_padded(x), self.w1)))
        return self.out(torch.relu(self.n2(F.conv2d(h, self.w2))))


class _Step(nn.Module):
    def __init__(self, channels: int, width: int) -> None:
        super().__init__()
        self.an_b = nn.Parameter(torch.zeros(channels, 1, 1))
        self.an_s = nn.Parameter(torch.zeros(channels, 1, 1))
        w = torch.linalg.qr(torch.randn(channels, channels))[0]
        p, lower, upper = torch.linalg.lu(w)
        self.register_buffer("p", p)
        self.register_buffer("sign", torch.sign(torch.diagonal(upper)))
        self.lower = nn.Parameter(lower)
        self.upper = nn.Parameter(torch.triu(upper, 1))
        self.log_s = nn.Parameter(torch.log(torch.diagonal(upper).abs()))
        self.net = _Net(channels // 2, width, channels)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        c, hw = x.shape[1], x.shape[2] * x.shape[3]
        x = (x + self.an_b) * torch.exp(self.an_s)
        eye = torch.eye(c, dtype=x.dtype)
        lower = torch.tril(self.lower, -1) + eye
        upper = torch.triu(self.upper, 1) + torch.diag(self.sign * torch.exp(self.log_s))
        x = F.conv2d(x, (self.p @ lower @ upper)[:, :, None, None])
        a, b = x.chunk(2, 1)
        h = self.net(a)
        shift, raw = h[:, : c // 2], h[:, c // 2 :]
        s = 2.0 * torch.tanh(raw / 2.0)
        z = torch.cat([a, b * torch.exp(s) + shift], 1)
        log_det = hw * (self.an_s.sum() + self.log_s.sum()) + s.flatten(1).sum(1)
        return z, log_det


def _squeeze(x: torch.Tensor) -> torch.Tensor:
    b, c, h, w = x.shape
    x = x.view(b, c, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 2, 4)
    return x.reshape(b, c * 4, h // 2, w // 2)


def _normal(z: torch.Tensor, mean: torch.Tensor, log_scale: torch.Tensor) -> torch.Tensor:
    return (
        (-0.5 * (((z - mean) * torch.exp(-log_scale)) ** 2 + LOG_2PI) - log_scale).flatten(1).sum(1)
    )


class HandwrittenGlow(nn.Module):
    """``log_prob(x)`` of integer images ``x`` in 0..255, shape ``(B, 3, 32, 32)``."""

    def __init__(self, width: int = 512, depth: int = 32, levels: int = 3) -> None:
        super().__init__()
        channels = [12 * 2**i for i in range(levels)]
        self.levels = nn.ModuleList(
            nn.ModuleList(_Step(c, width) for _ in range(depth)) for c in channels
        )
        self.priors = nn.ModuleList(_ZeroConv(c // 2, c) for c in channels[:-1])
        top = (channels[-1], 32 >> levels, 32 >> levels)
        self.top_mean = nn.Parameter(torch.zeros(top))
        self.top_log_scale = nn.Parameter(torch.zeros(top))

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        z = (x + torch.rand_like(x)) / 256.0
        total = torch.full((x.shape[0],), -x[0].numel() * math.log(256.0), dtype=x.dtype)
        for index, steps in enumerate(self.levels):
            z = _squeeze(z)
            for step in steps:
                z, log_det = step(z)
                total = total + log_det
            if index < len(self.priors):
                z, dropped = z.chunk(2, 1)
                h = self.priors[index](z)
                c = dropped.shape[1]
                total = total + _normal(dropped, h[:, :c], h[:, c:])
        return total + _normal(z, self.top_mean, self.top_log_scale)
