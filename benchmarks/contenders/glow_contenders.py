"""Glow on the 8x8 digits as 1x8x8 images, built in flowspec and in normflows with the same
architecture: dequantization and RealNVP's alpha-logit, then two scales of [squeeze, 2 x
(actnorm, LU 1x1 convolution, affine coupling on half the channels with Glow's conv net
3x3 -> 1x1 -> zero 3x3 of 32 channels)], the second half of the channels factored out after
the first scale, learned diagonal Gaussians as the bases (normflows' multi-scale Glow has
unconditional bases, so flowspec uses diagonal_normal for both here). A third contender is
specs/glow_digits.yaml as shipped (ResNet conditioners, the factored-out half conditioned
on the other half).

normflows has no flow layer for uniform dequantization plus the alpha-logit, so it gets
the hand-written :class:`handwritten_digits.Preprocessing` in front (the same noise as
flowspec under the same seed) and its log-determinant added to its ``log_prob``.
"""

from __future__ import annotations

from pathlib import Path

import torch
from baselines.handwritten_digits import Preprocessing
from harness.contender import Builder, Contender

__all__ = ["CONTENDERS", "SHIPPED", "same_architecture_spec"]

SHIPPED = Path(__file__).resolve().parents[2] / "specs" / "glow_digits.yaml"
HIDDEN = 32
STEPS = 2
SHAPE = (1, 8, 8)


def same_architecture_spec() -> str:
    """glow_digits.yaml with normflows' parts: Glow's conv net, 1x1 convolutions without
    bias, unconditional bases."""
    text = SHIPPED.read_text()
    replacements = {
        "{kind: invconv1x1}": "{kind: invconv1x1, bias: false}",
        "{kind: resnet, channels: 32, blocks: 1, kernel: 3}": "{kind: conv, channels: 32, kernel: 3}",
        "{kind: conditional_normal, in: factor.out1, context: factor.out0, net: {hidden: [64]}}": "{kind: diagonal_normal, in: factor.out1}",
        "{kind: standard_normal, in: scale2}": "{kind: diagonal_normal, in: scale2}",
    }
    for old, new in replacements.items():
        if old not in text:
            raise ValueError(f"glow_digits.yaml changed: {old!r} not found")
        text = text.replace(old, new)
    return text


def flowspec_model() -> Contender:
    import flowspec

    model = flowspec.compile(same_architecture_spec())
    return Contender(
        "flowspec",
        model,
        model.log_prob,
        model.sample,
        "specs/glow_digits.yaml with `conditioner: {kind: conv, channels: 32}`, invconv1x1 "
        "without bias and diagonal_normal bases (benchmarks/contenders/glow_contenders.py), via "
        "flowspec.compile.",
    )


def shipped_model() -> Contender:
    import flowspec

    model = flowspec.compile(SHIPPED)
    return Contender(
        "flowspec glow_digits.yaml",
        model,
        model.log_prob,
        model.sample,
        "specs/glow_digits.yaml as shipped: ResNet conditioners (32 channels, 1 block), the "
        "factored-out half's prior conditioned on the other half, standard normal base.",
    )


def normflows_model() -> Contender:
    import normflows as nf

    flows, bases, merges = [], [], []
    # normflows lists levels coarsest first, each in generation order (blocks, then the
    # squeeze that enlarges the image); level i > 0 is merged with its factored-out half.
    for level, channels in enumerate((8, 4)):
        blocks = [nf.flows.GlowBlock(channels, HIDDEN, split_mode="channel") for _ in range(STEPS)]
        flows.append(blocks + [nf.flows.Squeeze()])
        if level == 0:
            bases.append(nf.distributions.DiagGaussian((8, 2, 2)))
        else:
            merges.append(nf.flows.Merge())
            bases.append(nf.distributions.DiagGaussian((2, 4, 4)))
    flow = nf.MultiscaleFlow(bases, flows, merges, class_cond=False)
    pre = Preprocessing()

    def log_prob(x: torch.Tensor) -> torch.Tensor:
        z, log_det = pre(x.flatten(1))
        return flow.log_prob(z.view(-1, *SHAPE), None) + log_det

    def sample(n: int) -> torch.Tensor:
        z, _ = flow.sample(n)
        return pre.inverse(z.flatten(1)).view(n, *SHAPE)

    return Contender(
        "normflows",
        flow,
        log_prob,
        sample,
        "normflows MultiscaleFlow of GlowBlock (ActNorm, Invertible1x1Conv with LU, "
        "AffineCouplingBlock with its ConvNet2d 3x3/1x1/3x3, zero-initialised, scale_map "
        "'sigmoid' as normflows' Glow default) and Squeeze per level, Merge (channel split) "
        "between levels, DiagGaussian bases; sample() also computes log q, which normflows "
        "always does. Dequantization and logit: benchmarks/baselines/handwritten_digits.py.",
    )


CONTENDERS: dict[str, Builder] = {
    "flowspec": flowspec_model,
    "flowspec glow_digits.yaml": shipped_model,
    "normflows": normflows_model,
}
