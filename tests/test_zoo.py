"""The zoo of published architectures (``specs/zoo/``): each spec's parameter count against
the one its header cites from the official code (within 1%), and each run forward, backward
and back again at its real data shape with its widths scaled down by ``overrides``.

The cited counts are held here as well as in the headers, so that a change to a part's
parameter formula that moves a zoo spec away from its paper fails here."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
import yaml

import flowspec
from flowspec.diagnostics import SpecError
from flowspec.graph.bookkeeping import graph_bookkeeping

ZOO = Path(__file__).resolve().parent.parent / "specs" / "zoo"


def _shrunk_flow_dequantizer(name: str, node: str, **settings: object) -> list[dict[str, object]]:
    """The layers of ``node``'s flow dequantizer with ``settings`` in every conditioner:
    overrides reach node and block entries, not the layers of a density."""
    layers = yaml.safe_load((ZOO / name).read_text())["nodes"][node]["dequantizer"]["layers"]
    return [
        {**layer, "conditioner": {**layer["conditioner"], **settings}}
        if "conditioner" in layer
        else layer
        for layer in layers
    ]


_SMALL_DENSENET = {"channels": 4, "growth": 4, "depth": 1}

#: Flow++ scaled down: narrow gated attention and 2 mixture components (inverted in 40
#: halvings by the round trip); the dequantizer draws through its couplings' explicit pass
_FLOWPP_NET = {"kind": "gated_attention", "channels": 4, "blocks": 1, "heads": 2}
_FLOWPP_DEQUANTIZER = [
    step
    for mask in ("columns", "columns_flipped")
    for step in (
        {"kind": "actnorm"},
        {"kind": "invconv1x1", "bias": False},
        {
            "kind": "coupling",
            "mask": mask,
            "transformer": {"kind": "logistic_mixture", "components": 2, "scale_bound": 1.0},
            "conditioner": _FLOWPP_NET,
        },
    )
]

#: spec file -> (parameters of the official code's configuration, overrides that shrink it)
CITED: dict[str, tuple[int, dict[str, object]]] = {
    "ffjord_mnist.yaml": (800_646, {"net.channels": [8]}),
    "flowpp_cifar10.yaml": (
        31_443_440,
        {
            "conditioner": _FLOWPP_NET,
            "transformer": {
                "kind": "logistic_mixture",
                "components": 2,
                "scale_bound": 1.0,
                "inverse": {"max_iter": 40},
            },
            "dequant.dequantizer.layers": _FLOWPP_DEQUANTIZER,
        },
    ),
    "glow_cifar10_affine.yaml": (44_603_604, {"conditioner.channels": 8}),
    "glow_cifar10_additive.yaml": (38_395_668, {"conditioner.channels": 8}),
    "idf_cifar10.yaml": (58_458_052, {"net.channels": 4, "net.depth": 2}),
    "maf_mnist.yaml": (17_311_040, {"conditioner.hidden": [16, 16]}),
    # 2 steps per level: its 28 spline couplings at [12, 32, 32] cost 5 s at batch 2
    "nsf_imagenet64.yaml": (
        15_553_554,
        {
            "conditioner.channels": 8,
            "conditioner.blocks": 1,
            **{f"level{level}.repeat": 2 for level in range(1, 5)},
        },
    ),
    "nsf_power.yaml": (2_819_952, {"conditioner.hidden": 8}),
    "realnvp_cifar10.yaml": (19_631_640, {"conditioner.channels": 8, "conditioner.blocks": 1}),
    "resflow_cifar10.yaml": (25_174_233, {"net.channels": 8, "net.hidden": [8, 8]}),
    "survae_maxpool_cifar10.yaml": (
        105_023_968,
        {
            **{f"conditioner.{key}": value for key, value in _SMALL_DENSENET.items()},
            "dequantizer.net.hidden": [4],
            "scale1.repeat": 4,
            "scale2.repeat": 4,
            "dequant.dequantizer.layers": _shrunk_flow_dequantizer(
                "survae_maxpool_cifar10.yaml", "dequant", **_SMALL_DENSENET
            ),
        },
    ),
    # patches of 16x16 here: 16 tokens, so the round trip's 8 x 16 sweeps stay cheap
    "tarflow_imagenet64.yaml": (
        460_142_784,
        {
            "conditioner.dim": 16,
            "conditioner.heads": 2,
            "conditioner.layers": 2,
            "conditioner.patch": 16,
        },
    ),
}


def test_every_zoo_spec_has_a_cited_count() -> None:
    assert sorted(p.name for p in ZOO.glob("*.yaml")) == sorted(CITED)


@pytest.mark.parametrize("name", sorted(CITED))
def test_parameter_count_is_the_official_codes_within_one_percent(name: str) -> None:
    cited, _ = CITED[name]
    text = (ZOO / name).read_text()
    header = re.search(r"# Parameters: ([\d,]+) in the official code", text)
    assert header is not None, f"{name} cites no parameter count"
    assert int(header.group(1).replace(",", "")) == cited
    printed = re.search(r"# flowspec: ([\d,]+) ", text)
    assert printed is not None, f"{name} does not say what flowspec counts"
    counted = graph_bookkeeping(flowspec.check(ZOO / name).graph).total_params
    assert int(printed.group(1).replace(",", "")) == counted
    assert abs(counted - cited) <= 0.01 * cited


def _data(model: flowspec.FlowModel, batch: int) -> torch.Tensor:
    """A batch of the spec's data: its levels drawn uniformly (integers), else normals."""
    (name,) = model.DATA_INPUTS
    shape, levels = (
        model.INPUT_SHAPES[name],
        model.checked.loaded.data["inputs"][name].get("levels"),
    )
    if levels:
        return torch.randint(0, levels, (batch, *shape)).double()
    return torch.randn(batch, *shape, dtype=torch.float64)


@pytest.mark.parametrize("name", sorted(CITED))
def test_scaled_down_spec_runs_forward_backward_and_back_at_its_real_shape(name: str) -> None:
    torch.manual_seed(0)
    _, overrides = CITED[name]
    model = flowspec.compile(ZOO / name, overrides=overrides).double()
    x = _data(model, 2)
    model.train()  # actnorms set themselves from the first batch (model.initialize would
    log_p = model.log_prob(x)  # run inference once per actnorm: 96 passes for Glow)
    assert log_p.shape == (2,) and torch.isfinite(log_p).all()
    log_p.sum().backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    model.eval()
    if name in SURJECTIVE:
        return  # no round trip: generation draws what inference discarded
    with torch.no_grad():
        back = model.inverse(model.trace(x).latents)
    torch.testing.assert_close(back, x)


#: Zoo specs with a surjection that discards values (their tests below say what holds).
SURJECTIVE = {"survae_maxpool_cifar10.yaml"}


def test_scaled_down_maxpool_flow_keeps_window_maxima_and_samples_pixels() -> None:
    """SurVAE's max-pool flow is not a bijection, so no round trip: the pooled image is the
    window maxima of the image before it, and samples are pixels of the data's shape whose
    (bound on the) log-likelihood is finite."""
    torch.manual_seed(0)
    name = "survae_maxpool_cifar10.yaml"
    model = flowspec.compile(ZOO / name, overrides=CITED[name][1]).double().eval()
    x = _data(model, 2)
    with torch.no_grad():
        values = model.trace(x).values
        samples = model.sample(2)
        log_p = model.log_prob(samples)
    assert values["pool"].shape == (2, 12, 8, 8)
    torch.testing.assert_close(values["pool"], F.max_pool2d(values["scale1_3_1"], 2))
    assert samples.shape == x.shape and torch.equal(samples, samples.round())
    assert samples.min() >= 0 and samples.max() <= 255 and torch.isfinite(log_p).all()


def test_overrides_change_the_named_settings_and_locate_a_path_that_matches_nothing() -> None:
    spec = ZOO / "nsf_power.yaml"
    small = flowspec.check(spec, overrides={"conditioner.hidden": 8, "body.repeat": 2})
    assert graph_bookkeeping(small.graph).total_params < 10_000
    with pytest.raises(SpecError) as raised:
        flowspec.load(spec, overrides={"conditioner.hiden": 8})
    (problem,) = raised.value.diagnostics
    assert problem.code == "E940" and "override conditioner.hiden" in problem.message
    assert problem.location is not None and problem.location.line > 1
    assert problem.hint is not None and "hidden" in problem.hint
