"""MAF and NSF on scikit-learn's 8x8 digits (64 dims, 17 levels) built three ways: flowspec
(the spec text below), zuko (``zuko.flows.MAF``, ``zuko.flows.NSF``) and nflows (masked
autoregressive transforms), with the same number of layers, MADE sizes, bins and bound.

Both families are fully autoregressive, as zuko's MAF and NSF are by default: density in
one pass of each MADE, sampling in 64 sequential passes. The peers have no uniform
dequantization and alpha-logit layers, so they get benchmarks/baselines/handwritten_digits.py's
``Preprocessing`` in front (the same noise draw as flowspec's under the same seed), as in
bench_digits.py. Every MADE's output layer starts at zero, so zuko and flowspec start as
the identity on the logit scale (nflows' MAF scale map gives sigmoid(2) + 1e-3 at zero).
"""

from __future__ import annotations

from baselines.handwritten_digits import ALPHA, FEATURES, LEVELS
from harness.contender import Builder, Contender

from contenders.digits_contenders import behind_preprocessing
from contenders.families1_contenders import (
    flowspec_contender,
    nflows_autoregressive,
    zuko_contender,
)

__all__ = [
    "MAF_CONTENDERS",
    "NSF_CONTENDERS",
    "LAYERS",
    "MAF_HIDDEN",
    "NSF_HIDDEN",
    "BINS",
    "BOUND",
    "digits_spec",
]

LAYERS = 5
MAF_HIDDEN = (256, 256)
NSF_HIDDEN = (128, 128)  # the spline's 23 parameters per feature make the output layer wide
BINS, BOUND = 8, 5.0
MAF_TRANSFORMER = "{kind: affine, scale_bound: 3.0}"
MAF_SIZES, NSF_SIZES = ("x".join(map(str, h)) for h in (MAF_HIDDEN, NSF_HIDDEN))
NSF_TRANSFORMER = f"{{kind: rq_spline, bins: {BINS}, bound: {BOUND}}}"


def digits_spec(transformer: str, hidden: tuple[int, ...]) -> str:
    """The benchmark's spec: dequantization, logit, ``LAYERS`` x [MAF layer with
    ``transformer`` and a MADE conditioner of ``hidden`` sizes, reverse], standard normal."""
    return f"""
flowspec: "1"
name: digits-autoregressive-bench
inputs:
  x: {{shape: [{FEATURES}], levels: {LEVELS}}}
blocks:
  step:
    - kind: autoregressive
      direction: maf
      transformer: {transformer}
      conditioner: {{kind: made, hidden: {list(hidden)}}}
    - {{kind: reverse}}
nodes:
  dequant: {{kind: uniform_dequantization, in: x}}
  to_real: {{kind: elementwise, fn: logit, alpha: {ALPHA}, in: dequant}}
  body: {{block: step, repeat: {LAYERS}, in: to_real}}
  prior: {{kind: standard_normal, in: body}}
"""


def flowspec_maf() -> Contender:
    return flowspec_contender(
        digits_spec(MAF_TRANSFORMER, MAF_HIDDEN),
        "spec in benchmarks/contenders/families1_digits_contenders.py: uniform_dequantization, logit "
        f"(alpha 0.05), 5 x [autoregressive maf, affine (log-scale 3 tanh(s/3)), MADE {MAF_SIZES} "
        "in natural order, reverse]; sampling by 64 fixed-point sweeps per layer.",
    )


def zuko_maf() -> Contender:
    import zuko

    flow = zuko.flows.MAF(FEATURES, transforms=LAYERS, hidden_features=MAF_HIDDEN)
    return behind_preprocessing(
        zuko_contender(
            flow,
            f"zuko.flows.MAF (MaskedMLP {MAF_SIZES}): orders alternate natural/reversed instead of a "
            "reversal between layers (the same dependencies); log-scale a / (1 + |a| / ln "
            "1000); hidden units assigned to the distinct output dependency sets.",
        )
    )


def nflows_maf() -> Contender:
    from nflows.transforms.autoregressive import MaskedAffineAutoregressiveTransform

    return behind_preprocessing(
        nflows_autoregressive(
            MaskedAffineAutoregressiveTransform,
            FEATURES,
            LAYERS,
            MAF_HIDDEN,
            f"nflows MaskedAffineAutoregressiveTransform (MADE {MAF_SIZES}: initial layer + 1 plain "
            "block) + ReversePermutation; scale sigmoid(a + 2) + 1e-3 (at most ~1).",
        )
    )


def flowspec_nsf() -> Contender:
    return flowspec_contender(
        digits_spec(NSF_TRANSFORMER, NSF_HIDDEN),
        f"the same spec with `transformer: {NSF_TRANSFORMER}`, MADE {NSF_SIZES} (linear "
        "tails, minimum bin width, height and derivative 1e-3; softmax widths, softplus "
        "derivatives shifted so that zero parameters give the identity).",
    )


def zuko_nsf() -> Contender:
    import zuko

    flow = zuko.flows.NSF(FEATURES, bins=BINS, transforms=LAYERS, hidden_features=NSF_HIDDEN)
    return behind_preprocessing(
        zuko_contender(
            flow,
            f"zuko.flows.NSF (fully autoregressive, MaskedMLP {NSF_SIZES}, 8 bins on [-5, 5], identity "
            "outside): raw widths, heights and log-derivatives soft-clipped by a / (1 + |a| / "
            "c) instead of minimum sizes, derivatives exp(.) (zero parameters: the identity); "
            "alternating orders.",
        )
    )


def nflows_nsf() -> Contender:
    from nflows.transforms.autoregressive import (
        MaskedPiecewiseRationalQuadraticAutoregressiveTransform,
    )

    return behind_preprocessing(
        nflows_autoregressive(
            MaskedPiecewiseRationalQuadraticAutoregressiveTransform,
            FEATURES,
            LAYERS,
            NSF_HIDDEN,
            f"nflows MaskedPiecewiseRationalQuadraticAutoregressiveTransform (MADE {NSF_SIZES}, 8 "
            "bins, linear tails at 5, minimum sizes 1e-3) + ReversePermutation; raw widths and "
            f"heights divided by sqrt({NSF_HIDDEN[0]}); interior derivatives softplus(a) + 1e-3 "
            "(0.69 at zero parameters: not the identity at the start); boolean-mask indexing "
            "inside the spline.",
            num_bins=BINS,
            tails="linear",
            tail_bound=BOUND,
        )
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
