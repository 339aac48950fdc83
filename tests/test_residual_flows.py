"""Residual flows: the exact log-det against autograd, the estimators' bias (the truncated
series is biased, Russian roulette is not, in value and gradient), the Lipschitz bound
after perturbations and training steps, the fixed-point inverse reaching its tolerance,
located errors for lipschitz >= 1 and non-1-Lipschitz activations, and resflow_moons'
density integrating to one with the exact log-det."""

import math

import pytest
import torch
from bundled import SPECS
from oracles import autograd_logdet, make_node, randomize_

import flowspec
from flowspec.diagnostics import SpecError

X = torch.randn(5, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)


def block(**settings):
    _, layer, _ = make_node({"kind": "residual", **settings}, (2,))
    return layer


def linear_block(lipschitz: float, **settings):
    """g(x) = W x + b with |W|_2 = lipschitz: J = W everywhere, so every series term is known."""
    layer = block(net={"kind": "mlp", "hidden": []}, lipschitz=lipschitz, **settings)
    with torch.no_grad():
        layer.net.linears[0].weight.copy_(torch.tensor([[-1.0, 0.3], [0.2, -0.7]]))
    layer.net.refresh(200)
    return layer


def effective_matrix(layer) -> torch.Tensor:
    return layer.net.weights()[0][0].detach()


def test_exact_logdet_matches_autograd_and_inverse_reaches_tolerance():
    layer = block(logdet="exact", inverse={"tol": 1e-10, "max_iter": 500})
    randomize_(layer, scale=1.0)
    layer.net.refresh(500)
    z, contribution = layer(X)
    torch.testing.assert_close(
        contribution, autograd_logdet(lambda v: layer(v)[0], X), atol=1e-10, rtol=0
    )
    x = layer.inverse(z)
    lip = 0.9**3  # three layers, each scaled to at most 0.9
    assert (x - X).abs().max() <= 1e-10 / (1 - lip)  # a contraction stops within tol / (1 - L)


def test_series_is_biased_by_its_truncation():
    layer = linear_block(0.9, logdet="series", terms=2)
    w = effective_matrix(layer)
    exact = torch.linalg.slogdet(torch.eye(2, dtype=w.dtype) + w)[1]
    truncated = torch.trace(w) - torch.trace(w @ w) / 2
    torch.manual_seed(0)
    with torch.no_grad():
        estimates = layer(X[:1].repeat(40_000, 1))[1]
    sd_mean = estimates.std() / math.sqrt(len(estimates))
    assert abs(estimates.mean() - truncated) < 4 * sd_mean  # unbiased for the truncated sum
    assert abs(truncated - exact) > 50 * sd_mean  # which is not log det


def test_roulette_is_unbiased_in_value_and_gradient():
    layer = linear_block(0.5, logdet="roulette", terms=1, roulette_p=0.5)
    w = effective_matrix(layer)
    exact = torch.linalg.slogdet(torch.eye(2, dtype=w.dtype) + w)[1]
    weight = layer.net.linears[0].weight

    def exact_logdet():
        effective = layer.net.weights()[0][0]
        return torch.linalg.slogdet(torch.eye(2, dtype=w.dtype) + effective)[1]

    (exact_grad,) = torch.autograd.grad(exact_logdet(), weight)
    torch.manual_seed(0)
    values, grads = [], []
    for _ in range(400):  # one roulette draw per call: average over calls
        _, contribution = layer(X[:1].repeat(16, 1))
        (grad,) = torch.autograd.grad(contribution.mean(), weight)
        values.append(contribution.mean().detach())
        grads.append(grad)
    values, grads = torch.stack(values), torch.stack(grads)
    assert abs(values.mean() - exact) < 4 * values.std() / 20
    grad_error = (grads.mean(0) - exact_grad).abs()
    assert (grad_error < 4 * grads.std(0) / 20 + 1e-9).all(), (grads.mean(0), exact_grad)


@pytest.mark.parametrize("logdet", ["series", "roulette"])
def test_lipschitz_bound_holds_after_perturbation_and_training(logdet):
    layer = block(logdet=logdet, power_iterations=5).float()
    x = torch.randn(64, 2)
    optimizer = torch.optim.Adam(layer.parameters(), lr=0.05)
    for seed in range(3):
        randomize_(layer, scale=3.0, seed=seed)
        for _ in range(10):  # each backward pass refines the spectral-norm estimates
            z, contribution = layer(x)
            loss = (0.5 * z**2).sum(1).mean() - contribution.mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        # the estimate lags the weights by one step, as in i-ResNet training
        for weight, _ in layer.net.weights():
            assert torch.linalg.matrix_norm(weight.detach(), ord=2) <= 0.9 * 1.05
    layer.net.refresh(300)  # converged for the current weights: the bound is exact
    for weight, _ in layer.net.weights():
        assert torch.linalg.matrix_norm(weight.detach(), ord=2) <= 0.9 * (1 + 1e-5)
    z, _ = layer(x)
    assert (layer.inverse(z) - x).abs().max() < 1e-4


@pytest.mark.parametrize(
    ("setting", "code", "field"),
    [
        ("lipschitz: 1.0", "E750", "lipschitz"),
        ("lipschitz: 1.5", "E750", "lipschitz"),
        ("net: {kind: mlp, activation: silu}", "E753", "activation"),
        # Found by fuzzing: the roulette drew about 1e9 terms (a hang).
        ("roulette_p: 1.0e-9", "E104", "roulette_p"),
    ],
)
def test_bad_residual_settings_are_located_errors(setting, code, field):
    text = f"""flowspec: "1"
name: bad
inputs:
  x: {{shape: [2]}}
nodes:
  res: {{kind: residual, in: x, {setting}}}
  prior: {{kind: standard_normal, in: res}}
"""
    with pytest.raises(SpecError) as error:
        flowspec.check(text)
    (diagnostic,) = error.value.diagnostics
    assert (diagnostic.code, diagnostic.node, diagnostic.path[-1]) == (code, "res", field)
    assert diagnostic.location.line == 6


def test_likelihood_class_follows_the_estimator():
    classes = {
        logdet: flowspec.compile(
            (SPECS / "resflow_moons.yaml")
            .read_text()
            .replace("logdet: roulette", f"logdet: {logdet}")
        )
        for logdet in ("exact", "series", "roulette")
    }
    assert {k: m.likelihood for k, m in classes.items()} == {
        "exact": "exact",
        "series": "biased estimate",
        "roulette": "unbiased estimate",
    }
    assert classes["exact"].verdict == "log_prob is the exact log-likelihood"
    assert (
        classes["exact"].LOG_PROB_COST == "D passes"
        and classes["series"].SAMPLE_COST == "iterative"
    )


def test_resflow_density_with_exact_logdet_integrates_to_one():
    text = (SPECS / "resflow_moons.yaml").read_text().replace("logdet: roulette", "logdet: exact")
    model = flowspec.compile(text).double()
    torch.manual_seed(0)
    model.initialize(torch.randn(256, 2, dtype=torch.float64))  # layers set from data
    randomize_(model, scale=0.1)
    for module in model.modules():
        if hasattr(module, "refresh"):
            module.refresh(200)
    model.eval()
    axis = torch.linspace(-8, 8, 201, dtype=torch.float64)
    grid = torch.cartesian_prod(axis, axis)
    with torch.no_grad():
        density = torch.cat([model.log_prob(chunk).exp() for chunk in grid.split(10_000)])
    assert (density.sum() * (axis[1] - axis[0]) ** 2).item() == pytest.approx(1.0, abs=0.02)


def test_module_apply_reaches_the_spectral_mlp():
    """``nn.Module.apply(fn)`` visits every submodule; the residual net's own method of
    that name took it over once (TypeError: missing 'weights')."""
    layer = block()
    seen = []
    layer.apply(lambda module: seen.append(type(module).__name__))
    assert "SpectralMLP" in seen and seen[-1] == type(layer).__name__
