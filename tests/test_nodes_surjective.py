"""slice, augment, uniform_dequantization and the diagonal_normal / conditional_normal
distributions, with the shared conditional Gaussian they use."""

import math

import pytest
import torch
from oracles import infer_node, make_node, randomize_, run_checks
from torch.distributions import Normal
from torch.nn import functional as F

from flowspec.conditioners.mlp import MLPSpec
from flowspec.core.node import NodeCheck
from flowspec.core.ports import PortInfo, Support
from flowspec.core.properties import Likelihood
from flowspec.core.registry import node_kinds
from flowspec.densities.gaussian import GaussianSpec
from flowspec.diagnostics import Reporter
from flowspec.layers.densities.gaussian import Gaussian

DTYPES = [torch.float32, torch.float64]
SMALL_NET = {"hidden": [16]}


def infer_with(spec, x: PortInfo, context: PortInfo | None = None):
    node = node_kinds()[spec["kind"]].model_validate(spec)
    reporter = Reporter()
    outputs = run_checks(node, (x,), context, NodeCheck(reporter, "node", ("nodes", "node")))
    return outputs, reporter


def only_diagnostic(reporter: Reporter, code: str, *path, severity: str = "error"):
    assert [d.code for d in reporter.diagnostics] == [code], [str(d) for d in reporter.diagnostics]
    diagnostic = reporter.diagnostics[0]
    assert diagnostic.path == ("nodes", "node", *path)
    assert diagnostic.severity == severity and diagnostic.hint
    return diagnostic


def unnormalized_check(spec: dict, shape: tuple[int, ...], support: Support):
    """The shape rule on values in ``support``: its outputs and the check, which records a
    density that does not cover them exactly (W501, W800; the compiler reports them once per
    cause), with no diagnostic of its own."""
    node = node_kinds()[spec["kind"]].model_validate(spec)
    check = NodeCheck(Reporter(), "node", ("nodes", "node"))
    outputs = run_checks(node, (PortInfo(shape, support),), None, check)
    assert check.reporter.diagnostics == []
    return outputs, check


def reference_normal(density: Gaussian, context: torch.Tensor) -> Normal:
    """The Gaussian the documented parameterisation gives, recomputed from the raw net."""
    raw = density.net(context.flatten(1))
    n = raw.shape[1] // 2
    shift = math.log(math.expm1(1.0 - density.min_scale))
    return Normal(raw[:, :n], density.min_scale + F.softplus(raw[:, n:] + shift))


def assert_gradients_reach_every_parameter(module: torch.nn.Module, loss: torch.Tensor):
    loss.backward()
    params = list(module.parameters())
    assert params
    for p in params:
        assert p.grad is not None
    assert any(p.grad.abs().sum() > 0 for p in params)


# --- the shared conditional Gaussian -----------------------------------------------------


def test_conditional_gaussian_starts_as_standard_normal():
    density = GaussianSpec(net=MLPSpec(hidden=[8])).build(PortInfo((2, 2)), 3).double()
    c = torch.randn(5, 3, dtype=torch.float64)
    v = torch.randn(5, 2, 2, dtype=torch.float64)
    expected = Normal(0.0, 1.0).log_prob(v).flatten(1).sum(1)
    torch.testing.assert_close(density.log_prob(v, c), expected)
    assert density.sample(c).shape == (5, 2, 2)


def test_conditional_gaussian_scale_has_a_floor():
    density = (
        GaussianSpec(net=MLPSpec(hidden=[4]), min_scale=0.05).build(PortInfo((3,)), 2).double()
    )
    with torch.no_grad():
        density.net[-1].bias.fill_(-1e4)
    _, scale = density.params(torch.randn(4, 2, dtype=torch.float64))
    torch.testing.assert_close(scale, torch.full_like(scale, 0.05))


def test_conditional_gaussian_reparameterised_log_prob_matches_log_prob():
    density = randomize_(GaussianSpec(net=MLPSpec(hidden=[8])).build(PortInfo((4,)), 3).double())
    c = torch.randn(6, 3, dtype=torch.float64)
    v, log_prob = density.sample_and_log_prob(c)
    torch.testing.assert_close(log_prob, density.log_prob(v, c))
    torch.testing.assert_close(log_prob, reference_normal(density, c).log_prob(v).sum(1))
    assert_gradients_reach_every_parameter(density, (v.sum() + log_prob.sum()))


def test_conditional_params_validation():
    with pytest.raises(ValueError):
        GaussianSpec(min_scale=1.5)
    with pytest.raises(ValueError):
        GaussianSpec(scale=1.0)


# --- slice -----------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(("shape", "keep"), [((6,), 2), ((5,), 4), ((3, 2, 2), 1)])
def test_slice_generation_then_inference_is_identity(dtype, shape, keep):
    spec = {"kind": "slice", "keep": keep, "decoder": {"net": SMALL_NET}}
    node, layer, (out,) = make_node(spec, shape, dtype=dtype)
    assert out.shape == (keep, *shape[1:])
    assert not node.bijective and node.stochastic_inverse and node.likelihood() is Likelihood.EXACT
    randomize_(layer)
    for batch in (1, 4):
        z = torch.randn(batch, *out.shape, dtype=dtype)
        x = layer.inverse(z)
        assert x.shape == (batch, *shape) and x.dtype == dtype
        torch.testing.assert_close(x[:, :keep], z)
        z_again, contribution = layer(x)
        torch.testing.assert_close(z_again, z)
        assert contribution.shape == (batch,) and contribution.dtype == dtype
        assert torch.isfinite(contribution).all()


def test_slice_contribution_is_the_decoder_density_of_the_dropped_part():
    _, layer, _ = make_node({"kind": "slice", "keep": 2, "decoder": {"net": SMALL_NET}}, (5,))
    randomize_(layer)
    x = torch.randn(7, 5, dtype=torch.float64)
    z, contribution = layer(x)
    expected = reference_normal(layer.decoder, x[:, :2]).log_prob(x[:, 2:]).sum(1)
    torch.testing.assert_close(contribution, expected)
    torch.testing.assert_close(z, x[:, :2])


def test_slice_image_channels():
    _, layer, _ = make_node({"kind": "slice", "keep": 1, "decoder": {"net": SMALL_NET}}, (3, 2, 2))
    randomize_(layer)
    x = torch.randn(4, 3, 2, 2, dtype=torch.float64)
    z, contribution = layer(x)
    assert z.shape == (4, 1, 2, 2)
    expected = reference_normal(layer.decoder, x[:, :1]).log_prob(x[:, 1:].flatten(1)).sum(1)
    torch.testing.assert_close(contribution, expected)


def test_slice_with_a_standard_normal_base_is_exact_at_init():
    # Decoder N(0, I) at init: p(x) = N(x_keep) N(x_drop) = N(x), with no bound gap.
    _, layer, _ = make_node({"kind": "slice", "keep": 1}, (3,))
    x = torch.randn(6, 3, dtype=torch.float64)
    z, contribution = layer(x)
    total = Normal(0.0, 1.0).log_prob(z).sum(1) + contribution
    torch.testing.assert_close(total, Normal(0.0, 1.0).log_prob(x).sum(1))


def test_slice_samples_follow_the_decoder():
    _, layer, _ = make_node({"kind": "slice", "keep": 1, "decoder": {"net": SMALL_NET}}, (2,))
    randomize_(layer)
    torch.manual_seed(0)
    z = torch.full((20000, 1), 0.3, dtype=torch.float64)
    dropped = layer.inverse(z)[:, 1]
    reference = reference_normal(layer.decoder, z[:1])
    assert abs(dropped.mean() - reference.mean.item()) < 0.05 * reference.stddev.item() + 1e-3
    assert abs(dropped.std() / reference.stddev.item() - 1) < 0.05


def test_slice_gradients_reach_every_parameter():
    _, layer, _ = make_node({"kind": "slice", "keep": 2, "decoder": {"net": SMALL_NET}}, (4,))
    randomize_(layer)
    z, contribution = layer(torch.randn(5, 4, dtype=torch.float64))
    assert_gradients_reach_every_parameter(layer, z.sum() + contribution.sum())


def test_slice_keep_must_drop_something():
    outputs, reporter = infer_node({"kind": "slice", "keep": 4}, (4,))
    assert outputs is None
    diagnostic = only_diagnostic(reporter, "E466", "keep")
    assert "4" in diagnostic.message and "3" in diagnostic.hint


def test_slice_needs_a_feature_axis():
    outputs, reporter = infer_node({"kind": "slice", "keep": 1}, ())
    assert outputs is None
    only_diagnostic(reporter, "E411", "in")


def test_slice_density_checks():
    _, reporter = infer_node({"kind": "slice", "keep": 1}, (3,), support=Support(levels=4))
    only_diagnostic(reporter, "E800", "decoder")
    outputs, check = unnormalized_check({"kind": "slice", "keep": 1}, (3,), Support(0.0, 1.0))
    assert [(u.code, u.fields) for u in check.unnormalized] == [("W800", ("decoder",))]
    assert outputs[0].support == Support(0.0, 1.0)


# --- augment ---------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_augment_inference_then_generation_is_identity(dtype):
    spec = {"kind": "augment", "extra": 3, "encoder": {"net": SMALL_NET}}
    node, layer, (out,) = make_node(spec, (4,), dtype=dtype)
    assert out.shape == (7,) and out.support == Support()
    assert not node.bijective and node.stochastic_forward and node.likelihood() is Likelihood.BOUND
    randomize_(layer)
    for batch in (1, 5):
        x = torch.randn(batch, 4, dtype=dtype)
        z, contribution = layer(x)
        assert z.shape == (batch, 7) and contribution.shape == (batch,)
        assert contribution.dtype == dtype and torch.isfinite(contribution).all()
        torch.testing.assert_close(z[:, :4], x)
        torch.testing.assert_close(layer.inverse(z), x)


def test_augment_contribution_is_minus_log_q_of_the_draw():
    _, layer, _ = make_node({"kind": "augment", "extra": 2, "encoder": {"net": SMALL_NET}}, (3,))
    randomize_(layer)
    x = torch.randn(8, 3, dtype=torch.float64)
    z, contribution = layer(x)
    expected = -reference_normal(layer.encoder, x).log_prob(z[:, 3:]).sum(1)
    torch.testing.assert_close(contribution, expected)
    # Stochastic: two passes draw different noise.
    assert not torch.allclose(layer(x)[0][:, 3:], z[:, 3:])


def test_augment_gives_a_lower_bound_whose_gap_is_the_kl():
    # Model: augment then N(0, I) on [x, e]. Its marginal is exactly p(x) = N(x; 0, I), and
    # E_q[log N(x) + log N(e) - log q(e|x)] = log N(x) - KL(q(e|x) || N(0, I)).
    spec = {"kind": "augment", "extra": 2, "encoder": {"net": SMALL_NET}}
    _, layer, _ = make_node(spec, (2,))
    x = torch.randn(3, 2, dtype=torch.float64)
    exact = Normal(0.0, 1.0).log_prob(x).sum(1)

    def bound(draws: int) -> torch.Tensor:
        xs = x.repeat_interleave(draws, 0)
        z, contribution = layer(xs)
        return (Normal(0.0, 1.0).log_prob(z).sum(1) + contribution).view(3, draws).mean(1)

    # Encoder N(0, I) at init is the true posterior: the bound is tight for every draw.
    torch.testing.assert_close(bound(4), exact)
    randomize_(layer)
    torch.manual_seed(0)
    with torch.no_grad():
        estimate = bound(20000)
        q = reference_normal(layer.encoder, x)
        kl = torch.distributions.kl_divergence(q, Normal(0.0, 1.0)).sum(1)
    assert (kl > 0.01).all()
    assert (estimate < exact).all()
    torch.testing.assert_close(estimate, exact - kl, atol=0.05 * (1 + kl.max().item()), rtol=0)


def test_augment_gradients_reach_every_parameter():
    _, layer, _ = make_node({"kind": "augment", "extra": 2, "encoder": {"net": SMALL_NET}}, (3,))
    randomize_(layer)
    z, contribution = layer(torch.randn(5, 3, dtype=torch.float64))
    assert_gradients_reach_every_parameter(layer, z.pow(2).sum() + contribution.sum())


def test_augment_needs_a_flat_input():
    outputs, reporter = infer_node({"kind": "augment", "extra": 2}, (1, 4, 4))
    assert outputs is None
    diagnostic = only_diagnostic(reporter, "E401", "in")
    assert "[1, 4, 4]" in diagnostic.message and "flatten" in diagnostic.hint


def test_augment_needs_continuous_input():
    outputs, reporter = infer_node({"kind": "augment", "extra": 2}, (4,), support=Support(levels=2))
    assert outputs is None
    diagnostic = only_diagnostic(reporter, "E410", "in")
    assert "{0..1}" in diagnostic.message and "uniform_dequantization" in diagnostic.hint


# --- uniform_dequantization ------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("levels", [2, 256])
def test_dequantization_round_trip_and_range(dtype, levels):
    spec = {"kind": "uniform_dequantization"}
    node, layer, (out,) = make_node(spec, (1, 4, 4), support=Support(levels=levels), dtype=dtype)
    assert out.shape == (1, 4, 4) and out.support == Support(0.0, 1.0)
    assert not node.bijective and node.stochastic_forward and node.likelihood() is Likelihood.BOUND
    x = torch.randint(0, levels, (64, 1, 4, 4)).to(dtype)
    x[0] = 0
    x[1] = levels - 1
    z, contribution = layer(x)
    assert z.dtype == dtype and (z > 0).all() and (z < 1).all()
    assert torch.isfinite(torch.logit(z)).all()
    torch.testing.assert_close(contribution, torch.full((64,), -16 * math.log(levels), dtype=dtype))
    torch.testing.assert_close(layer.inverse(z), x, rtol=0, atol=0)
    # Every z in the cell of x maps back to x.
    assert ((z * levels).floor() == x).all()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("levels", [3, 10, 255, 256, 1000])
@pytest.mark.parametrize("noise", [0.0, 1.0])
def test_dequantization_stays_strictly_inside_at_extreme_noise(monkeypatch, dtype, levels, noise):
    # Rounding in x + u, / K and * K must not leave the cell of x, for any level.
    _, layer, _ = make_node(
        {"kind": "uniform_dequantization"}, (levels,), support=Support(levels=levels), dtype=dtype
    )
    monkeypatch.setattr(torch, "rand_like", lambda t: torch.full_like(t, noise))
    x = torch.arange(levels, dtype=dtype)[None]
    z, _ = layer(x)
    assert (z > 0).all() and (z < 1).all() and torch.isfinite(torch.logit(z)).all()
    torch.testing.assert_close(layer.inverse(z), x, rtol=0, atol=0)


def test_dequantization_inverse_clamps_to_the_levels():
    _, layer, _ = make_node({"kind": "uniform_dequantization"}, (3,), support=Support(levels=4))
    z = torch.tensor([[0.0, 1.0, 1.5], [-0.2, 0.5, 0.99]], dtype=torch.float64)
    expected = torch.tensor([[0.0, 3.0, 3.0], [0.0, 2.0, 3.0]], dtype=torch.float64)
    torch.testing.assert_close(layer.inverse(z), expected)


def test_dequantization_bound_is_exact_for_a_uniform_model():
    # With p(z) uniform on (0, 1)^D the model's discrete P(x) is K^-D for every x, and
    # log p(z) + contribution equals it for every draw.
    _, layer, _ = make_node({"kind": "uniform_dequantization"}, (5,), support=Support(levels=8))
    x = torch.randint(0, 8, (10, 5)).double()
    _, contribution = layer(x)
    total = 0.0 + contribution  # log p(z) = 0
    torch.testing.assert_close(total, torch.full((10,), math.log(8.0**-5), dtype=torch.float64))


def test_dequantization_needs_discrete_input():
    outputs, reporter = infer_node(
        {"kind": "uniform_dequantization"}, (4,), support=Support(0.0, 1.0)
    )
    assert outputs is None
    diagnostic = only_diagnostic(reporter, "E480", "in")
    assert "(0, 1)" in diagnostic.message and "levels" in diagnostic.hint


# --- diagonal_normal -------------------------------------------------------------------


def test_diagonal_normal_matches_torch_and_starts_standard():
    node, layer, outputs = make_node({"kind": "diagonal_normal"}, (2, 3))
    assert outputs == () and node.terminal and node.output_ports() == ()
    z = torch.randn(4, 2, 3, dtype=torch.float64)
    torch.testing.assert_close(layer(z), Normal(0.0, 1.0).log_prob(z).flatten(1).sum(1))
    randomize_(layer)
    reference = Normal(layer.loc, layer.log_scale.exp())
    torch.testing.assert_close(layer(z), reference.log_prob(z).flatten(1).sum(1))


def test_diagonal_normal_integrates_to_one_in_1d():
    _, layer, _ = make_node({"kind": "diagonal_normal"}, (1,))
    randomize_(layer, scale=1.0)
    loc, scale = layer.loc.item(), layer.log_scale.exp().item()
    grid = torch.linspace(loc - 12 * scale, loc + 12 * scale, 20001, dtype=torch.float64)
    with torch.no_grad():
        density = layer(grid[:, None]).exp()
    assert abs(torch.trapezoid(density, grid).item() - 1) < 1e-6


def test_diagonal_normal_integrates_to_one_in_2d():
    _, layer, _ = make_node({"kind": "diagonal_normal"}, (2,))
    randomize_(layer, scale=1.0)
    loc, scale = layer.loc.detach(), layer.log_scale.exp().detach()
    axes = [
        torch.linspace(loc[i] - 10 * scale[i], loc[i] + 10 * scale[i], 801, dtype=torch.float64)
        for i in range(2)
    ]
    grid = torch.stack(torch.meshgrid(*axes, indexing="ij"), dim=-1)
    with torch.no_grad():
        density = layer(grid.reshape(-1, 2)).exp().reshape(801, 801)
    mass = torch.trapezoid(torch.trapezoid(density, axes[1], dim=1), axes[0])
    assert abs(mass.item() - 1) < 1e-5


@pytest.mark.parametrize("dtype", DTYPES)
def test_diagonal_normal_samples(dtype):
    _, layer, _ = make_node({"kind": "diagonal_normal"}, (3,), dtype=dtype)
    randomize_(layer)
    torch.manual_seed(0)
    z = layer.sample(40000)
    assert z.shape == (40000, 3) and z.dtype == dtype
    assert layer.sample(1).shape == (1, 3)
    torch.testing.assert_close(z.mean(0), layer.loc.detach(), atol=0.05, rtol=0)
    torch.testing.assert_close(z.std(0), layer.log_scale.exp().detach(), atol=0, rtol=0.03)
    assert torch.isfinite(layer(z)).all()


def test_diagonal_normal_gradients_reach_every_parameter():
    _, layer, _ = make_node({"kind": "diagonal_normal"}, (3,))
    randomize_(layer)
    loss = layer(torch.randn(5, 3, dtype=torch.float64)).sum()
    assert_gradients_reach_every_parameter(layer, loss)


def test_diagonal_normal_density_checks():
    _, reporter = infer_node({"kind": "diagonal_normal"}, (3,), support=Support(levels=4))
    only_diagnostic(reporter, "E501", "in")
    _, check = unnormalized_check({"kind": "diagonal_normal"}, (3,), Support(0.0, 1.0))
    assert [(u.code, u.fields) for u in check.unnormalized] == [("W501", ("in",))]


# --- conditional_normal ----------------------------------------------------------------

COND = {"kind": "conditional_normal", "context": "halves.out0", "net": SMALL_NET}


def test_conditional_normal_matches_torch_with_the_net_outputs():
    node, layer, outputs = make_node(COND, (2, 2), context=(3,))
    assert outputs == () and node.terminal and node.accepts_context
    z = torch.randn(6, 2, 2, dtype=torch.float64)
    c = torch.randn(6, 3, dtype=torch.float64)
    torch.testing.assert_close(layer(z, context=c), Normal(0.0, 1.0).log_prob(z).flatten(1).sum(1))
    randomize_(layer)
    expected = reference_normal(layer.density, c).log_prob(z.flatten(1)).sum(1)
    torch.testing.assert_close(layer(z, context=c), expected)
    assert not torch.allclose(layer(z, context=c), layer(z, context=c + 1))


def test_conditional_normal_integrates_to_one_in_1d():
    _, layer, _ = make_node(COND, (1,), context=(2,))
    randomize_(layer)
    c = torch.randn(1, 2, dtype=torch.float64)
    with torch.no_grad():
        mean, scale = layer.density.params(c)
        mean, scale = mean.item(), scale.item()
        grid = torch.linspace(mean - 12 * scale, mean + 12 * scale, 20001, dtype=torch.float64)
        density = layer(grid[:, None], context=c.expand(len(grid), 2)).exp()
    assert abs(torch.trapezoid(density, grid).item() - 1) < 1e-6


@pytest.mark.parametrize("dtype", DTYPES)
def test_conditional_normal_samples_one_per_context_row(dtype):
    _, layer, _ = make_node(COND, (2, 3), context=(4,), dtype=dtype)
    randomize_(layer)
    for n in (1, 5):
        c = torch.randn(n, 4, dtype=dtype)
        z = layer.sample(n, context=c)
        assert z.shape == (n, 2, 3) and z.dtype == dtype
        assert torch.isfinite(layer(z, context=c)).all()
    with pytest.raises(ValueError, match="context"):
        layer.sample(3, context=torch.randn(2, 4, dtype=dtype))
    with pytest.raises(ValueError, match="context"):
        layer.sample(3)
    with pytest.raises(ValueError, match="context"):
        layer(torch.randn(3, 2, 3, dtype=dtype))


def test_conditional_normal_gradients_reach_every_parameter():
    _, layer, _ = make_node(COND, (3,), context=(2,))
    randomize_(layer)
    c = torch.randn(5, 2, dtype=torch.float64)
    loss = layer(torch.randn(5, 3, dtype=torch.float64), context=c).sum()
    assert_gradients_reach_every_parameter(layer, loss)


def test_conditional_normal_needs_a_context():
    outputs, reporter = infer_with({"kind": "conditional_normal"}, PortInfo((3,)))
    assert outputs is None
    diagnostic = only_diagnostic(reporter, "E510", "context")
    assert "context: split.out0" in diagnostic.hint


def test_conditional_normal_takes_an_image_context_flattened():
    node, layer, _ = make_node(COND, (3,), context=(1, 2, 2))
    randomize_(layer)
    image = torch.randn(5, 1, 2, 2, dtype=torch.float64)
    z = torch.randn(5, 3, dtype=torch.float64)
    torch.testing.assert_close(layer(z, context=image), layer(z, context=image.flatten(1)))
    assert layer.sample(5, context=image).shape == (5, 3)


def test_conditional_normal_density_check():
    _, reporter = infer_with(COND, PortInfo((3,), Support(levels=2)), PortInfo((2,)))
    only_diagnostic(reporter, "E501", "in")


# --- registry --------------------------------------------------------------------------


def test_kinds_are_registered_with_their_flags():
    kinds = node_kinds()
    assert kinds["slice"].category().value == "surjective"
    assert kinds["augment"].category().value == "surjective"
    assert kinds["uniform_dequantization"].category().value == "surjective"
    assert kinds["diagonal_normal"].category().value == "distribution"
    assert kinds["conditional_normal"].category().value == "distribution"
    described = kinds["slice"].model_validate({"kind": "slice", "keep": 2}).describe()
    assert described["keep"] == 2 and described["decoder"]["min_scale"] == 1e-3
