"""What is particular to the learned transformers: rq_spline (Durkan et al. 2019) at and
beyond its bound, and the ones inverted by bisection, logistic_mixture (Flow++) and naf
(Huang et al. 2018). What every transformer keeps (round trips, autograd derivatives,
monotonicity, supports, inside couplings and autoregressive layers) is their contract:
tests/test_contract_parts.py and tests/test_contract_nodes.py."""

import warnings

import pytest
import torch
from oracles import make_node, randomize_, run_checks

from flowspec.core.properties import Cost, Likelihood
from flowspec.core.registry import transformer_kinds
from flowspec.emit.runtime import InexactInverseWarning

SPLINE = {"kind": "rq_spline", "bins": 6, "bound": 3.0}
#: The transformers inverted by iteration, each with its first declared example's settings.
ITERATIVE = [
    pytest.param({"kind": name, **cls.examples[0].settings}, id=name)
    for name, cls in transformer_kinds().items()
    if cls.inverse_cost == Cost.ITERATIVE
]


def build(spec: dict) -> torch.nn.Module:
    return transformer_kinds()[spec["kind"]].model_validate(spec).build().double()


def random_params(spec: dict, shape: tuple[int, ...], scale: float = 1.0) -> torch.Tensor:
    count = transformer_kinds()[spec["kind"]].model_validate(spec).params_per_feature()
    generator = torch.Generator().manual_seed(0)
    return scale * torch.randn(*shape, count, generator=generator, dtype=torch.float64)


def test_spline_is_the_identity_outside_the_bound_and_continuous_at_it():
    transformer, params = build(SPLINE), random_params(SPLINE, (4, 1), scale=2.0)
    outside = torch.tensor([-9.0, -3.0001, 3.0001, 50.0], dtype=torch.float64)[:, None]
    z, log_derivative = transformer(outside, params)
    assert torch.equal(z, outside) and torch.equal(log_derivative, torch.zeros_like(z))
    assert torch.equal(transformer.inverse(outside, params), outside)
    edges = torch.tensor([-3.0, -3.0, 3.0, 3.0], dtype=torch.float64)[:, None]
    torch.testing.assert_close(transformer(edges, params)[0], edges)
    torch.testing.assert_close(transformer(edges, params)[1], torch.zeros_like(edges))


def test_spline_at_zero_parameters_is_the_identity():
    transformer = build(SPLINE)
    x = torch.linspace(-5, 5, 101, dtype=torch.float64)
    z, log_derivative = transformer(x, torch.zeros(101, 17, dtype=torch.float64))
    torch.testing.assert_close(z, x)
    torch.testing.assert_close(log_derivative, torch.zeros_like(x))


def test_spline_knots_are_softmax_shares_of_the_bins_axis_in_any_parameter_layout():
    """The widths and heights are a softmax over each feature's bins (computed over a leading
    axis for speed), whether the parameters come contiguous or strided as MADE returns them;
    values and gradients agree between the layouts, and one bin still works."""
    from flowspec.layers.transformers.rq_spline import _knots

    raw = torch.randn(5, 6, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    strided = raw.movedim(1, -1)  # (5, 3, 6), the bins axis with stride 3
    shares = 1e-3 + (1 - 6e-3) * torch.exp(strided) / torch.exp(strided).sum(-1, keepdim=True)
    expected = torch.cat([torch.zeros(5, 3, 1, dtype=torch.float64), shares.cumsum(-1)], -1)
    torch.testing.assert_close(_knots(strided, 3.0, 1e-3), 6.0 * expected - 3.0)

    transformer = build(SPLINE)
    params = random_params(SPLINE, (7, 3)).movedim(-1, 0).contiguous().movedim(0, -1)
    x = 2 * torch.randn(7, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    grads = []
    for layout in (params, params.contiguous()):
        layout = layout.detach().requires_grad_()
        z, log_derivative = transformer(x, layout)
        (z.sum() + log_derivative.sum()).backward()
        grads.append((z, log_derivative, layout.grad))
    for first, second in zip(*grads, strict=True):
        torch.testing.assert_close(first, second, atol=1e-12, rtol=0)

    one_bin = build({**SPLINE, "bins": 1})
    z, log_derivative = one_bin(x, torch.randn(7, 3, 2, dtype=torch.float64))
    torch.testing.assert_close(z, x)
    torch.testing.assert_close(log_derivative, torch.zeros_like(x))


@pytest.mark.parametrize("spec", ITERATIVE)
def test_iterative_maps_start_near_the_identity_and_differ_per_unit(spec):
    """Zero parameters: a fixed smooth monotone map close to x (units spread so they can
    learn apart; see the module docstrings)."""
    transformer = build(spec)
    x = torch.linspace(-3, 3, 61, dtype=torch.float64)
    count = transformer_kinds()[spec["kind"]].model_validate(spec).params_per_feature()
    z, _ = transformer(x, torch.zeros(61, count, dtype=torch.float64))
    assert (z - x).abs().max() < 0.5


@pytest.mark.parametrize("spec", ITERATIVE)
def test_bisection_records_its_error_and_the_model_warns_naming_the_node(spec):
    import flowspec

    source = f"""
flowspec: "1"
name: iterative
inputs:
  x: {{shape: [2]}}
nodes:
  layer: {{kind: coupling, transformer: {spec | {"inverse": {"max_iter": 1, "tol": 1e-9}}}, in: x}}
  prior: {{kind: standard_normal, in: layer}}
"""
    torch.manual_seed(0)
    model = flowspec.compile(source.replace("'", '"')).double()
    randomize_(model, scale=0.3)
    with pytest.warns(InexactInverseWarning, match="node 'layer'.*tolerance 1e-09"):
        model.sample(50)
    assert model.nodes["layer"].transformer.last_inverse_error > 1e-9
    settings = "'max_iter': 60, 'tol': 0.0001"
    accurate = flowspec.compile(
        source.replace("'max_iter': 1, 'tol': 1e-09", settings).replace("'", '"')
    )
    accurate = accurate.double()
    accurate.load_state_dict(model.state_dict())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        accurate.sample(50)
    error = accurate.nodes["layer"].transformer.last_inverse_error
    assert 0 <= error <= 1e-4


@pytest.mark.parametrize("spec", ITERATIVE)
def test_a_few_halvings_meet_the_tolerance_of_a_fresh_model(spec):
    """8 halvings of the bracket left errors of 4e-3 in float32, above the default tolerance
    1e-4 (the test suite warned so); the Newton steps after them reach the dtype's
    resolution, in a coupling and in a learned elementwise map alike."""
    import flowspec

    settings = spec | {"inverse": {"max_iter": 8}}
    for node in (
        f"{{kind: coupling, transformer: {settings}, in: x}}",
        f"{{kind: elementwise, transformer: {settings}, in: x}}",
    ):
        source = f"""
flowspec: "1"
name: few-halvings
inputs:
  x: {{shape: [3]}}
nodes:
  layer: {node}
  prior: {{kind: standard_normal, in: layer}}
"""
        torch.manual_seed(0)
        model = flowspec.compile(source.replace("'", '"'))
        with torch.no_grad():
            x = model.sample(500)  # a warning here fails the test (pyproject filterwarnings)
            z = model.trace(x).latents["prior"]
        error = float(model.nodes["layer"].transformer.last_inverse_error)
        assert error <= 2e-6
        torch.testing.assert_close(model.inverse(z), x, atol=1e-4, rtol=0)


@pytest.mark.parametrize("spec", ITERATIVE)
def test_iterative_transformers_make_sampling_iterative_and_density_exact(spec):
    coupling = make_node({"kind": "coupling", "transformer": spec}, (2,))[0]
    maf = make_node({"kind": "autoregressive", "transformer": spec}, (2,))[0]
    iaf = make_node({"kind": "autoregressive", "direction": "iaf", "transformer": spec}, (2,))[0]
    for node in (coupling, maf, iaf):
        assert node.costs().generation == Cost.ITERATIVE and node.likelihood() == Likelihood.EXACT
    assert coupling.costs().inference == maf.costs().inference == Cost.ONE_PASS
    assert iaf.costs().inference == Cost.D_PASSES


@pytest.mark.parametrize(("field", "code"), [("min_bin_width", "E700"), ("min_bin_height", "E701")])
def test_spline_bins_that_do_not_fit_are_located_errors(field, code):
    from flowspec.core.node import NodeCheck
    from flowspec.core.ports import PortInfo
    from flowspec.core.registry import node_kinds
    from flowspec.diagnostics import Reporter

    spec = {"kind": "coupling", "transformer": {"kind": "rq_spline", "bins": 10, field: 0.1}}
    node = node_kinds()["coupling"].model_validate(spec)
    reporter = Reporter()
    assert (
        run_checks(node, (PortInfo((2,)),), None, NodeCheck(reporter, "n", ("nodes", "n"))) is None
    )
    (diagnostic,) = reporter.diagnostics
    assert diagnostic.code == code and diagnostic.path[-2:] == ("transformer", field)


@pytest.mark.parametrize("length", [1, 2, 8, 15, 16, 17, 32])
def test_short_axis_softmaxes_equal_torch_on_either_side_of_the_switch(length):
    """The fast last-axis (log-)softmax gives torch's values and gradients at every length,
    for contiguous and strided inputs."""
    from flowspec.layers._softmax import log_softmax_last, softmax_last

    raw = torch.randn(
        4, length, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(length)
    )
    for x in (raw.movedim(1, -1), raw.movedim(1, -1).contiguous()):
        for fast, reference in (
            (softmax_last, torch.softmax),
            (log_softmax_last, torch.log_softmax),
        ):
            weights = torch.randn(x.shape, dtype=torch.float64)
            mine = x.detach().requires_grad_()
            theirs = x.detach().requires_grad_()
            ((fast(mine) * weights).sum()).backward()
            ((reference(theirs, -1) * weights).sum()).backward()
            torch.testing.assert_close(fast(x), reference(x, -1), atol=1e-14, rtol=0)
            torch.testing.assert_close(mine.grad, theirs.grad, atol=1e-14, rtol=0)


@pytest.mark.parametrize(
    ("node", "field", "limit"),
    [
        ("{kind: elementwise, transformer: {kind: rq_spline, bound: 1.0e39}}", "bound", "10000"),
        (
            "{kind: elementwise, transformer: {kind: affine, scale_bound: 1.0e39}}",
            "scale_bound",
            "80",
        ),
        (
            "{kind: coupling, transformer: {kind: logistic_mixture, scale_bound: 100.0}}",
            "scale_bound",
            "80",
        ),
        ("{kind: affine_coupling, scale_bound: 90.0}", "scale_bound", "80"),
    ],
)
def test_bounds_float32_cannot_hold_are_located_errors(node, field, limit):
    # Found by fuzzing: a spline bound of 1e39 was a RuntimeError out of compile, and a
    # log-scale bound of 1e39 a model whose log_prob was NaN everywhere.
    import flowspec
    from flowspec.diagnostics import SpecError

    text = f'flowspec: "1"\nname: t\ninputs:\n  x: {{shape: [2]}}\nnodes:\n  m: {node[:-1]}, in: x}}\n  p: {{kind: standard_normal, in: m}}\n'
    with pytest.raises(SpecError) as caught:
        flowspec.check(text)
    (diagnostic,) = [d for d in caught.value.diagnostics if d.severity == "error"]
    assert diagnostic.code == "E104" and diagnostic.node == "m" and diagnostic.location.line == 6
    assert diagnostic.path[-1] == field and f"at most {limit}" in diagnostic.message
