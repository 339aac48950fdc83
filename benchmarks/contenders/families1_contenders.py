"""MAF and NSF on 2-D moons built three ways: flowspec (specs/maf_moons.yaml,
specs/nsf_moons.yaml), zuko and nflows, with the same layer counts, hidden sizes, bins and
bounds. Peers are imported inside their builders. Every conditioner's output layer starts
at zero (set explicitly for the peers that do not do it themselves). The peer flows are
built by functions of the dimension and sizes, which the digits section
(families1_digits_contenders.py) calls too."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
from harness.contender import Builder, Contender

from contenders.peer_nets import ContextFreeMLP, zero_last_linear

__all__ = [
    "MAF_CONTENDERS",
    "NSF_CONTENDERS",
    "flowspec_contender",
    "zuko_contender",
    "nflows_autoregressive",
]

SPECS = Path(__file__).resolve().parents[2] / "specs"
MAF_LAYERS, NSF_LAYERS = 5, 4
HIDDEN = (64, 64)
BINS, BOUND = 8, 5.0


def flowspec_contender(spec: str | Path, note: str) -> Contender:
    """A spec (a path or YAML text) compiled by flowspec."""
    import flowspec

    model = flowspec.compile(spec)
    return Contender("flowspec", model, model.log_prob, model.sample, note)


def zuko_contender(flow: torch.nn.Module, note: str) -> Contender:
    """A zuko flow with every conditioner's last layer zeroed."""
    for transform in flow.transform.transforms:
        zero_last_linear(transform.hyper)
    return Contender(
        "zuko", flow, lambda x: flow().log_prob(x), lambda n: flow().sample((n,)), note
    )


def nflows_autoregressive(
    made: type, features: int, layers: int, hidden: Sequence[int], note: str, **options: object
) -> Contender:
    """``layers`` x [an nflows masked autoregressive transform of class ``made`` with one
    hidden width (nflows' MADE: an initial layer + ``len(hidden) - 1`` plain blocks), zeroed
    output layer, ReversePermutation], standard normal base."""
    from nflows.distributions.normal import StandardNormal
    from nflows.flows.base import Flow
    from nflows.transforms.base import CompositeTransform
    from nflows.transforms.permutations import ReversePermutation

    if len(set(hidden)) != 1:
        raise ValueError(f"nflows' MADE has one hidden width, got {hidden}")
    transforms = []
    for _ in range(layers):
        transform = made(
            features, hidden[0], num_blocks=len(hidden) - 1, use_residual_blocks=False, **options
        )
        zero_last_linear(transform.autoregressive_net)
        transforms += [transform, ReversePermutation(features)]
    flow = Flow(CompositeTransform(transforms), StandardNormal([features]))
    return Contender("nflows", flow, flow.log_prob, flow.sample, note)


def flowspec_maf() -> Contender:
    return flowspec_contender(
        SPECS / "maf_moons.yaml",
        "specs/maf_moons.yaml: 5 MADE 2x64 layers, affine, log-scale 3 tanh(s/3), reverse "
        "between layers; sampling by D fixed-point sweeps.",
    )


def zuko_maf() -> Contender:
    import zuko

    return zuko_contender(
        zuko.flows.MAF(2, transforms=MAF_LAYERS, hidden_features=HIDDEN),
        "zuko.flows.MAF: orders alternate natural/reversed; log-scale a / (1 + |a| / ln "
        "1000); sampling inverts feature by feature.",
    )


def nflows_maf() -> Contender:
    from nflows.transforms.autoregressive import MaskedAffineAutoregressiveTransform

    return nflows_autoregressive(
        MaskedAffineAutoregressiveTransform,
        2,
        MAF_LAYERS,
        HIDDEN,
        "nflows MaskedAffineAutoregressiveTransform (MADE 2x64: initial layer + 1 block) + "
        "ReversePermutation; scale sigmoid(a + 2) + 1e-3.",
    )


def flowspec_nsf() -> Contender:
    return flowspec_contender(
        SPECS / "nsf_moons.yaml",
        "specs/nsf_moons.yaml: 4 rational-quadratic spline couplings (8 bins on [-5, 5], "
        "linear tails), MLP 1 -> 64 -> 64 -> 23, reverse between couplings.",
    )


def zuko_nsf() -> Contender:
    import zuko

    return zuko_contender(
        zuko.flows.NSF(2, bins=BINS, transforms=NSF_LAYERS, hidden_features=HIDDEN, passes=2),
        "zuko.flows.NSF with passes=2 (coupling): spline on [-5, 5]; zuko's coupling also "
        "applies a learned (input-free) spline to the kept feature; alternating orders.",
    )


def nflows_nsf() -> Contender:
    from nflows.distributions.normal import StandardNormal
    from nflows.flows.base import Flow
    from nflows.transforms.base import CompositeTransform
    from nflows.transforms.coupling import PiecewiseRationalQuadraticCouplingTransform
    from nflows.transforms.permutations import ReversePermutation

    def net(features_in: int, features_out: int) -> torch.nn.Module:
        return ContextFreeMLP(features_in, features_out, HIDDEN)

    layers = []
    for _ in range(NSF_LAYERS):
        layers += [
            PiecewiseRationalQuadraticCouplingTransform(
                torch.tensor([0, 1]), net, num_bins=BINS, tails="linear", tail_bound=BOUND
            ),
            ReversePermutation(2),
        ]
    flow = Flow(CompositeTransform(layers), StandardNormal([2]))
    return Contender(
        "nflows",
        flow,
        flow.log_prob,
        flow.sample,
        "nflows PiecewiseRationalQuadraticCouplingTransform (8 bins, linear tails at 5) + "
        "ReversePermutation; boolean-mask indexing inside the spline.",
    )


MAF_CONTENDERS: dict[str, Builder] = {
    "flowspec": flowspec_maf,
    "zuko": zuko_maf,
    "nflows": nflows_maf,
}
NSF_CONTENDERS: dict[str, Builder] = {
    "flowspec": flowspec_nsf,
    "zuko": zuko_nsf,
    "nflows": nflows_nsf,
}
