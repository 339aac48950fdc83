"""Real NVP on CIFAR-10 written by hand in plain torch, the architecture of
specs/zoo/realnvp_cifar10.yaml (Dinh, Sohl-Dickstein and Bengio 2016, arXiv:1605.08803,
Sec. 3.6-3.7 and Appendix C): uniform dequantization, ``logit(0.05 + 0.9 x)``; scale 1: 3
affine couplings with alternating checkerboard masks, a squeeze, 3 with alternating channel
masks, half the channels factored out to N(0, I); scale 2: 4 checkerboard couplings, then
N(0, I). Each coupling is ``z_b = x_b exp(2 tanh(s / 2)) + t`` with ``(s, t)`` from Real NVP's
ResNet (batch norm, ``relu([h, -h])``, weight-normalised convolutions, residual blocks, a 1x1
skip from the lift and from every block, zero-started 1x1 output) and is followed by a
batch-norm bijection (batch statistics, no learned parameters). Parameters are created in
the order flowspec creates them, so a test can copy one model's weights into the other.
Only the training direction (log_prob) is written: the benchmark times its train step
against flowspec's.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["HandwrittenRealNVPCifar10"]

LOG_2PI = math.log(2 * math.pi)
ALPHA = 0.05


class _WeightNormConv(nn.Module):
    """A 'same'-padded convolution with weight ``g v / |v|`` per output channel (Salimans
    and Kingma 2016, arXiv:1602.07868); ``zero`` starts the gain and bias at zero."""

    def __init__(self, cin: int, cout: int, kernel: int, bias: bool = True, zero: bool = False):
        super().__init__()
        conv = nn.Conv2d(cin, cout, kernel, bias=bias)
        self.padding = kernel // 2
        self.direction = nn.Parameter(conv.weight.detach().clone())
        gain = torch.zeros(cout) if zero else conv.weight.detach().flatten(1).norm(dim=1)
        self.gain = nn.Parameter(gain)
        self.bias = None
        if conv.bias is not None:
            self.bias = nn.Parameter(torch.zeros(cout) if zero else conv.bias.detach().clone())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        scale = self.gain / self.direction.flatten(1).norm(dim=1)
        weight = self.direction * scale[:, None, None, None]
        return F.conv2d(x, weight, self.bias, padding=self.padding)


class _Block(nn.Module):
    """``h + conv(relu(bn(conv(relu(bn(h))))))``."""

    def __init__(self, width: int):
        super().__init__()
        self.norm1 = nn.BatchNorm2d(width)
        self.conv1 = _WeightNormConv(width, width, 3, bias=False)
        self.norm2 = nn.BatchNorm2d(width)
        self.conv2 = _WeightNormConv(width, width, 3)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        inner = self.conv1(torch.relu(self.norm1(h)))
        return h + self.conv2(torch.relu(self.norm2(inner)))


class _ResNet(nn.Module):
    """Real NVP's conditioner: ``cin`` kept channels -> ``cout`` = (log-scales, shifts)."""

    def __init__(self, cin: int, width: int, cout: int, blocks: int):
        super().__init__()
        self.in_norm = nn.BatchNorm2d(cin)
        self.lift = _WeightNormConv(2 * cin, width, 3)
        self.blocks = nn.ModuleList(_Block(width) for _ in range(blocks))
        self.skips = nn.ModuleList(_WeightNormConv(width, width, 1) for _ in range(blocks + 1))
        self.out_norm = nn.BatchNorm2d(width)
        self.out = _WeightNormConv(width, cout, 1, zero=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.in_norm(x)
        h = self.lift(torch.relu(torch.cat([h, -h], 1)))
        skipped = self.skips[0](h)
        for block, skip in zip(self.blocks, self.skips[1:], strict=True):
            h = block(h)
            skipped = skipped + skip(h)
        return self.out(torch.relu(self.out_norm(skipped)))


def _affine(x: torch.Tensor, params: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``x exp(s) + t`` with ``s = 2 tanh(raw / 2)``; ``(raw, t)`` are the halves of
    ``params``' channels. Returns the output and ``s``."""
    raw, shift = params.chunk(2, 1)
    s = 2.0 * torch.tanh(raw / 2.0)
    return x * torch.exp(s) + shift, s


class _CheckerboardCoupling(nn.Module):
    """Keeps the pixels with ``h + w`` even (odd when ``flipped``): the net sees the image
    with the others zeroed, and only the others change."""

    def __init__(self, channels: int, size: int, width: int, blocks: int, flipped: bool):
        super().__init__()
        self.net = _ResNet(channels, width, 2 * channels, blocks)
        parity = (torch.arange(size)[:, None] + torch.arange(size)[None, :]) % 2
        self.register_buffer("keep", (parity == int(flipped)).to(torch.get_default_dtype()))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        kept = x * self.keep
        z, s = _affine(x, self.net(kept))
        change = 1.0 - self.keep
        return kept + z * change, (s * change).flatten(1).sum(1)


class _ChannelCoupling(nn.Module):
    """Keeps the first half of the channels (the second when ``flipped``)."""

    def __init__(self, channels: int, width: int, blocks: int, flipped: bool):
        super().__init__()
        self.flipped = flipped
        self.net = _ResNet(channels // 2, width, channels, blocks)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        first, second = x.chunk(2, 1)
        kept, changed = (second, first) if self.flipped else (first, second)
        z, s = _affine(changed, self.net(kept))
        joined = torch.cat([z, kept] if self.flipped else [kept, z], 1)
        return joined, s.flatten(1).sum(1)


class _BatchNormBijection(nn.Module):
    """``(x - mean) / sqrt(var + eps)`` with the batch's statistics per channel (Dinh et
    al. 2016, Sec. 3.7), updating running averages; no learned parameters."""

    def __init__(self, channels: int, eps: float = 1e-4, momentum: float = 0.1):
        super().__init__()
        self.eps, self.momentum = eps, momentum
        self.register_buffer("running_mean", torch.zeros(channels))
        self.register_buffer("running_var", torch.ones(channels))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        var, mean = torch.var_mean(x, dim=(0, 2, 3), correction=0)
        with torch.no_grad():
            self.running_mean.lerp_(mean, self.momentum)
            self.running_var.lerp_(var, self.momentum)
        shifted = var + self.eps
        z = (x - mean[:, None, None]) * shifted.rsqrt()[:, None, None]
        return z, (-0.5 * x.shape[2] * x.shape[3] * shifted.log().sum()).expand(x.shape[0])


def _squeeze(x: torch.Tensor) -> torch.Tensor:
    b, c, h, w = x.shape
    x = x.view(b, c, h // 2, 2, w // 2, 2).permute(0, 1, 3, 5, 2, 4)
    return x.reshape(b, c * 4, h // 2, w // 2)


def _standard_normal(z: torch.Tensor) -> torch.Tensor:
    return -0.5 * (z.flatten(1).pow(2).sum(1) + z[0].numel() * LOG_2PI)


class HandwrittenRealNVPCifar10(nn.Module):
    """``log_prob(x)`` of integer images ``x`` in 0..255, shape ``(B, 3, 32, 32)``: a lower
    bound (uniform dequantization), in nats."""

    def __init__(self, widths: tuple[int, int] = (64, 128), blocks: int = 8) -> None:
        """``widths``: the feature maps before the squeeze and after it (doubled in the
        paper's configuration)."""
        super().__init__()
        width, wide = widths
        self.scale1_in = _with_batch_norms(
            [_CheckerboardCoupling(3, 32, width, blocks, flipped) for flipped in (1, 0, 1)], 3
        )
        self.scale1_out = _with_batch_norms(
            [_ChannelCoupling(12, wide, blocks, flipped) for flipped in (1, 0, 1)], 12
        )
        self.scale2 = _with_batch_norms(
            [_CheckerboardCoupling(6, 16, wide, blocks, flipped) for flipped in (1, 0, 1, 0)], 6
        )

    def log_prob(self, x: torch.Tensor) -> torch.Tensor:
        u = ALPHA + (1 - 2 * ALPHA) * (x + torch.rand_like(x)) / 256.0
        log_u, log_rest = torch.log(u), torch.log1p(-u)
        z = log_u - log_rest
        # dequantization's -D log 256, the logit's log(1 - 2 alpha) - log u - log(1 - u)
        total = (math.log(1 - 2 * ALPHA) - math.log(256.0)) * x[0].numel() - (
            log_u + log_rest
        ).flatten(1).sum(1)
        for index, steps in enumerate((self.scale1_in, self.scale1_out, self.scale2)):
            if index == 1:
                z = _squeeze(z)
            if index == 2:
                z, factored = z.chunk(2, 1)
                total = total + _standard_normal(factored)
            for step in steps:
                z, log_det = step(z)
                total = total + log_det
        return total + _standard_normal(z)


def _with_batch_norms(couplings: list[nn.Module], channels: int) -> nn.ModuleList:
    """Each coupling followed by a batch-norm bijection of its ``channels``."""
    return nn.ModuleList(m for c in couplings for m in (c, _BatchNormBijection(channels)))
