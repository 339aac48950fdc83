"""Amortized flows: parameters per example from a context (issue 17).

Planar, radial and Sylvester layers given a context compute their raw parameters as
``theta + net(c)`` and keep the papers' invertibility conditions for every example through
the same reparameterisations (Rezende and Mohamed 2015; van den Berg et al. 2018). The
log-determinant of each against autograd, per example in float64, is the node contract's
(``tests/test_contract_nodes.py``, on the kinds' amortized examples); here: the conditions
under huge contexts, each row using its own context's flow, round trips, and the errors.
"""

from __future__ import annotations

import pytest
import torch
from bundled import SPECS
from oracles import make_node, randomize_

import flowspec
from flowspec.graph.bookkeeping import bookkeeping
from flowspec.render.graphviz import to_dot

NEWTON = {"method": "newton", "tol": 1e-13, "max_iter": 100}
NET = {"kind": "mlp", "hidden": [8], "activation": "tanh"}
AMORTIZED = [
    {"kind": "planar", "net": NET},
    {"kind": "radial", "net": NET},
    *(
        {"kind": "sylvester", "variant": variant, "net": NET}
        for variant in ("orthogonal", "householder", "triangular")
    ),
]
IDS = [" ".join(str(v) for k, v in spec.items() if k != "net") for spec in AMORTIZED]


def _layer(spec: dict, seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    _, layer, _ = make_node(spec, (3,), context=(4,))
    return randomize_(layer, scale=1.0, seed=seed)


def _generate(layer: torch.nn.Module, z: torch.Tensor, c: torch.Tensor) -> tuple:
    if hasattr(layer, "inverse_and_contribution"):
        return layer.inverse_and_contribution(z, context=c)
    x = layer.inverse(z, context=c)
    return x, layer(x, context=c)[1]


@pytest.mark.parametrize("spec", AMORTIZED, ids=IDS)
def test_constraints_hold_per_example_under_huge_contexts(spec: dict) -> None:
    """Contexts of scale 1e3 drive the network's outputs far out: every example still has
    u.w >= -1 (planar), beta >= -alpha (radial), R_ii R~_ii > -1 and an orthonormal Q
    (Sylvester), and its draws and log-dets stay finite."""
    generator = torch.Generator().manual_seed(0)
    for seed in range(2):
        layer = _layer(spec, seed)
        c = 1e3 * torch.randn(32, 4, generator=generator, dtype=torch.float64)
        params = layer.parameters_for(c)
        if spec["kind"] == "planar":
            w, u, _ = params
            condition = (w * u).sum(1) + 1
        elif spec["kind"] == "radial":
            _, alpha, beta = params
            condition = alpha + beta
        else:
            q, *_, diagonal = params
            condition = diagonal + 1
            eye = torch.eye(q.shape[2], dtype=q.dtype).expand_as(q.transpose(1, 2) @ q)
            torch.testing.assert_close(q.transpose(1, 2) @ q, eye, atol=1e-10, rtol=0)
        assert condition.shape[0] == 32 and (condition >= -1e-12).all()
        z = torch.randn(32, 3, generator=generator, dtype=torch.float64)
        x, contribution = _generate(layer, z, c)
        assert torch.isfinite(x).all() and torch.isfinite(contribution).all()


@pytest.mark.parametrize("spec", AMORTIZED, ids=IDS)
def test_each_example_gets_its_own_contexts_flow(spec: dict) -> None:
    """A batch of contexts gives each row what that row's context alone gives, and
    different contexts give different maps."""
    layer = _layer(spec)
    generator = torch.Generator().manual_seed(1)
    z = torch.randn(5, 3, generator=generator, dtype=torch.float64)
    c = torch.randn(5, 4, generator=generator, dtype=torch.float64)
    x, contribution = _generate(layer, z, c)
    for row in range(5):
        x_row, contribution_row = _generate(layer, z[row : row + 1], c[row : row + 1])
        torch.testing.assert_close(x_row[0], x[row])
        torch.testing.assert_close(contribution_row[0], contribution[row])
    assert not torch.allclose(_generate(layer, z, c.flip(0))[0], x)


@pytest.mark.parametrize(
    "spec", [{"kind": "planar", "net": NET, "inverse": NEWTON}, {"kind": "radial", "net": NET}]
)
def test_amortized_round_trips(spec: dict) -> None:
    """Where an inverse exists, inference undoes generation for each example's own flow,
    and its contribution is minus generation's log-det at the same point."""
    layer = _layer(spec)
    generator = torch.Generator().manual_seed(2)
    z = 2 * torch.randn(32, 3, generator=generator, dtype=torch.float64)
    c = 3 * torch.randn(32, 4, generator=generator, dtype=torch.float64)
    x, generated = _generate(layer, z, c)
    back, contribution = layer(x, context=c)
    torch.testing.assert_close(back, z, atol=1e-9, rtol=0)
    torch.testing.assert_close(contribution, generated, atol=1e-9, rtol=0)


def test_a_context_without_a_net_is_a_located_error() -> None:
    text = """\
flowspec: "1"
name: amortized
inputs:
  x: {shape: [2]}
  c: {shape: [3], context: true}
nodes:
  flow: {kind: sylvester, in: x, context: c}
  prior: {kind: standard_normal, in: flow}
"""
    with pytest.raises(flowspec.SpecError) as raised:
        flowspec.check(text)
    (error,) = [d for d in raised.value.diagnostics if d.severity == "error"]
    assert (error.code, error.node, error.location.line) == ("E762", "flow", 7)
    assert "net" in (error.hint or "")


PLANAR_VAE = (SPECS / "planar_vae_digits.yaml").read_text().replace("repeat: 10", "repeat: 3")


def test_a_vae_encoder_conditions_its_layers_on_its_hidden_features() -> None:
    """layer_context: hidden gives each planar layer of the posterior the encoder's last
    hidden layer h(x) (128 features), not x (64): the counts agree with the module, two
    images get two different flows, and the -ELBO's gradient reaches every parameter."""
    torch.manual_seed(0)
    model = flowspec.compile(PLANAR_VAE)
    assert bookkeeping(model).total_params == sum(p.numel() for p in model.parameters())
    encoder = model.nodes["vae"].encoder
    x = (torch.rand(2, 64, generator=torch.Generator().manual_seed(0)) < 0.4).float()
    randomize_(encoder, scale=0.02)
    features = encoder.base.net.features(x)
    assert features.shape == (2, 128)
    w, u, _ = encoder.layers[0].parameters_for(features)
    assert w.shape == (2, 8) and not torch.allclose(w[0], w[1])
    (-model.log_prob(x).sum()).backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


def test_hidden_features_of_a_net_without_hidden_layers_is_a_located_error() -> None:
    text = PLANAR_VAE.replace(
        "net: {kind: mlp, hidden: [128]}\n      layer_context",
        "net: {kind: mlp, hidden: []}\n      layer_context",
    )
    with pytest.raises(flowspec.SpecError) as raised:
        flowspec.check(text)
    (error,) = [d for d in raised.value.diagnostics if d.severity == "error"]
    assert error.code == "E808" and error.node == "vae"
    assert error.path[-1] == "layer_context"


def test_the_drawing_shows_the_hidden_features_entering_the_posteriors_layers() -> None:
    lines = to_dot(flowspec.check(PLANAR_VAE).graph).source.splitlines()
    edge = next(line for line in lines if "vae__encoder__base -> vae__encoder__0 [" in line)
    assert "dashed" in edge and ">h<" in edge
    base = next(line for line in lines if line.strip().startswith("vae__encoder__base [label="))
    assert "h: its last hidden layer" in base


def test_an_iaf_posterior_reads_the_encoders_hidden_features() -> None:
    """IAF (Kingma et al. 2016): autoregressive layers took a context already; in a VAE's
    flow encoder with layer_context: hidden their MADE reads h(x), and the posterior's
    draws score exactly as the density scores them."""
    text = PLANAR_VAE.replace(
        "- {kind: planar, net: {kind: mlp, hidden: []}}",
        "- {kind: autoregressive, direction: iaf, conditioner: {hidden: [16]}}",
    ).replace("repeat: 3", "repeat: 2")
    torch.manual_seed(0)
    model = flowspec.compile(text)
    assert bookkeeping(model).total_params == sum(p.numel() for p in model.parameters())
    encoder = model.nodes["vae"].encoder
    randomize_(encoder, scale=0.05)
    x = (torch.rand(4, 64, generator=torch.Generator().manual_seed(0)) < 0.4).float()
    with torch.no_grad():
        z, log_q = encoder.sample_and_log_prob(x)
        torch.testing.assert_close(encoder.log_prob(z, x), log_q, atol=1e-4, rtol=1e-5)
        other = encoder.layers[0](z, context=encoder.base.net.features(x.flip(0)))[1]
        assert not torch.allclose(
            encoder.layers[0](z, context=encoder.base.net.features(x))[1], other
        )
