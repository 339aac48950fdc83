"""Transformers used elementwise (issue 6, the seam): the fixed monotone maps are transformer
kinds that couplings and autoregressive layers take, and the elementwise node applies any
transformer with free parameters learned per feature."""

from __future__ import annotations

import math
import warnings as warnings_module

import pytest
import torch
from oracles import assert_logdet_matches, infer_node, make_node, randomize_, values_in

import flowspec
from flowspec.core.ports import PortInfo, Support
from flowspec.core.properties import Cost, Likelihood
from flowspec.core.registry import transformer_kinds
from flowspec.diagnostics import SpecError
from flowspec.graph.bookkeeping import spec_bookkeeping
from flowspec.nodes.elementwise import FUNCTIONS, ElementwiseSpec
from flowspec.optimize.program import AffineChain
from flowspec.transformers._monotone import MonotoneMapSpec

F64 = torch.float64
UNIT, POSITIVE = Support(0.0, 1.0), Support(0.0, math.inf)


def example(name: str) -> tuple[dict, Support]:
    """A transformer kind's first declared example: its settings (with the kind) and the
    support of the values it is fed."""
    declared = transformer_kinds()[name].examples[0]
    return {"kind": name, **declared.settings}, declared.inputs[0].support


def inputs_in(support: Support, *shape: int, seed: int = 1) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    if support == UNIT:
        return torch.rand(*shape, generator=g, dtype=F64) * 0.98 + 0.01
    if support == POSITIVE:
        return torch.exp(torch.randn(*shape, generator=g, dtype=F64))
    return 2 * torch.randn(*shape, generator=g, dtype=F64)


@pytest.mark.parametrize("name", ["additive", "affine", "rq_spline"])
def test_learned_elementwise_starts_at_the_identity(name):
    spec, _ = example(name)
    _, layer, _ = make_node({"kind": "elementwise", "transformer": spec}, (4,))
    x = inputs_in(Support(), 8, 4)
    z, contribution = layer(x)
    assert torch.equal(z, x) or torch.allclose(z, x, atol=1e-12, rtol=0)
    torch.testing.assert_close(contribution, torch.zeros(8, dtype=F64), atol=1e-12, rtol=0)


def test_learned_spline_trains_per_feature():
    """Gradients reach the free parameters, and one step moves each feature's spline."""
    _, layer, _ = make_node({"kind": "elementwise", "transformer": example("rq_spline")[0]}, (3,))
    x = inputs_in(Support(), 64, 3)
    z, contribution = layer(x)
    (-(contribution - 0.5 * z.pow(2).sum(1)).mean()).backward()
    assert layer.params.grad is not None and (layer.params.grad.abs().sum(-1) > 0).all()


@pytest.mark.parametrize("name", sorted(transformer_kinds()))
def test_costs_volume_and_likelihood_come_from_the_transformer(name):
    spec, _ = example(name)
    node = ElementwiseSpec.model_validate({"kind": "elementwise", "transformer": spec})
    expected = transformer_kinds()[name].inverse_cost
    assert node.costs().inference == Cost.ONE_PASS and node.costs().generation == expected
    assert node.likelihood() == Likelihood.EXACT
    assert node.preserves_volume() == transformer_kinds()[name].volume_preserving


def test_fn_is_the_fixed_transformer_with_the_nodes_settings():
    """One implementation: ``fn: X`` builds transformer X, with the node's settings for X."""
    assert set(FUNCTIONS) == {
        name for name, cls in transformer_kinds().items() if issubclass(cls, MonotoneMapSpec)
    }
    fields = ElementwiseSpec.fn_fields()
    assert fields == {
        "scale": ("scale_shift",),
        "shift": ("scale_shift",),
        "learnable": ("scale_shift",),
        "negative_slope": ("leaky_relu",),
        "alpha": ("logit",),
    }
    assert set(fields) <= set(ElementwiseSpec.model_fields)
    node = ElementwiseSpec.model_validate({"kind": "elementwise", "fn": "logit", "alpha": 0.1})
    assert node.map() == transformer_kinds()["logit"].model_validate(
        {"kind": "logit", "alpha": 0.1}
    )
    _, layer, _ = make_node(
        {"kind": "elementwise", "fn": "logit", "alpha": 0.1}, (2,), support=UNIT
    )
    assert type(layer.transformer).__name__ == "LogitTransformer"


def test_checkpoints_of_a_learnable_scale_shift_from_before_still_load():
    _, layer, _ = make_node({"kind": "elementwise", "fn": "scale_shift", "learnable": True}, (3,))
    assert set(layer.state_dict()) == {"transformer.log_scale", "transformer.shift"}
    layer.load_state_dict(
        {"log_scale": torch.tensor(0.5, dtype=F64), "shift": torch.tensor(-1.0, dtype=F64)}
    )
    x = inputs_in(Support(), 4, 3)
    torch.testing.assert_close(layer(x)[0], math.exp(0.5) * x - 1.0)


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_fn_and_zero_parameter_transformer_are_the_same_map(name):
    spec, support = example(name)
    settings = {k: v for k, v in spec.items() if k != "kind"}
    _, by_fn, out_fn = make_node(
        {"kind": "elementwise", "fn": name, **settings}, (3,), support=support
    )
    _, by_transformer, out_t = make_node(
        {"kind": "elementwise", "transformer": spec}, (3,), support=support
    )
    assert out_fn == out_t
    x = values_in(PortInfo((3,), support), 5, torch.Generator().manual_seed(1))
    for a, b in zip(by_fn(x), by_transformer(x), strict=True):
        assert torch.equal(a, b)


# --- fixed maps inside coupling and autoregressive layers -----------------------------------

COUPLING_TANH = """\
flowspec: "1"
name: coupling-tanh
inputs:
  x: {shape: [4]}
nodes:
  squash: {kind: coupling, in: x, mask: alternate, transformer: {kind: tanh}}
  prior: {kind: standard_normal, in: squash}
"""


def test_coupling_with_a_zero_parameter_transformer_validates_and_its_logdet_is_right():
    checked = flowspec.check(COUPLING_TANH)
    warnings = checked.warnings
    assert {d.code for d in warnings} == {"W430", "W501"}, [d.format() for d in warnings]
    unused = next(d for d in warnings if d.code == "W430")
    assert unused.node == "squash" and unused.path[-1] == "conditioner"
    with warnings_module.catch_warnings():  # W430 said it all; torch's empty-layer warning is quiet
        warnings_module.simplefilter("error")
        flowspec.compile(COUPLING_TANH)
    node, layer, (out,) = make_node(
        {"kind": "coupling", "mask": "alternate", "transformer": {"kind": "tanh"}}, (4,)
    )
    assert out.support == Support(partial=True)  # kept values real, changed ones in (-1, 1)
    x = inputs_in(Support(), 5, 4)
    z, _ = layer(x)
    torch.testing.assert_close(z[:, 1::2], torch.tanh(x[:, 1::2]), rtol=0, atol=0)
    torch.testing.assert_close(z[:, ::2], x[:, ::2], rtol=0, atol=0)
    torch.testing.assert_close(layer.inverse(z), x)
    assert_logdet_matches(layer, x)


@pytest.mark.parametrize("direction", ["maf", "iaf"])
def test_autoregressive_layer_with_a_learnable_scale_shift(direction):
    """A fixed map's own learned constants count as the layer's parameters."""
    spec = {
        "kind": "autoregressive",
        "direction": direction,
        "transformer": {"kind": "scale_shift", "scale": 2.0, "learnable": True},
        "conditioner": {"hidden": [8]},
    }
    node, layer, _ = make_node(spec, (3,))
    assert node.parameter_count((PortInfo((3,)),), None) == sum(
        p.numel() for p in layer.parameters()
    )
    randomize_(layer)
    x = inputs_in(Support(), 5, 3)
    torch.testing.assert_close(layer.inverse(layer(x)[0]), x)
    assert_logdet_matches(layer, x)


def test_coupling_with_logit_on_bounded_input_maps_the_changed_half_to_the_line():
    outputs, reporter = infer_node(
        {"kind": "coupling", "transformer": {"kind": "logit", "alpha": 0.05}}, (4,), support=UNIT
    )
    assert not reporter.has_errors
    edge = math.log(0.95 / 0.05)  # logit(0.05 + 0.9 x) at x = 1; kept values stay in (0, 1)
    support = outputs[0].support
    assert support.partial and math.isclose(support.high, edge) and math.isclose(support.low, -edge)


def spec_text(node: str, inputs: str = "  x: {shape: [4]}\n") -> str:
    return (
        f'flowspec: "1"\nname: bad\ninputs:\n{inputs}nodes:\n  {node}\n'
        "  prior: {kind: standard_normal, in: m}\n"
    )


def only_error(text: str, code: str):
    with pytest.raises(SpecError) as caught:
        flowspec.check(text)
    errors = [d for d in caught.value.diagnostics if d.severity == "error"]
    assert [d.code for d in errors] == [code], [d.format() for d in errors]
    assert errors[0].node == "m" and errors[0].location.line == 6
    return errors[0]


@pytest.mark.parametrize(
    "node",
    [
        "m: {kind: coupling, in: x, transformer: {kind: logit}}",
        "m: {kind: autoregressive, in: x, transformer: {kind: logit}}",
    ],
)
def test_logit_transformer_on_unbounded_input_is_a_located_error(node):
    error = only_error(spec_text(node), "E610")
    assert "transformer 'logit' needs inputs in (0, 1)" in error.message
    assert "lives in real" in error.message and "sigmoid" in error.hint
    assert error.path[-1] == "transformer"


def test_logit_transformer_elementwise_on_unbounded_input_is_the_nodes_domain_error():
    error = only_error(
        spec_text("m: {kind: elementwise, in: x, transformer: {kind: logit}}"), "E422"
    )
    assert "transformer 'logit' needs inputs in (0, 1)" in error.message and "sigmoid" in error.hint


def test_logit_transformer_on_the_closed_unit_interval_asks_for_alpha():
    text = spec_text(
        "m: {kind: coupling, in: x, transformer: {kind: logit}}",
        inputs="  x: {shape: [4], low: 0, high: 1}\n",
    )
    error = only_error(text, "E610")
    assert "alpha" in error.hint and "bounds: open" in error.hint


@pytest.mark.parametrize(
    ("node", "code", "field"),
    [
        ("m: {kind: coupling, in: x, transformer: {kind: logit, alpha: 0.5}}", "E425", "alpha"),
        (
            "m: {kind: coupling, in: x, transformer: {kind: scale_shift, scale: 0.0}}",
            "E423",
            "scale",
        ),
        (
            "m: {kind: elementwise, in: x, transformer: {kind: leaky_relu, negative_slope: 0}}",
            "E424",
            "negative_slope",
        ),
        (
            "m: {kind: elementwise, in: x, fn: tanh, transformer: {kind: affine}}",
            "E611",
            "transformer",
        ),
        ("m: {kind: elementwise, in: x}", "E103", "fn"),
    ],
)
def test_settings_errors_are_located_inside_the_transformer(node, code, field):
    error = only_error(spec_text(node), code)
    assert error.path[-1] == field
    if code in ("E423", "E424", "E425"):
        assert error.path[-2] == "transformer"


def test_a_fn_setting_next_to_transformer_is_a_warning_pointing_into_it():
    checked = flowspec.check(
        spec_text(
            "m: {kind: elementwise, in: x, alpha: 0.1, transformer: {kind: logit}}",
            inputs="  x: {shape: [4], low: 0, high: 1, bounds: open}\n",
        )
    )
    (warning,) = [d for d in checked.warnings if d.code == "W430"]
    assert warning.node == "m" and warning.path[-1] == "alpha"
    assert "transformer: {kind: logit, alpha: ...}" in warning.hint


# --- the optimizer folds linear maps only ---------------------------------------------------

CHAIN = """\
flowspec: "1"
name: chain
inputs:
  x: {shape: [3]}
nodes:
  a: {kind: elementwise, fn: scale_shift, scale: -2.0, shift: 0.5, in: x}
  b: {kind: elementwise, transformer: {kind: affine}, in: a}
  c: {kind: elementwise, transformer: {kind: additive}, in: b}
  d: {kind: elementwise, transformer: {kind: rq_spline, bins: 4, bound: 3.0}, in: c}
  e: {kind: elementwise, transformer: {kind: affine}, in: d}
  f: {kind: elementwise, fn: scale_shift, scale: 0.5, learnable: true, in: e}
  prior: {kind: standard_normal, in: f}
"""


def test_optimizer_folds_learned_affine_maps_but_not_a_spline():
    checked = flowspec.check(CHAIN)
    model = checked.build_model().double()
    literal = checked.build_model(optimize=False).double()
    randomize_(model)
    literal.load_state_dict(model.state_dict())
    chains = [op for op in checked.program().ops if isinstance(op, AffineChain)]
    assert [[n.id for n in op.nodes] for op in chains] == [["a", "b", "c"], ["e", "f"]]
    x = inputs_in(Support(), 16, 3)
    torch.testing.assert_close(model.log_prob(x), literal.log_prob(x), atol=1e-12, rtol=1e-12)
    z = inputs_in(Support(), 16, 3, seed=2)
    torch.testing.assert_close(model.inverse(z), literal.inverse(z), atol=1e-12, rtol=1e-12)
    torch.testing.assert_close(literal.inverse(literal.trace(x).latents), x)
    book = spec_bookkeeping(checked)
    assert (
        book.total_params
        == sum(p.numel() for p in model.parameters())
        == 3 * 2 + 3 + 3 * 11 + 3 * 2 + 2
    )


@pytest.mark.parametrize(
    "node",
    [
        "{kind: coupling, mask: checkerboard, transformer: {kind: tanh}, conditioner: {kind: conv, channels: 4}}",
        "{kind: coupling, mask: checkerboard, transformer: {kind: scale_shift, scale: -2.0}, conditioner: {kind: resnet, channels: 4}}",
        "{kind: autoregressive, transformer: {kind: leaky_relu, negative_slope: 0.5}, conditioner: {kind: masked_conv, hidden: 4}}",
    ],
)
def test_fixed_maps_in_image_couplings_and_autoregressive_layers_run(node):
    # Found by fuzzing: a convolutional conditioner for a transformer without parameters
    # has a last layer with no output channels, which torch cannot run (a RuntimeError out
    # of log_prob); the fixed map now never calls its conditioner.
    text = f"""flowspec: "1"
name: t
inputs:
  x: {{shape: [1, 4, 4]}}
nodes:
  m: {node[:-1]}, in: x}}
  prior: {{kind: standard_normal, in: m}}
"""
    with warnings_module.catch_warnings():
        warnings_module.simplefilter("error")
        model = flowspec.compile(text).double()
    x = torch.randn(5, 1, 4, 4, dtype=torch.float64)
    trace = model.trace(x)
    torch.testing.assert_close(model.inverse(trace.latents), x)
    layer = model.nodes["m"]
    assert_logdet_matches(layer, x)


# --- saturating maps stay inside their open images ------------------------------------------

SATURATING_PAIRS = {  # a map that saturates, the map back to the line after it, and z(x)
    "sigmoid-logit": ([{"kind": "sigmoid"}, {"kind": "logit"}], lambda x: x),
    "tanh-logit": (
        [{"kind": "tanh"}, {"kind": "scale_shift", "scale": 0.5, "shift": 0.5}, {"kind": "logit"}],
        lambda x: 2 * x,
    ),
    "exp-log": ([{"kind": "exp"}, {"kind": "log"}], lambda x: x),
    "softplus-log": (
        [{"kind": "softplus"}, {"kind": "log"}],
        lambda x: torch.nn.functional.softplus(x).log(),
    ),
}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("pair", SATURATING_PAIRS)
def test_saturating_map_then_its_inverse_stays_finite_far_in_the_tails(pair, dtype):
    # Found by fuzzing: tanh and sigmoid round to exactly 1.0 past |x| ~ 19 / 37 (float64)
    # or ~ 9 / 17 (float32), and exp underflows to 0.0, so a following logit or log gave inf
    # and log_prob NaN. Their values now stay one dtype step inside the open image.
    from pydantic import TypeAdapter

    from flowspec.transformers.choice import TransformerChoice

    specs, exact = SATURATING_PAIRS[pair]
    maps = [TypeAdapter(TransformerChoice).validate_python(spec).build() for spec in specs]
    x = torch.tensor([-1000.0, -100.0, -30.0, -5.0, 5.0, 30.0, 100.0, 1000.0], dtype=dtype)
    values, log_det = [x], torch.zeros_like(x)
    for layer in maps:
        value, log_derivative = layer(values[-1], None)
        values.append(value)
        log_det = log_det + log_derivative
    assert torch.isfinite(values[-1]).all() and torch.isfinite(log_det).all()
    back = values[-1]
    for layer in reversed(maps):
        back = layer.inverse(back, None)
        assert torch.isfinite(back).all()
    # Where no map saturated (its value is not within a dtype step of an end of its image),
    # the pair is its exact composition: the round trip and the log-det hold.
    info = torch.finfo(dtype)
    fine = (x.abs() < 1000).clone()
    for v in values[1:-1]:
        fine &= ((v.abs() - 1).abs() > 4 * info.eps) & (v.abs() > info.tiny) & (v.abs() < info.max)
    assert fine[3:5].all()  # |x| = 5 is representable everywhere
    torch.testing.assert_close(back[fine], x[fine], rtol=1e-3, atol=0)
    reference = x.double().requires_grad_()
    expected = exact(reference)
    slope = torch.autograd.grad(expected.sum(), reference)[0].abs().log()
    torch.testing.assert_close(
        values[-1][fine].double(), expected[fine].detach(), rtol=1e-3, atol=1e-3
    )
    torch.testing.assert_close(log_det[fine].double(), slope[fine], rtol=0, atol=1e-2)
