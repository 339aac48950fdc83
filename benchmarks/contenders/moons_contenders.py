"""RealNVP on 2-D moons (8 affine couplings, MLP 1 -> 64 -> 64 -> 2, ReLU, alternating which
coordinate is transformed, standard normal base) built five ways: flowspec from
specs/realnvp_moons.yaml, hand-written torch, zuko, nflows and normflows.

Every conditioner has the same shape and its output layer starts at zero (flowspec's and the
hand-written default; set explicitly for the peers), so the parameter counts agree. What
cannot agree is each library's scale parameterisation, given in each contender's note.
Peers are imported inside their builders, so a fresh process imports only the one it needs.
"""

from __future__ import annotations

from pathlib import Path

import torch
from harness.contender import Builder, Contender
from torch import nn

from contenders.peer_nets import ContextFreeMLP, zero_last_linear

__all__ = ["CONTENDERS", "SPEC", "LAYERS", "HIDDEN"]

SPEC = Path(__file__).resolve().parents[2] / "specs" / "realnvp_moons.yaml"
LAYERS = 8
HIDDEN = (64, 64)


def flowspec_model() -> Contender:
    import flowspec

    model = flowspec.compile(SPEC)
    return Contender(
        "flowspec",
        model,
        model.log_prob,
        model.sample,
        "specs/realnvp_moons.yaml via flowspec.compile; log-scale 2 tanh(s/2); keeps x[0], "
        "transforms x[1], reverse between couplings.",
    )


def handwritten_model() -> Contender:
    from baselines.handwritten_realnvp import HandwrittenRealNVP

    model = HandwrittenRealNVP(LAYERS)
    return Contender(
        "torch",
        model,
        model.log_prob,
        model.sample,
        "benchmarks/baselines/handwritten_realnvp.py: the same density as the spec, the best way by "
        "hand: the halves stay separate tensors and swap roles (no flip, no merge).",
    )


def zuko_model() -> Contender:
    import zuko

    flow = zuko.flows.RealNVP(2, transforms=LAYERS, hidden_features=HIDDEN)
    for transform in flow.transform.transforms:
        zero_last_linear(transform.hyper)
    return Contender(
        "zuko",
        flow,
        lambda x: flow().log_prob(x),
        lambda n: flow().sample((n,)),
        "zuko.flows.RealNVP: alternating checkered masks instead of reversals (the same "
        "alternation in 2-D); log-scale a / (1 + |a| / ln 1000) (soft bound ~6.9); the "
        "distribution object is rebuilt by flow() on every call, as zuko intends.",
    )


def nflows_model() -> Contender:
    from nflows.distributions.normal import StandardNormal
    from nflows.flows.base import Flow
    from nflows.transforms.base import CompositeTransform
    from nflows.transforms.coupling import AffineCouplingTransform
    from nflows.transforms.permutations import ReversePermutation

    def net(features_in: int, features_out: int) -> nn.Module:
        return ContextFreeMLP(features_in, features_out, HIDDEN)

    layers = []
    for _ in range(LAYERS):
        layers += [AffineCouplingTransform(torch.tensor([0, 1]), net), ReversePermutation(2)]
    flow = Flow(CompositeTransform(layers), StandardNormal([2]))
    return Contender(
        "nflows",
        flow,
        flow.log_prob,
        flow.sample,
        "nflows AffineCouplingTransform + ReversePermutation; scale sigmoid(a + 2) + 1e-3 "
        "(at most ~1, and 0.88 at a = 0, so not the identity at init); plain MLP conditioner "
        "(nflows' own MLP takes no context argument; benchmarks/contenders/peer_nets.py wraps one); "
        "outputs merged by index assignment.",
    )


def normflows_model() -> Contender:
    import normflows as nf

    data_direction = []
    for _ in range(LAYERS):
        param_map = nf.nets.MLP([1, *HIDDEN, 2], init_zeros=True)
        data_direction += [nf.flows.AffineCouplingBlock(param_map), nf.flows.Permute(2, "swap")]
    # normflows lists flows from the base to the data and evaluates log_prob through inverses.
    model = nf.NormalizingFlow(
        nf.distributions.DiagGaussian(2, trainable=False), data_direction[::-1]
    )
    return Contender(
        "normflows",
        model,
        model.log_prob,
        lambda n: model.sample(n)[0],
        "normflows AffineCouplingBlock (scale_map 'exp': unbounded log-scale) + Permute "
        "'swap'; sample() also accumulates log q, which normflows always does; "
        "split/merge are separate flow objects.",
    )


#: Name -> builder, in table order.
CONTENDERS: dict[str, Builder] = {
    "flowspec": flowspec_model,
    "torch": handwritten_model,
    "zuko": zuko_model,
    "nflows": nflows_model,
    "normflows": normflows_model,
}
