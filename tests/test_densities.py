"""Conditional densities: each normalises (enumeration or quadrature), samples lie in its
support and follow it, unconditional use works, and a wrong support is a located error."""

import itertools
import math
from typing import Annotated

import pytest
import torch
from oracles import autograd_logdet, randomize_
from pydantic import TypeAdapter

from flowspec.core.node import NodeCheck
from flowspec.core.ports import PortInfo, Support
from flowspec.core.registry import density_kinds
from flowspec.densities.choice import DensityChoice, kind_default
from flowspec.diagnostics import Reporter, SpecError

GAUSSIAN_DEFAULT = TypeAdapter(Annotated[DensityChoice, kind_default("gaussian")])


def build(spec: dict, event: PortInfo, context: int, scale: float = 0.5):
    density = GAUSSIAN_DEFAULT.validate_python(spec)
    reporter = Reporter()
    assert density.check_event(event, NodeCheck(reporter, "n", ("nodes", "n")), "decoder")
    assert not reporter.has_errors
    module = density.build(event, context).double()
    randomize_(module, scale=scale)
    return density, module


def enumerate_support(levels: int, dims: int) -> torch.Tensor:
    return torch.tensor(list(itertools.product(range(levels), repeat=dims)), dtype=torch.float64)


@pytest.mark.parametrize(
    ("spec", "levels"),
    [
        ({"kind": "bernoulli", "net": {"hidden": [8]}}, 2),
        ({"kind": "categorical", "net": {"hidden": [8]}}, 4),
        ({"kind": "discretized_logistic", "mixtures": 3, "net": {"hidden": [8]}}, 5),
    ],
)
@pytest.mark.parametrize("context", [0, 3])
def test_pmf_sums_to_one_over_the_support(spec, levels, context):
    torch.manual_seed(0)
    event = PortInfo((2,), Support(0, levels - 1, levels=levels))
    _, density = build(spec, event, context)
    values = enumerate_support(levels, 2)
    for _ in range(3):
        c = torch.randn(1, 3, dtype=torch.float64).expand(len(values), 3) if context else None
        total = density.log_prob(values, c).exp().sum()
        torch.testing.assert_close(
            total, torch.tensor(1.0, dtype=torch.float64), atol=1e-10, rtol=0
        )


def test_discretized_logistic_over_all_integers_sums_to_one():
    torch.manual_seed(0)
    event = PortInfo((1,), Support(-math.inf, math.inf, levels=None))
    density = GAUSSIAN_DEFAULT.validate_python({"kind": "discretized_logistic", "mixtures": 2})
    module = density._build(event, None).double()
    randomize_(module, scale=0.5)
    values = torch.arange(-300, 301, dtype=torch.float64).unsqueeze(1)
    assert module.log_prob(values).exp().sum().item() == pytest.approx(1.0, abs=1e-9)


def test_gaussian_integrates_to_one_and_reparameterises():
    torch.manual_seed(0)
    _, density = build({"net": {"hidden": [8]}}, PortInfo((1,)), 2)
    c = torch.randn(1, 2, dtype=torch.float64)
    grid = torch.linspace(-30, 30, 60001, dtype=torch.float64).unsqueeze(1)
    mass = density.log_prob(grid, c.expand(len(grid), 2)).exp().sum() * (grid[1] - grid[0])
    assert mass.item() == pytest.approx(1.0, abs=1e-6)
    value, log_q = density.sample_and_log_prob(c.expand(5, 2))
    torch.testing.assert_close(log_q, density.log_prob(value, c.expand(5, 2)))
    log_q.sum().backward()
    assert all(p.grad is not None for p in density.parameters())


@pytest.mark.parametrize(
    ("spec", "levels"),
    [
        ({"kind": "bernoulli"}, 2),
        ({"kind": "categorical"}, 3),
        ({"kind": "discretized_logistic", "mixtures": 2}, 4),
    ],
)
def test_samples_follow_the_pmf(spec, levels):
    torch.manual_seed(0)
    event = PortInfo((1,), Support(0, levels - 1, levels=levels))
    _, density = build(spec, event, 0)
    with torch.no_grad():
        draws = density.sample(n=20000)
        pmf = density.log_prob(enumerate_support(levels, 1)).exp()
    assert draws.shape == (20000, 1)
    counts = torch.bincount(draws.long().flatten(), minlength=levels).double() / 20000
    torch.testing.assert_close(counts, pmf, atol=0.015, rtol=0)


def test_default_kind_is_gaussian_and_every_kind_is_registered():
    assert GAUSSIAN_DEFAULT.validate_python({"net": {"hidden": [4]}}).kind == "gaussian"
    assert {"gaussian", "bernoulli", "categorical", "discretized_logistic"} <= set(density_kinds())


@pytest.mark.parametrize(
    ("kind", "support", "code"),
    [
        ("gaussian", Support(0, 3, levels=4), "E800"),
        ("bernoulli", Support(), "E801"),
        ("bernoulli", Support(0, 3, levels=4), "E802"),
        ("categorical", Support(), "E801"),
        ("discretized_logistic", Support(), "E801"),
    ],
)
def test_wrong_support_is_a_located_error(kind, support, code):
    density = GAUSSIAN_DEFAULT.validate_python({"kind": kind})
    reporter = Reporter()
    ok = density.check_event(
        PortInfo((3,), support), NodeCheck(reporter, "n", ("nodes", "n")), "decoder"
    )
    assert not ok
    (diagnostic,) = reporter.diagnostics
    assert diagnostic.code == code and diagnostic.path == ("nodes", "n", "decoder")


FLOW = {
    "kind": "flow",
    "net": {"hidden": [8]},
    "layers": [{"kind": "affine_coupling", "net": {"hidden": [8]}}, {"kind": "reverse"}],
    "repeat": 2,
}


@pytest.mark.parametrize("context", [0, 3])
def test_flow_density_integrates_to_one_and_scores_its_draws(context):
    torch.manual_seed(0)
    _, density = build(FLOW, PortInfo((2,)), context, scale=0.1)
    c = torch.randn(1, 3, dtype=torch.float64) if context else None
    axis = torch.linspace(-15, 15, 601, dtype=torch.float64)
    points = torch.cartesian_prod(axis, axis)
    rows = c.expand(len(points), 3) if context else None
    with torch.no_grad():
        mass = density.log_prob(points, rows).exp().sum() * (axis[1] - axis[0]) ** 2
    assert mass.item() == pytest.approx(1.0, abs=2e-3)
    many = c.expand(6, 3) if context else None
    value, log_q = density.sample_and_log_prob(many, n=6)
    assert value.shape == (6, 2)
    torch.testing.assert_close(log_q, density.log_prob(value, many))
    log_q.sum().backward()  # reparameterised: the base's and the layers' weights get gradients
    assert all(p.grad is not None for p in density.parameters())


@pytest.mark.parametrize(
    ("layers", "code", "where"),
    [
        ([{"kind": "afine_coupling"}], "E804", ("layers", 0)),
        ([{"kind": "reverse"}, {"kind": "slice", "keep": 1}], "E804", ("layers", 1)),
        ([{"kind": "reverse", "in": "x"}], "E804", ("layers", 0)),
        ([{"kind": "affine_coupling", "mask": [1, 0, 1]}], "E403", ("layers", 0, "mask")),
        ([{"kind": "reshape", "shape": [2, 1]}], "E805", ("layers", 0)),
    ],
)
def test_flow_density_layer_mistakes_are_located(layers, code, where):
    density = GAUSSIAN_DEFAULT.validate_python({"kind": "flow", "layers": layers})
    reporter = Reporter()
    assert not density.check_event(
        PortInfo((2,)), NodeCheck(reporter, "n", ("nodes", "n")), "encoder"
    )
    assert [(d.code, d.path) for d in reporter.diagnostics if d.severity == "error"] == [
        (code, ("nodes", "n", "encoder", *where))
    ]


SQUEEZED = {
    "kind": "flow",
    "net": {"hidden": [8]},
    "layers": [
        {"kind": "squeeze"},
        {"kind": "invconv1x1"},
        {"kind": "coupling", "mask": "channel", "conditioner": {"kind": "conv", "channels": 4}},
        {"kind": "unsqueeze"},
    ],
    "repeat": 2,
}


def test_flow_density_layers_may_squeeze_and_unsqueeze_in_between():
    """SurVAE's and Flow++'s dequantizers step at a coarser scale: the layers after a
    squeeze are built for its shape, and the density is the base's at the layers' inference
    pass plus their log-determinants (against autograd in float64)."""
    torch.manual_seed(0)
    event = PortInfo((2, 2, 4))
    density, module = build(SQUEEZED, event, 3, scale=0.3)
    assert [info.shape for info in density.layer_inputs(density.chain(None), event)] == [
        (2, 2, 4),
        (8, 1, 2),
        (8, 1, 2),
        (8, 1, 2),
    ] * 2
    c = torch.randn(2, 3, dtype=torch.float64)
    v = torch.randn(2, 2, 2, 4, dtype=torch.float64)

    def inference(values, context):
        for layer in module.layers:
            values = layer(values, context=context)[0]
        return values

    mean, scale = module.params(c, 2)
    e = inference(v, c)
    logdet = torch.stack(
        [
            autograd_logdet(lambda x, i=i: inference(x, c[i : i + 1]), v[i : i + 1])[0]
            for i in range(2)
        ]
    )
    expected = module.base.log_prob_at(e, mean, scale) + logdet
    torch.testing.assert_close(module.log_prob(v, c), expected)
    value, log_q = module.sample_and_log_prob(c, n=2)
    assert value.shape == (2, 2, 2, 4)
    torch.testing.assert_close(log_q, module.log_prob(value, c))


def test_flow_density_layers_that_do_not_undo_a_squeeze_are_located():
    density = GAUSSIAN_DEFAULT.validate_python(
        {"kind": "flow", "layers": [{"kind": "squeeze"}, {"kind": "invconv1x1"}]}
    )
    reporter = Reporter()
    assert not density.check_event(
        PortInfo((1, 2, 2)), NodeCheck(reporter, "n", ("nodes", "n")), "dequantizer"
    )
    (error,) = [d for d in reporter.diagnostics if d.severity == "error"]
    assert error.code == "E805" and error.path == ("nodes", "n", "dequantizer", "layers", 1)
    assert "[4, 1, 1]" in error.message and "[1, 2, 2]" in error.message


def test_a_planar_flow_posterior_scores_its_draws_along_generation():
    """Rezende & Mohamed's setting: planar layers have no inference direction, so the
    posterior's draws are scored as they are generated; the VAE's bound stays finite and
    trains, and the node's likelihood class is a bound."""
    import flowspec

    text = (
        'flowspec: "1"\nname: t\ninputs:\n  x: {shape: [4], levels: 2}\nnodes:\n'
        "  v: {kind: vae, in: x, latent: 2, decoder: {kind: bernoulli},"
        " encoder: {kind: flow, layers: [{kind: planar}], repeat: 3}}\n"
        "  p: {kind: standard_normal, in: v}\n"
    )
    model = flowspec.compile(text).double()
    randomize_(model, scale=0.3)
    x = torch.randint(0, 2, (6, 4)).double()
    bound = model.log_prob(x)
    assert torch.isfinite(bound).all() and model.likelihood != "exact"
    bound.sum().backward()
    assert all(p.grad is not None for p in model.nodes["v"].encoder.parameters())


@pytest.mark.parametrize(
    ("node", "layers", "index", "kind", "image"),
    [
        (
            "  drop: {kind: slice, keep: 1, in: x, decoder: {kind: flow, layers: [LAYERS]}}",
            "{kind: elementwise, fn: exp}",
            0,
            "elementwise exp",
            "(0, inf)",
        ),
        (
            "  drop: {kind: slice, keep: 1, in: x, decoder: {kind: flow, layers: [LAYERS]}}",
            "{kind: reverse}, {kind: elementwise, fn: tanh}, {kind: reverse}",
            1,
            "elementwise tanh",
            "(-1, 1)",
        ),
        (
            "  drop: {kind: variational_dequantization, in: x, dequantizer: {kind: flow, "
            "layers: [LAYERS]}}",
            "{kind: elementwise, fn: exp}",
            0,
            "elementwise exp",
            "(0, inf)",
        ),
    ],
)
def test_flow_density_mapping_off_the_real_line_is_a_located_error(
    node, layers, index, kind, image
):
    # Found by fuzzing: a flow density inverts its layers on Gaussian draws, so layers that
    # map the real line onto part of it (exp onto (0, inf)) gave NaN samples and NaN
    # log-densities (variational dequantization), and put mass nowhere (a slice decoder),
    # with only a W501 warning. A sigmoid then a logit stays on the line and is accepted.
    import flowspec

    inputs = "  x: {shape: [2], levels: 4}" if "dequant" in node else "  x: {shape: [2]}"
    text = f"""flowspec: "1"
name: t
inputs:
{inputs}
nodes:
{node}
  prior: {{kind: standard_normal, in: drop}}
"""
    with pytest.raises(SpecError) as caught:
        flowspec.check(text.replace("LAYERS", layers))
    (error,) = [d for d in caught.value.diagnostics if d.severity == "error"]
    assert (error.code, error.node, error.location.line) == ("E806", "drop", 6)
    assert error.path[-2:] == ("layers", index) and error.path[:2] == ("nodes", "drop")
    assert f"layer {index} ({kind})" in error.message and image in error.message
    assert "logit" in error.hint
    fixed = "{kind: elementwise, fn: sigmoid}, {kind: elementwise, fn: logit}"
    assert "layers" not in str(
        [w.path for w in flowspec.check(text.replace("LAYERS", fixed)).warnings]
    )
