"""specs/digits_dequant.yaml (64 dims, 17 levels: uniform dequantization, logit with alpha
0.05, 6 x [actnorm, affine coupling with an MLP 32 -> 256 -> 256 -> 64, fixed random
permutation], standard normal) built five ways: flowspec, hand-written torch, zuko, nflows
and normflows.

None of the peers has uniform dequantization plus RealNVP's alpha-logit as flow layers, so
they all get the hand-written :class:`handwritten_digits.Preprocessing` in front (the same
noise draws as flowspec under the same seed) and its log-determinant added to their
``log_prob``; ``sample`` maps their draws back to integers the same way. Every contender uses
the same 6 permutations (``torch.randperm(64)`` from seeds 0..5: flowspec's ``shuffle``
gives repetition r of a block the seed 0 + r) and the first 32 features as the kept half, and
every conditioner's output layer starts at zero.
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
from baselines.handwritten_digits import (
    FEATURES,
    HandwrittenDigits,
    Preprocessing,
    permutation_order,
)
from harness.contender import Builder, Contender
from torch import nn

from contenders.peer_nets import ContextFreeMLP, zero_last_linear

__all__ = ["CONTENDERS", "SPEC", "STEPS", "HIDDEN", "behind_preprocessing"]

SPEC = Path(__file__).resolve().parents[2] / "specs" / "digits_dequant.yaml"
STEPS = 6
HIDDEN = (256, 256)
KEEP = FEATURES // 2


def _order(step: int) -> torch.Tensor:
    return permutation_order(FEATURES, step)


def behind_preprocessing(peer: Contender) -> Contender:
    """``peer``, a flow on the real line, behind the shared dequantization and logit: its
    ``log_prob`` gets their log-determinant added, its samples are mapped back to integers."""
    pre = Preprocessing()

    def log_prob(x: torch.Tensor) -> torch.Tensor:
        z, log_det = pre(x)
        return peer.log_prob(z) + log_det

    return Contender(
        peer.name,
        peer.module,
        log_prob,
        lambda n: pre.inverse(peer.sample(n)),
        peer.note + " Dequantization and logit: benchmarks/baselines/handwritten_digits.py.",
    )


def flowspec_model() -> Contender:
    import flowspec

    model = flowspec.compile(SPEC)
    return Contender(
        "flowspec",
        model,
        model.log_prob,
        model.sample,
        "specs/digits_dequant.yaml via flowspec.compile.",
    )


def handwritten_model() -> Contender:
    model = HandwrittenDigits(STEPS)
    return Contender(
        "torch",
        model,
        model.log_prob,
        model.sample,
        "benchmarks/baselines/handwritten_digits.py: the same maths as the spec (checked equal to "
        "flowspec's log_prob to 3e-5 nats with shared weights and noise).",
    )


def _zuko_affine(shift: torch.Tensor, scale: torch.Tensor):
    from zuko.transforms import DependentTransform, MonotonicAffineTransform

    return DependentTransform(MonotonicAffineTransform(shift, scale), 1)


def zuko_model() -> Contender:
    from zuko.distributions import DiagNormal
    from zuko.flows import (
        Flow,
        GeneralCouplingTransform,
        UnconditionalDistribution,
        UnconditionalTransform,
    )
    from zuko.transforms import PermutationTransform

    keep = torch.arange(FEATURES) < KEEP  # zuko: True = kept (conditions the rest)
    transforms: list[nn.Module] = []
    for step in range(STEPS):
        coupling = GeneralCouplingTransform(FEATURES, mask=keep, hidden_features=HIDDEN)
        zero_last_linear(coupling.hyper)
        transforms += [
            UnconditionalTransform(_zuko_affine, torch.zeros(FEATURES), torch.zeros(FEATURES)),
            coupling,
            UnconditionalTransform(PermutationTransform, _order(step), buffer=True),
        ]
    base = UnconditionalDistribution(
        DiagNormal, torch.zeros(FEATURES), torch.ones(FEATURES), buffer=True
    )
    flow = Flow(transforms, base)
    first_affine = transforms[0]
    initialised = [False]

    def log_prob(z: torch.Tensor) -> torch.Tensor:
        if not initialised[0]:  # actnorm's data-dependent init, done by hand for zuko
            with torch.no_grad():
                log_scale = -torch.log(z.std(0, correction=0) + 1e-6)
                # zuko's scale map is L = a / (1 + |a| / ln 1000); invert it for a.
                raw = log_scale / (1.0 - log_scale.abs() / math.log(1000.0))
                first_affine._0.copy_(-z.mean(0) * torch.exp(log_scale))
                first_affine._1.copy_(raw)
            initialised[0] = True
        return flow().log_prob(z)

    return behind_preprocessing(
        Contender(
            "zuko",
            flow,
            log_prob,
            lambda n: flow().sample((n,)),
            "zuko has no actnorm: a learned per-feature MonotonicAffineTransform stands in, the "
            "first one set from the first batch by hand (the later ones would initialise to the "
            "identity anyway, as the couplings start at the identity); log-scale soft-bounded by "
            "a / (1 + |a| / ln 1000); custom Flow of GeneralCouplingTransform and "
            "PermutationTransform.",
        )
    )


def nflows_model() -> Contender:
    from nflows.distributions.normal import StandardNormal
    from nflows.flows.base import Flow
    from nflows.transforms.base import CompositeTransform
    from nflows.transforms.coupling import AffineCouplingTransform
    from nflows.transforms.normalization import ActNorm
    from nflows.transforms.permutations import Permutation

    def net(features_in: int, features_out: int) -> nn.Module:
        return ContextFreeMLP(features_in, features_out, HIDDEN)

    transform_mask = torch.tensor([0] * KEEP + [1] * (FEATURES - KEEP))  # nflows: 1 = changed
    layers: list[nn.Module] = []
    for step in range(STEPS):
        layers += [
            ActNorm(FEATURES),
            AffineCouplingTransform(transform_mask, net),
            Permutation(_order(step)),
        ]
    flow = Flow(CompositeTransform(layers), StandardNormal([FEATURES]))
    return behind_preprocessing(
        Contender(
            "nflows",
            flow,
            flow.log_prob,
            flow.sample,
            "nflows ActNorm + AffineCouplingTransform + Permutation; coupling scale "
            "sigmoid(a + 2) + 1e-3 (at most ~1); ActNorm's init divides by the std before "
            "taking the mean (same result); the inverse permutation is recomputed (argsort) "
            "on every sample call.",
        )
    )


def normflows_model() -> Contender:
    import normflows as nf

    data_direction: list[nn.Module] = []
    for step in range(STEPS):
        param_map = nf.nets.MLP([KEEP, *HIDDEN, 2 * (FEATURES - KEEP)], init_zeros=True)
        permute = nf.flows.Permute(FEATURES, "shuffle")
        # normflows evaluates log_prob through inverse(): z[:, inv_perm] must apply the order.
        order = _order(step)
        permute.inv_perm.copy_(order)
        permute.perm.copy_(torch.argsort(order))
        data_direction += [
            nf.flows.ActNorm((FEATURES,)),
            nf.flows.AffineCouplingBlock(param_map),
            permute,
        ]
    model = nf.NormalizingFlow(
        nf.distributions.DiagGaussian(FEATURES, trainable=False), data_direction[::-1]
    )
    return behind_preprocessing(
        Contender(
            "normflows",
            model,
            model.log_prob,
            lambda n: model.sample(n)[0],
            "normflows ActNorm + AffineCouplingBlock (scale_map 'exp': unbounded log-scale) + "
            "Permute with the shared order; sample() also accumulates log q.",
        )
    )


#: Name -> builder, in table order.
CONTENDERS: dict[str, Builder] = {
    "flowspec": flowspec_model,
    "torch": handwritten_model,
    "zuko": zuko_model,
    "nflows": nflows_model,
    "normflows": normflows_model,
}
