"""Bijective kinds: additive_coupling, reverse, shuffle, actnorm, lu_linear, elementwise."""

import math
import re

import pytest
import torch
from oracles import assert_logdet_matches, infer_node, make_node, randomize_

from flowspec.core.ports import PortInfo, Support
from flowspec.core.registry import NOT_INVERTIBLE, node_kinds
from flowspec.layers.actnorm import ActNorm
from flowspec.nodes.elementwise import FUNCTIONS, ElementwiseSpec
from flowspec.nodes.permutations import shuffle_order

F64 = torch.float64
UNIT = Support(0.0, 1.0)
POSITIVE = Support(0.0, math.inf)


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def randn(*shape: int, seed: int = 0, dtype: torch.dtype = F64) -> torch.Tensor:
    return torch.randn(*shape, generator=gen(seed), dtype=dtype)


def assert_gradients_reach_parameters(layer: torch.nn.Module, x: torch.Tensor) -> None:
    params = list(layer.parameters())
    assert params, "layer has no parameters"
    out, contribution = layer(x)
    (out.sum() + contribution.sum()).backward()
    assert all(p.grad is not None for p in params)
    assert any(p.grad.abs().sum() > 0 for p in params)


def codes(reporter) -> list[str]:
    return [d.code for d in reporter.diagnostics]


# --- additive_coupling ---------------------------------------------------------------------


@pytest.mark.parametrize("mask", ["half", "alternate", [0, 1, 1, 0, 1]])
def test_additive_coupling_round_trip_and_zero_logdet(mask):
    _, layer, (out,) = make_node(
        {"kind": "additive_coupling", "mask": mask, "net": {"hidden": [16]}}, (5,)
    )
    randomize_(layer)
    x = randn(7, 5)
    z, contribution = layer(x)
    assert out.shape == (5,) and out.support.is_real_line
    assert not torch.allclose(z, x)
    torch.testing.assert_close(contribution, torch.zeros(7, dtype=F64))
    torch.testing.assert_close(layer.inverse(z), x)
    torch.testing.assert_close(layer(layer.inverse(x))[0], x)
    assert_logdet_matches(layer, x)


def test_additive_coupling_starts_at_identity_and_uses_context():
    _, layer, _ = make_node({"kind": "additive_coupling"}, (4,), context=(3,))
    x, c = randn(6, 4), randn(6, 3, seed=1)
    torch.testing.assert_close(layer(x, context=c)[0], x)
    randomize_(layer)
    z, _ = layer(x, context=c)
    assert not torch.allclose(z, layer(x, context=torch.zeros_like(c))[0])
    torch.testing.assert_close(layer.inverse(z, context=c), x)


def test_additive_coupling_gradients():
    _, layer, _ = make_node({"kind": "additive_coupling", "net": {"hidden": [8]}}, (4,))
    randomize_(layer)
    assert_gradients_reach_parameters(layer, randn(5, 4))


def test_additive_coupling_rejects_discrete_and_images():
    outputs, reporter = infer_node({"kind": "additive_coupling"}, (4,), support=Support(levels=256))
    assert outputs is None and codes(reporter) == ["E410"]
    assert reporter.diagnostics[0].path[-1] == "in"
    assert "uniform_dequantization" in reporter.diagnostics[0].hint
    outputs, reporter = infer_node({"kind": "additive_coupling"}, (1, 4, 4))
    assert outputs is None and codes(reporter) == ["E401"]


# --- reverse / shuffle ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["reverse", "shuffle"])
@pytest.mark.parametrize("shape", [(5,), (3, 2, 2)])
def test_permutation_round_trip_and_zero_logdet(kind, shape):
    _, layer, (out,) = make_node({"kind": kind}, shape, support=UNIT)
    assert out.shape == shape and out.support == UNIT  # values are only reordered
    randomize_(layer)  # no parameters: a no-op
    x = randn(4, *shape)
    z, contribution = layer(x)
    torch.testing.assert_close(contribution, torch.zeros(4, dtype=F64))
    torch.testing.assert_close(layer.inverse(z), x)
    torch.testing.assert_close(layer(layer.inverse(x))[0], x)
    assert sorted(z[0].flatten().tolist()) == sorted(x[0].flatten().tolist())
    assert_logdet_matches(layer, x)


def test_reverse_reverses_feature_axis():
    _, layer, _ = make_node({"kind": "reverse"}, (3, 2))
    x = randn(2, 3, 2)
    torch.testing.assert_close(layer(x)[0], x.flip(1))
    assert "index" not in layer.state_dict()


def test_shuffle_is_reproducible_and_saved():
    _, a, _ = make_node({"kind": "shuffle", "seed": 5}, (8,))
    _, b, _ = make_node({"kind": "shuffle", "seed": 5}, (8,))
    _, c, _ = make_node({"kind": "shuffle", "seed": 6}, (8,))
    x = randn(3, 8)
    torch.testing.assert_close(a(x)[0], b(x)[0])
    assert not torch.equal(a(x)[0], c(x)[0])
    assert a.index.tolist() == shuffle_order(8, 5)
    assert "index" in a.state_dict()
    c.load_state_dict(a.state_dict())
    torch.testing.assert_close(c(x)[0], a(x)[0])
    torch.testing.assert_close(c.inverse(a(x)[0]), x)


@pytest.mark.parametrize("kind", ["reverse", "shuffle", "actnorm", "lu_linear"])
def test_feature_axis_kinds_reject_scalar_events(kind):
    outputs, reporter = infer_node({"kind": kind}, ())
    assert outputs is None and codes(reporter) == ["E411"]
    assert reporter.diagnostics[0].path[-1] == "in"


def test_identity_permutations_warn():
    _, reporter = infer_node({"kind": "reverse"}, (1,))
    assert codes(reporter) == ["W410"] and reporter.diagnostics[0].path[-1] == "in"
    seed = next(s for s in range(100) if shuffle_order(2, s) == [0, 1])
    outputs, reporter = infer_node({"kind": "shuffle", "seed": seed}, (2,))
    assert outputs is not None and not reporter.has_errors
    assert codes(reporter) == ["W410"] and reporter.diagnostics[0].path[-1] == "seed"
    assert "reverse" in reporter.diagnostics[0].hint


# --- actnorm -------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(3,), (3, 4, 4)])
def test_actnorm_data_dependent_init(shape):
    _, layer, (out,) = make_node({"kind": "actnorm"}, shape)
    assert out.shape == shape and not layer.is_initialized
    view = (1, 3) + (1,) * (len(shape) - 1)
    x = randn(64, *shape) * torch.tensor([1.0, 5.0, 0.1], dtype=F64).view(view)
    x = x + torch.tensor([2.0, -1.0, 7.0], dtype=F64).view(view)
    z, contribution = layer(x)
    dims = [0, *range(2, len(shape) + 1)]
    torch.testing.assert_close(z.mean(dim=dims), torch.zeros(3, dtype=F64), atol=1e-6, rtol=0)
    std = z.std(dim=dims, correction=0)
    torch.testing.assert_close(std, torch.ones(3, dtype=F64), atol=1e-4, rtol=0)
    assert layer.is_initialized and bool(layer.initialized)
    positions = math.prod(shape[1:])
    expected = layer.log_scale.sum().detach() * positions
    torch.testing.assert_close(contribution, expected.expand(64))
    # a second batch does not re-initialise
    before = [p.detach().clone() for p in layer.parameters()]
    layer(randn(8, *shape, seed=3) * 10)
    assert all(torch.equal(p, q) for p, q in zip(before, layer.parameters(), strict=True))


@pytest.mark.parametrize("shape", [(3,), (2, 3, 3)])
def test_actnorm_round_trip_and_logdet(shape):
    _, layer, _ = make_node({"kind": "actnorm"}, shape)
    x = randn(5, *shape)
    layer(x)  # data-dependent init
    randomize_(layer)
    z, _ = layer(x)
    torch.testing.assert_close(layer.inverse(z), x)
    torch.testing.assert_close(layer(layer.inverse(x))[0], x)
    assert_logdet_matches(layer, x)


def test_actnorm_save_load_keeps_initialisation():
    _, layer, _ = make_node({"kind": "actnorm"}, (3,))
    layer(randn(32, 3) * 3 + 1)
    state = layer.state_dict()
    assert "initialized" in state and bool(state["initialized"])
    _, fresh, _ = make_node({"kind": "actnorm"}, (3,))
    assert not fresh.is_initialized
    fresh.load_state_dict(state)
    assert fresh.is_initialized  # the Python mirror is refreshed on load
    x = randn(16, 3, seed=2) * 100
    torch.testing.assert_close(fresh(x)[0], layer(x)[0])
    torch.testing.assert_close(fresh.bias, layer.bias)


def test_actnorm_inverse_before_init_is_identity_and_data_init_off():
    _, layer, _ = make_node({"kind": "actnorm"}, (3,))
    x = randn(4, 3)
    torch.testing.assert_close(layer.inverse(x), x)
    assert not layer.is_initialized
    _, plain, _ = make_node({"kind": "actnorm", "data_init": False}, (3,))
    z, contribution = plain(x * 5 + 2)
    torch.testing.assert_close(z, x * 5 + 2)
    torch.testing.assert_close(contribution, torch.zeros(4, dtype=F64))


def test_actnorm_batch_of_one_only_centres():
    _, layer, _ = make_node({"kind": "actnorm"}, (3,))
    x = randn(1, 3)
    z, contribution = layer(x)
    torch.testing.assert_close(z, torch.zeros_like(x))
    torch.testing.assert_close(contribution, torch.zeros(1, dtype=F64))


def test_actnorm_gradients_and_errors():
    _, layer, _ = make_node({"kind": "actnorm"}, (2, 3, 3))
    x = randn(4, 2, 3, 3)
    layer(x)
    assert_gradients_reach_parameters(layer, x)
    outputs, reporter = infer_node({"kind": "actnorm"}, (3,), support=Support(levels=2))
    assert outputs is None and codes(reporter) == ["E410"]
    assert isinstance(layer, ActNorm)


# --- lu_linear -----------------------------------------------------------------------------


def test_lu_linear_starts_orthogonal():
    _, layer, _ = make_node({"kind": "lu_linear", "seed": 3}, (5,))
    w = layer.weight().detach()
    torch.testing.assert_close(w @ w.T, torch.eye(5, dtype=F64), atol=1e-6, rtol=0)
    torch.testing.assert_close(torch.linalg.det(w).abs(), torch.tensor(1.0, dtype=F64))
    x = randn(3, 5)
    z, contribution = layer(x)
    torch.testing.assert_close(contribution, torch.zeros(3, dtype=F64), atol=1e-6, rtol=0)
    torch.testing.assert_close(z, x @ w.T)
    _, other, _ = make_node({"kind": "lu_linear", "seed": 3}, (5,))
    torch.testing.assert_close(other.weight(), layer.weight())
    assert {"permutation", "sign_s"} <= set(layer.state_dict())


@pytest.mark.parametrize("shape", [(4,), (3, 2, 2), (1,)])
@pytest.mark.parametrize("bias", [True, False])
def test_lu_linear_round_trip_and_logdet(shape, bias):
    _, layer, (out,) = make_node({"kind": "lu_linear", "bias": bias}, shape)
    assert out.shape == shape
    randomize_(layer)
    x = randn(6, *shape)
    z, contribution = layer(x)
    torch.testing.assert_close(layer.inverse(z), x)
    torch.testing.assert_close(layer(layer.inverse(x))[0], x)
    positions = math.prod(shape[1:])
    torch.testing.assert_close(contribution, (layer.log_s.sum() * positions).detach().expand(6))
    assert_logdet_matches(layer, x)


def test_lu_linear_acts_as_1x1_conv():
    _, layer, _ = make_node({"kind": "lu_linear"}, (3, 2, 2))
    randomize_(layer)
    x = randn(2, 3, 2, 2)
    w = layer.weight().detach().view(3, 3, 1, 1)
    expected = torch.nn.functional.conv2d(x, w, layer.bias.detach())
    torch.testing.assert_close(layer(x)[0], expected)


def test_lu_linear_gradients_and_errors():
    _, layer, _ = make_node({"kind": "lu_linear"}, (4,))
    randomize_(layer)
    assert_gradients_reach_parameters(layer, randn(5, 4))
    outputs, reporter = infer_node({"kind": "lu_linear"}, (3,), support=Support(levels=4))
    assert outputs is None and codes(reporter) == ["E410"]


@pytest.mark.parametrize(("kind", "shape"), [("lu_linear", (8,)), ("invconv1x1", (8, 2, 2))])
@pytest.mark.parametrize("bias", [True, False])
def test_lu_parameter_counts_are_free_parameters(kind, shape, bias):
    """Glow's LU weight has D^2 free numbers (D (D - 1) / 2 in L and in U, D in log|s|),
    plus D for the bias: the spec's count, the module's parameters and the entries that
    get a gradient all agree (the full masked D x D matrices gave 144 for D = 8)."""
    spec, layer, _ = make_node({"kind": kind, "bias": bias}, shape)
    features = shape[0]
    free = features * features + (features if bias else 0)
    assert spec.parameter_count((PortInfo(shape),), None) == free
    assert sum(p.numel() for p in layer.parameters()) == free
    randomize_(layer)
    z, contribution = layer(randn(4, *shape))
    (z * randn(4, *shape, seed=1)).sum().add(contribution.sum()).backward()
    assert sum(int((p.grad != 0).sum()) for p in layer.parameters()) == free


# --- elementwise ---------------------------------------------------------------------------


def _inputs_for(support: Support, n: int = 6, d: int = 3, dtype=F64) -> torch.Tensor:
    g = gen(1)
    if support == UNIT:
        return torch.rand(n, d, generator=g, dtype=dtype) * 0.98 + 0.01
    if support == POSITIVE:
        return torch.exp(torch.randn(n, d, generator=g, dtype=dtype))
    return torch.randn(n, d, generator=g, dtype=dtype) * 2


FN_CASES = [
    ({"fn": "scale_shift", "scale": -2.0, "shift": 0.5}, Support()),
    ({"fn": "scale_shift", "scale": 0.5, "shift": -1.0, "learnable": True}, Support()),
    ({"fn": "leaky_relu", "negative_slope": 0.2}, Support()),
    ({"fn": "leaky_relu"}, Support()),
    ({"fn": "sigmoid"}, Support()),
    ({"fn": "logit"}, UNIT),
    ({"fn": "logit", "alpha": 0.05}, UNIT),
    ({"fn": "tanh"}, Support()),
    ({"fn": "exp"}, Support()),
    ({"fn": "log"}, POSITIVE),
    ({"fn": "softplus"}, Support()),
]


@pytest.mark.parametrize(("fields", "support"), FN_CASES, ids=lambda v: str(v))
def test_elementwise_round_trip_and_logdet(fields, support):
    _, layer, (out,) = make_node({"kind": "elementwise", **fields}, (3,), support=support)
    randomize_(layer)
    x = _inputs_for(support)
    z, contribution = layer(x)
    assert z.shape == x.shape and contribution.shape == (6,)
    torch.testing.assert_close(layer.inverse(z), x)
    torch.testing.assert_close(layer(layer.inverse(z))[0], z)
    assert_logdet_matches(layer, x)
    # outputs lie in the support the compiler announced
    assert bool((z >= out.support.low).all() and (z <= out.support.high).all())


@pytest.mark.parametrize(("fields", "support"), FN_CASES, ids=lambda v: str(v))
def test_elementwise_float32_and_images(fields, support):
    _, layer, _ = make_node(
        {"kind": "elementwise", **fields}, (2, 2), support=support, dtype=torch.float32
    )
    x = _inputs_for(support, d=4, dtype=torch.float32).view(6, 2, 2)
    z, contribution = layer(x)
    assert z.dtype == contribution.dtype == torch.float32 and contribution.shape == (6,)
    torch.testing.assert_close(layer.inverse(z), x, atol=1e-4, rtol=1e-4)


def test_elementwise_learnable_gradients():
    _, layer, _ = make_node(
        {"kind": "elementwise", "fn": "scale_shift", "scale": -3.0, "learnable": True}, (3,)
    )
    assert len(list(layer.parameters())) == 2
    expected = torch.full((1, 3), -3.0, dtype=F64)
    torch.testing.assert_close(layer(torch.ones(1, 3, dtype=F64))[0], expected)
    randomize_(layer)
    assert_gradients_reach_parameters(layer, randn(4, 3))
    _, fixed, _ = make_node({"kind": "elementwise", "fn": "tanh"}, (3,))
    assert list(fixed.parameters()) == []


@pytest.mark.parametrize(
    ("fields", "support", "expected"),
    [
        ({"fn": "sigmoid"}, Support(), Support(0.0, 1.0)),
        ({"fn": "tanh"}, Support(), Support(-1.0, 1.0)),
        ({"fn": "exp"}, Support(), Support(0.0, math.inf)),
        ({"fn": "softplus"}, Support(), Support(0.0, math.inf)),
        ({"fn": "log"}, POSITIVE, Support()),
        ({"fn": "logit"}, UNIT, Support()),
        ({"fn": "leaky_relu"}, Support(), Support()),
        ({"fn": "leaky_relu", "negative_slope": 0.5}, Support(-2.0, 4.0), Support(-1.0, 4.0)),
        ({"fn": "scale_shift", "scale": -2.0, "shift": 1.0}, UNIT, Support(-1.0, 1.0)),
        ({"fn": "scale_shift", "scale": 3.0}, POSITIVE, POSITIVE),
        ({"fn": "scale_shift", "scale": -1.0}, POSITIVE, Support(-math.inf, 0.0)),
        ({"fn": "scale_shift", "scale": 2.0, "learnable": True}, UNIT, Support(partial=True)),
        ({"fn": "exp"}, Support(-math.inf, 0.0), Support(0.0, 1.0)),
    ],
)
def test_elementwise_output_support_is_the_image(fields, support, expected):
    outputs, reporter = infer_node({"kind": "elementwise", **fields}, (2,), support=support)
    assert not reporter.diagnostics
    assert outputs[0].support == expected


def test_elementwise_logit_alpha_image():
    spec = {"kind": "elementwise", "fn": "logit", "alpha": 0.05}
    outputs, _ = infer_node(spec, (2,), support=UNIT)
    low, high = outputs[0].support.low, outputs[0].support.high
    assert math.isclose(high, math.log(0.95 / 0.05)) and math.isclose(low, -high)


@pytest.mark.parametrize(
    ("fields", "support", "needed"),
    [
        ({"fn": "logit"}, Support(), "sigmoid"),
        ({"fn": "logit", "alpha": 0.1}, Support(0.0, 2.0), "sigmoid"),
        ({"fn": "log"}, Support(), "exp"),
        ({"fn": "log"}, Support(-1.0, 1.0), "exp"),
    ],
)
def test_elementwise_domain_errors(fields, support, needed):
    outputs, reporter = infer_node({"kind": "elementwise", **fields}, (2,), support=support)
    assert outputs is None and codes(reporter) == ["E422"]
    d = reporter.diagnostics[0]
    assert d.path == ("nodes", "node", "in")
    assert str(support) in d.message and needed in d.hint


def test_elementwise_logit_with_alpha_accepts_closed_unit_interval():
    outputs, reporter = infer_node(
        {"kind": "elementwise", "fn": "logit", "alpha": 0.05}, (2,), support=Support(0.0, 1.0)
    )
    assert outputs is not None and not reporter.diagnostics


def test_elementwise_rejects_discrete_inputs():
    outputs, reporter = infer_node(
        {"kind": "elementwise", "fn": "sigmoid"}, (2,), support=Support(levels=256)
    )
    assert outputs is None and codes(reporter) == ["E410"]
    assert "uniform_dequantization" in reporter.diagnostics[0].hint


@pytest.mark.parametrize("fn", ["relu", "abs", "square"])
def test_elementwise_not_invertible_names_reuse_registry_texts(fn):
    outputs, reporter = infer_node({"kind": "elementwise", "fn": fn}, (2,))
    assert outputs is None and codes(reporter) == ["E421"]
    d = reporter.diagnostics[0]
    assert d.path[-1] == "fn" and d.hint == NOT_INVERTIBLE[fn]
    assert "leaky_relu" in d.hint or "monotone" in d.hint
    if fn == "relu":
        assert "{kind: elementwise, fn: leaky_relu}" in d.hint


@pytest.mark.parametrize("name", sorted(NOT_INVERTIBLE))
def test_not_invertible_hints_point_to_kinds_that_exist(name):
    """A hint names only registered kinds, and the kind of the same name when there is one
    (abs is a surjection now: the hint once said it was not in flowspec yet)."""
    hint = NOT_INVERTIBLE[name]
    assert set(re.findall(r"\{kind: (\w+)", hint)) <= set(node_kinds()), hint
    if name in node_kinds():
        assert f"{{kind: {name}}}" in hint, hint


@pytest.mark.parametrize("fn", ["sin", "cos", "gelu", "ReLU"])
def test_elementwise_other_non_monotone_names(fn):
    outputs, reporter = infer_node({"kind": "elementwise", "fn": fn}, (2,))
    assert outputs is None and codes(reporter) == ["E421"]
    assert reporter.diagnostics[0].hint


def test_elementwise_unknown_fn_did_you_mean():
    outputs, reporter = infer_node({"kind": "elementwise", "fn": "sigmod"}, (2,))
    assert outputs is None and codes(reporter) == ["E420"]
    d = reporter.diagnostics[0]
    assert d.path[-1] == "fn" and d.hint == "did you mean 'sigmoid'?"
    _, reporter = infer_node({"kind": "elementwise", "fn": "qqqqq"}, (2,))
    assert codes(reporter) == ["E420"] and reporter.diagnostics[0].hint is None


@pytest.mark.parametrize(
    ("fields", "ignored"),
    [
        ({"fn": "tanh", "alpha": 0.1}, ["alpha"]),
        ({"fn": "leaky_relu", "scale": 2.0, "shift": 1.0}, ["scale", "shift"]),
        ({"fn": "logit", "negative_slope": -1.0}, ["negative_slope"]),
        ({"fn": "sigmoid", "learnable": True}, ["learnable"]),
    ],
)
def test_elementwise_ignored_fields_warn(fields, ignored):
    outputs, reporter = infer_node({"kind": "elementwise", **fields}, (2,), support=UNIT)
    assert outputs is not None and not reporter.has_errors
    assert codes(reporter) == ["W420"] * len(ignored)
    assert [d.path[-1] for d in reporter.diagnostics] == ignored


def test_elementwise_defaults_written_explicitly_are_not_warned_for_their_fn():
    spec = {"kind": "elementwise", "fn": "logit", "alpha": 0.0}
    _, reporter = infer_node(spec, (2,), support=UNIT)
    assert not reporter.diagnostics


@pytest.mark.parametrize(
    ("fields", "code", "field"),
    [
        ({"fn": "scale_shift", "scale": 0.0}, "E423", "scale"),
        ({"fn": "leaky_relu", "negative_slope": 0.0}, "E424", "negative_slope"),
        ({"fn": "leaky_relu", "negative_slope": -0.1}, "E424", "negative_slope"),
        ({"fn": "logit", "alpha": 0.5}, "E425", "alpha"),
        ({"fn": "logit", "alpha": -0.1}, "E425", "alpha"),
    ],
)
def test_elementwise_bad_parameters(fields, code, field):
    outputs, reporter = infer_node({"kind": "elementwise", **fields}, (2,), support=UNIT)
    assert outputs is None and codes(reporter) == [code]
    assert reporter.diagnostics[0].path == ("nodes", "node", field)


def test_elementwise_extreme_inputs_stay_finite():
    x = torch.tensor([[-60.0, -20.0, 0.0, 20.0, 60.0]])
    for fn in ["sigmoid", "tanh", "softplus"]:
        _, layer, _ = make_node({"kind": "elementwise", "fn": fn}, (5,), dtype=torch.float32)
        _, contribution = layer(x)
        assert torch.isfinite(contribution).all(), fn
    _, tanh, _ = make_node({"kind": "elementwise", "fn": "tanh"}, (1,))
    _, c = tanh(torch.tensor([[30.0]], dtype=F64))
    torch.testing.assert_close(c, torch.tensor([2 * (math.log(2) - 30.0)], dtype=F64))


def test_elementwise_describe_shows_only_fields_of_its_fn():
    spec = ElementwiseSpec.model_validate({"kind": "elementwise", "fn": "logit", "alpha": 0.1})
    assert spec.describe() == {"fn": "logit", "alpha": 0.1}


def test_elementwise_schema_lists_valid_fns():
    schema = ElementwiseSpec.model_json_schema()
    assert schema["properties"]["fn"]["enum"] == list(FUNCTIONS)
    assert ElementwiseSpec.model_validate({"kind": "elementwise", "fn": "relu"}).fn == "relu"


@pytest.mark.parametrize(
    ("spec", "shape"),
    [
        ({"kind": "additive_coupling", "mask": "alternate"}, (4,)),
        ({"kind": "reverse"}, (3, 2, 2)),
        ({"kind": "shuffle", "seed": 1}, (4,)),
        ({"kind": "actnorm"}, (3, 2, 2)),
        ({"kind": "lu_linear"}, (3, 2, 2)),
        ({"kind": "lu_linear", "seed": 2}, (6,)),
    ],
)
@pytest.mark.parametrize("batch", [1, 9])
def test_float32_and_any_batch(spec, shape, batch):
    _, layer, _ = make_node(spec, shape, dtype=torch.float32)
    layer(torch.randn(16, *shape, generator=gen(4)))  # actnorm's data-dependent init
    randomize_(layer)
    x = torch.randn(batch, *shape, generator=gen(5))
    z, contribution = layer(x)
    assert z.dtype == contribution.dtype == torch.float32
    assert z.shape == x.shape and contribution.shape == (batch,)
    torch.testing.assert_close(layer.inverse(z), x, atol=1e-4, rtol=1e-4)
