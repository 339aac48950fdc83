"""The two-hidden-layer VAE of issue 14 written by hand in plain torch: the twin
``benchmarks/suites/bench_vae.py`` holds the spec to (a Gaussian encoder and a Bernoulli
decoder, Kingma & Welling 2014, arXiv:1312.6114), with PyTorch's default initialisation
and the same parameter count as the spec's model."""

from __future__ import annotations

import itertools

import torch
from torch import nn

__all__ = ["DECODER", "ENCODER", "LATENT", "TwinVAE"]

LATENT, ENCODER, DECODER = 10, [256, 128], [128, 256]


def _mlp(sizes: list[int]) -> nn.Sequential:
    layers: list[nn.Module] = []
    for fan_in, fan_out in itertools.pairwise(sizes):
        layers += [nn.Linear(fan_in, fan_out), nn.ReLU()]
    return nn.Sequential(*layers[:-1])


class TwinVAE(nn.Module):
    """The hand-written VAE: ``encode(x) -> (mean, scale)``, ``decode(z) -> logits``."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = _mlp([64, *ENCODER, 2 * LATENT])
        self.decoder = _mlp([LATENT, *DECODER, 64])

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, log_variance = self.encoder(x).chunk(2, dim=1)
        return mean, torch.exp(0.5 * log_variance)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        return self.decoder(z)
