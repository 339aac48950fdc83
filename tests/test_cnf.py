"""Continuous normalizing flows: the exact-trace log-det against the autograd Jacobian of
the solved map, Hutchinson's estimator unbiased over many probes, the inverse reaching the
solver's tolerance, the adjoint method's gradients equal to backpropagation's, the solver
settings' located diagnostics, and ffjord_moons' density integrating to one with the exact
trace."""

import math

import pytest
import torch
from bundled import SPECS
from oracles import make_node, randomize_

import flowspec
from flowspec.diagnostics import SpecError

X = torch.randn(4, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
TIGHT = {"rtol": 1e-10, "atol": 1e-10}


def cnf(**settings):
    spec = {"kind": "cnf", "net": {"kind": "mlp", "hidden": [16], "activation": "tanh"}, **settings}
    _, layer, _ = make_node(spec, (2,))
    return randomize_(layer, scale=0.5)


def jacobian_logdet(layer, x: torch.Tensor) -> torch.Tensor:
    """log|det| of the autograd Jacobian of the solved map z(x), sample by sample."""
    return torch.stack(
        [
            torch.linalg.slogdet(
                torch.autograd.functional.jacobian(
                    lambda v: layer(v.unsqueeze(0))[0].squeeze(0), row
                )
            )[1]
            for row in x
        ]
    )


def test_exact_trace_logdet_matches_the_jacobian_and_inverts():
    layer = cnf(trace="exact", solver={"method": "rk4", "step_size": 0.05})
    x = X[:2]
    z, contribution = layer(x)
    torch.testing.assert_close(contribution, jacobian_logdet(layer, x), atol=1e-6, rtol=0)
    assert (layer.inverse(z) - x).abs().max() < 1e-6


def test_hutchinson_is_unbiased():
    layer = cnf(trace="exact", solver={"rtol": 1e-7, "atol": 1e-7})
    with torch.no_grad():
        exact = layer(X[:1])[1]
        layer.dynamics.trace = "hutchinson"
        torch.manual_seed(0)
        estimates = layer(X[:1].repeat(4000, 1))[1]  # one probe per row
    sd_mean = estimates.std() / math.sqrt(len(estimates))
    assert abs(estimates.mean() - exact) < 4 * sd_mean
    assert estimates.std() > 0  # an estimate, not the exact value


def test_adjoint_gradients_equal_backpropagation():
    layer = cnf(trace="exact", solver=TIGHT)
    grads = []
    for adjoint in (False, True):
        layer.adjoint = adjoint
        _, contribution = layer(X)
        grads.append(torch.autograd.grad(contribution.sum(), list(layer.parameters())))
    torch.testing.assert_close(grads[0], grads[1], atol=1e-6, rtol=1e-5)


def test_adjoint_gradients_equal_backpropagation_through_a_preceding_layer():
    """A CNF after another layer gets an input that requires grad; the adjoint's forward
    solve (no grad) must still differentiate its trace (it raised 'not used in the graph'
    for stacked adjoint CNFs, e.g. specs/zoo/ffjord_mnist.yaml)."""
    layer = cnf(trace="exact", solver=TIGHT)
    grads = []
    for adjoint in (False, True):
        layer.adjoint = adjoint
        x = X.clone().requires_grad_()
        z, contribution = layer(1.5 * x)
        grads.append(torch.autograd.grad((z.sum() + contribution.sum()), [x, *layer.parameters()]))
    torch.testing.assert_close(grads[0], grads[1], atol=1e-6, rtol=1e-5)


def test_likelihood_class_follows_the_trace():
    text = (SPECS / "ffjord_moons.yaml").read_text()
    assert flowspec.compile(text).likelihood == "unbiased estimate"
    exact = flowspec.compile(text.replace("trace: hutchinson", "trace: exact"))
    assert exact.likelihood == "exact to a tolerance"
    assert (exact.LOG_PROB_COST, exact.SAMPLE_COST) == ("iterative", "iterative")


SOLVER = """flowspec: "1"
name: solver
inputs:
  x: {{shape: [2]}}
nodes:
  flow: {{kind: cnf, in: x, {settings}}}
  prior: {{kind: standard_normal, in: flow}}
"""


def test_fixed_step_solver_without_step_size_is_a_located_error():
    with pytest.raises(SpecError) as error:
        flowspec.check(SOLVER.format(settings="solver: {method: rk4}"))
    (diagnostic,) = error.value.diagnostics
    assert (diagnostic.code, diagnostic.node, diagnostic.path[-1]) == ("E754", "flow", "method")
    assert diagnostic.location.line == 6


@pytest.mark.parametrize(
    ("settings", "code", "field"),
    [
        ("solver: {method: euler, step_size: 1.0e-12}", "E758", "step_size"),
        ("time: 1.0e12, solver: {method: rk4, step_size: 0.1}", "E758", "step_size"),
        ("solver: {rtol: 1.0e-300}", "E759", "rtol"),
        ("solver: {atol: 1.0e-12}", "E759", "atol"),
    ],
)
def test_solver_settings_that_cannot_finish_are_located_errors(settings, code, field):
    # Found by fuzzing: 1e12 fixed steps tried to allocate terabytes (a traceback out of
    # train), rtol 1e-300 was torchdiffeq's AssertionError, atol 1e-12 a hang.
    with pytest.raises(SpecError) as error:
        flowspec.check(SOLVER.format(settings=settings))
    (diagnostic,) = error.value.diagnostics
    assert (diagnostic.code, diagnostic.node, diagnostic.path[-1]) == (code, "flow", field)
    assert diagnostic.location.line == 6


def test_kinked_dynamics_is_a_warning():
    checked = flowspec.check(SOLVER.format(settings="net: {kind: mlp, activation: relu}"))
    assert [(d.code, d.node) for d in checked.warnings] == [("W757", "flow")]


def test_ffjord_density_with_exact_trace_integrates_to_one():
    text = (SPECS / "ffjord_moons.yaml").read_text().replace("trace: hutchinson", "trace: exact")
    text = text.replace("step_size: 0.25", "step_size: 0.1")
    model = flowspec.compile(text).double()
    torch.manual_seed(0)
    randomize_(model, scale=0.15)
    model.eval()
    axis = torch.linspace(-7, 7, 101, dtype=torch.float64)
    grid = torch.cartesian_prod(axis, axis)
    with torch.no_grad():
        density = model.log_prob(grid).exp()
    assert (density.sum() * (axis[1] - axis[0]) ** 2).item() == pytest.approx(1.0, abs=0.01)


@pytest.mark.parametrize("hidden", [[], [5], [6, 4], [5, 3, 4]])
@pytest.mark.parametrize("activation", ["tanh", "elu", "softplus"])
def test_mlp_closed_form_trace_and_its_gradients_match_autograd(hidden, activation):
    """The closed-form trace of an MLP field over its state's columns (time and context
    columns left out) and its gradients in the inputs and the weights, against the autograd
    Jacobian's diagonal in float64."""
    from flowspec.layers._jacobian import batch_jacobian
    from flowspec.layers._mlp_trace import has_closed_form_trace, mlp_and_trace
    from flowspec.layers.conditioners.mlp import MLP

    torch.manual_seed(0)
    net = MLP(1 + 3 + 2, hidden, 3, activation, zero_init=False).double()
    assert has_closed_form_trace(net)
    u = torch.randn(4, 6, dtype=torch.float64, requires_grad=True)
    out, trace = mlp_and_trace(net, u, slice(1, 4))
    expected_out = net(u)
    expected = batch_jacobian(expected_out, u, True)[:, :, 1:4].diagonal(dim1=1, dim2=2).sum(1)
    torch.testing.assert_close(out, expected_out, atol=1e-12, rtol=0)
    torch.testing.assert_close(trace, expected, atol=1e-12, rtol=0)
    wrt = [u, *net.parameters()]
    got = torch.autograd.grad(trace.pow(2).sum(), wrt, allow_unused=True, materialize_grads=True)
    want = torch.autograd.grad(
        expected.pow(2).sum(), wrt, allow_unused=True, materialize_grads=True
    )
    torch.testing.assert_close(got, want, atol=1e-12, rtol=0)


def test_exact_trace_takes_the_closed_form_for_an_mlp_field_only():
    assert cnf(trace="exact").dynamics.plain_mlp
    spec = {"kind": "cnf", "net": {"kind": "conv", "channels": [2]}, "trace": "exact"}
    _, layer, _ = make_node(spec, (1, 2, 2))
    assert not layer.dynamics.plain_mlp


def test_first_step_reaches_torchdiffeq_and_keeps_the_tolerance():
    """A first step of the whole time (the default) takes fewer evaluations on the zero
    field a CNF starts at than torchdiffeq's estimate, and on random weights gives the same
    log-det to the tolerance (the step is shrunk by the same error control)."""
    layer = cnf(trace="exact", solver={"rtol": 1e-8, "atol": 1e-8, "first_step": "estimate"})
    tried = cnf(trace="exact", solver={"rtol": 1e-8, "atol": 1e-8})
    assert tried.options == {"first_step": 1.0} and layer.options == {}
    assert cnf(time=0.5).options == {"first_step": 0.5}
    tried.load_state_dict(layer.state_dict())
    torch.testing.assert_close(tried(X)[1], layer(X)[1], atol=1e-6, rtol=0)
    assert evaluations(tried) < evaluations(layer) and evaluations(tried) <= 8


def evaluations(layer) -> int:
    """Vector-field calls of one inference solve with the field set to zero."""
    for p in layer.dynamics.net.parameters():
        torch.nn.init.zeros_(p)
    calls = []
    hook = layer.dynamics.register_forward_pre_hook(lambda *_: calls.append(1))
    with torch.no_grad():
        layer(X)
    hook.remove()
    return len(calls)


def test_exact_trace_on_many_features_warns_only_without_the_closed_form():
    """W755 (one backward pass per feature) is for fields without the closed form: a conv
    field on 1x8x8 images, not an mlp field on 64 features, which evaluation scores with
    the exact trace too."""
    image = "x: {{shape: [1, 8, 8]}}"
    conv = "{kind: conv, channels: [4], activation: softplus}"
    for net, inputs, warned in (
        ("{kind: mlp, activation: tanh}", "x: {{shape: [64]}}", []),
        (conv, image, ["W755"]),
    ):
        text = SOLVER.replace("x: {{shape: [2]}}", inputs).format(
            settings=f"trace: exact, net: {net}"
        )
        assert [d.code for d in flowspec.check(text).warnings] == warned
    node, _, inputs = make_node({"kind": "cnf", "net": {"activation": "tanh"}}, (64,))
    assert node.for_evaluation(inputs)[1] == "trace: exact"
