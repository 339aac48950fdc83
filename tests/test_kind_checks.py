"""Checks that keep up with the newer kinds: no spec is accepted and then fails when run, no
model is called exact when its density does not fill the data's domain, and no setting is
accepted and then ignored. Each case is confirmed on the model itself (a Jacobian, a
mass, a solve) where the check rests on a claim about it."""

from __future__ import annotations

import math
import warnings

import pytest
import torch
from oracles import grid_mass_2d, randomize_

import flowspec
from flowspec.core.properties import Likelihood
from flowspec.diagnostics import Diagnostic, SpecError

HEAD = 'flowspec: "1"\nname: checks\n'


def errors_of(text: str) -> list[Diagnostic]:
    with pytest.raises(SpecError) as caught:
        flowspec.check(text)
    return [d for d in caught.value.diagnostics if d.severity == "error"]


def located(diagnostics: list[Diagnostic], code: str) -> Diagnostic:
    """The one diagnostic with ``code``; it has a line, a node and a hint."""
    found = [d for d in diagnostics if d.code == code]
    assert len(found) == 1, [str(d) for d in diagnostics]
    assert found[0].location is not None and found[0].node and found[0].hint
    return found[0]


def located_anywhere(diagnostics: list[Diagnostic], code: str) -> Diagnostic:
    """Like :func:`located`, for diagnostics outside nodes."""
    found = [d for d in diagnostics if d.code == code]
    assert len(found) == 1 and found[0].location is not None, [str(d) for d in diagnostics]
    return found[0]


def warnings_of(text: str) -> list[str]:
    return [w.code for w in flowspec.check(text).warnings]


# --- a direction needed where it is used -------------------------------------------------

SLICE_DECODER = (
    HEAD
    + """inputs: {x: {shape: [4]}}
nodes:
  drop: {kind: slice, keep: 2, in: x, decoder: {kind: flow, layers: [LAYER]}}
  prior: {kind: standard_normal, in: drop}
"""
)

VAE_DECODER = (
    HEAD
    + """inputs: {x: {shape: [4]}}
nodes:
  vae:
    kind: vae
    in: x
    latent: 2
    decoder: {kind: flow, layers: [{kind: affine_coupling}, LAYER]}
  prior: {kind: standard_normal, in: vae}
"""
)


@pytest.mark.parametrize(
    ("spec", "layer", "index"),
    [
        (SLICE_DECODER, "{kind: sylvester}", 0),
        (VAE_DECODER, "{kind: planar}", 1),
    ],
    ids=["sylvester-in-slice", "planar-in-vae"],
)
def test_a_decoder_layer_without_an_inference_direction_is_an_error_at_the_layer(
    spec: str, layer: str, index: int
) -> None:
    """A decoder scores given values: every layer of a flow decoder runs data -> base.
    (Before: W752 only, 'exact', and log_prob raised RuntimeError.)"""
    error = located(errors_of(spec.replace("LAYER", layer)), "E807")
    assert error.path[-3:] == ("decoder", "layers", index)


def test_the_same_layers_serve_where_only_their_own_draws_are_scored() -> None:
    """An encoder proposes values and scores its own draws: planar and Sylvester serve."""
    text = (
        HEAD
        + """inputs: {x: {shape: [4]}}
nodes:
  pad: {kind: augment, extra: 2, in: x, encoder: {kind: flow, layers: [{kind: sylvester}]}}
  prior: {kind: standard_normal, in: pad}
"""
    )
    model = flowspec.compile(text)
    assert torch.isfinite(model.log_prob(torch.randn(3, 4))).all()


def test_a_planar_decoder_with_root_finding_is_accepted_and_scores_data() -> None:
    spec = SLICE_DECODER.replace("LAYER", "{kind: planar, inverse: {method: bisection}}")
    model = flowspec.compile(spec)
    assert torch.isfinite(model.log_prob(torch.randn(3, 4))).all()


# --- a stochastic network inside a map that must be deterministic -----------------------


@pytest.mark.parametrize(
    "node",
    [
        "{kind: cnf, in: x, net: {activation: tanh, dropout: 0.3}}",
        "{kind: residual, in: x, net: {activation: elu, dropout: 0.5}}",
    ],
    ids=["cnf", "residual"],
)
def test_dropout_in_a_residual_branch_or_a_vector_field_is_an_error(node: str) -> None:
    text = HEAD + f"inputs: {{x: {{shape: [2]}}}}\nnodes:\n  f: {node}\n"
    text += "  prior: {kind: standard_normal, in: f}\n"
    error = located(errors_of(text), "E760")
    assert error.path[-2:] == ("net", "dropout")


# --- supports the next density does not fill --------------------------------------------

SORTED = (
    HEAD
    + """inputs: {x: {shape: [N]}}
nodes:
  order: {kind: sort, in: x}
EXTRA  prior: {kind: standard_normal, in: LAST}
"""
)


def sorted_spec(n: int, exact: bool) -> str:
    extra = "  gaps: {kind: ordered_to_real, in: order}\n" if exact else ""
    return (
        SORTED.replace("N", str(n))
        .replace("EXTRA", extra)
        .replace("LAST", "gaps" if exact else "order")
    )


def test_sorted_values_into_a_gaussian_are_a_lower_bound_that_integrates_to_one_over_n_factorial():
    """A Gaussian gives 1/N! of its mass to sorted vectors: on Gaussian draws x (of any
    order) the model's density is N(x)/N!, so E[p_model(x)/N(x)] = 1/720 for N = 6."""
    checked = flowspec.check(sorted_spec(6, exact=False))
    assert [w.code for w in checked.warnings] == ["W501"]
    assert "ordered_to_real" in checked.warnings[0].hint
    assert checked.graph.likelihood is Likelihood.BOUND
    model = flowspec.compile(sorted_spec(6, exact=False)).double()
    x = torch.randn(4000, 6, dtype=torch.float64)
    gaussian = torch.distributions.Normal(0.0, 1.0).log_prob(x).sum(1)
    with torch.no_grad():
        mass = (model.log_prob(x) - gaussian).exp().mean().item()
    assert mass == pytest.approx(1 / math.factorial(6), rel=1e-9)


def test_ordered_to_real_after_sort_is_exact_and_integrates_to_one() -> None:
    bound = flowspec.compile(sorted_spec(2, exact=False)).double()
    exact = flowspec.compile(sorted_spec(2, exact=True)).double()
    assert (
        exact.likelihood == Likelihood.EXACT.label
        and not flowspec.check(sorted_spec(2, exact=True)).warnings
    )
    assert grid_mass_2d(bound.log_prob) == pytest.approx(0.5, abs=0.01)
    assert grid_mass_2d(exact.log_prob) == pytest.approx(1.0, abs=0.02)
    with torch.no_grad():
        x, log_px = exact.sample_and_log_prob(64)
        torch.testing.assert_close(exact.log_prob(x), log_px)


def test_ordered_to_real_needs_the_sorts_layout() -> None:
    text = sorted_spec(4, exact=True).replace(
        "  gaps: {kind: ordered_to_real, in: order}",
        "  turned: {kind: reverse, in: order}\n  gaps: {kind: ordered_to_real, in: turned}",
    )
    located(errors_of(text), "E813")


def test_sorted_values_moved_by_learned_layers_still_warn() -> None:
    """The bundled spec's shape without ordered_to_real: sort, flatten, couplings."""
    text = (
        HEAD
        + """inputs: {x: {shape: [3, 2]}}
nodes:
  order: {kind: sort, in: x}
  flat: {kind: flatten, in: order}
  body: {kind: affine_coupling, in: flat}
  scaled: {kind: elementwise, fn: scale_shift, scale: 2.0, in: body}
  prior: {kind: standard_normal, in: scaled}
"""
    )
    assert warnings_of(text) == ["W501"]
    assert flowspec.check(text).graph.likelihood is Likelihood.BOUND


@pytest.mark.parametrize("kind", ["radial", "planar, inverse: {method: newton}", "residual"])
def test_bounded_values_through_a_determinant_or_residual_flow_still_warn(kind: str) -> None:
    """These kinds map the real line onto itself: bounded values stay a part of it."""
    text = (
        HEAD
        + f"""inputs: {{x: {{shape: [2], low: 0, high: 1}}}}
nodes:
  f: {{kind: {kind}, in: x}}
  prior: {{kind: standard_normal, in: f}}
"""
    )
    assert "W501" in warnings_of(text)
    assert flowspec.check(text).graph.likelihood is Likelihood.BOUND


def test_concat_of_values_with_different_levels_is_an_error() -> None:
    """Before: the flags were taken as 4-level, and the model sampled flag values 2 and 3."""
    text = (
        HEAD
        + """inputs:
  a: {shape: [4], levels: 4}
  flags: {shape: [2], levels: 2}
nodes:
  both: {kind: concat, in: [a, flags]}
  flow: {kind: discrete_flow, in: both}
  prior: {kind: categorical, in: flow}
"""
    )
    located(errors_of(text), "E461")


def test_integer_flows_on_values_with_levels_are_a_lower_bound_by_enumeration() -> None:
    """A pmf over all integers gives mass to integers no 3-level data maps to: summed over
    the 9 values of the data's domain it is below one (W501, a lower bound)."""
    text = (
        HEAD
        + """inputs: {x: {shape: [2], levels: 3}}
nodes:
  flow: {kind: integer_discrete_flow, in: x, net: {hidden: [8]}}
  prior: {kind: discretized_logistic, in: flow}
"""
    )
    checked = flowspec.check(text)
    assert [w.code for w in checked.warnings] == ["W501"]
    assert checked.graph.likelihood is Likelihood.BOUND
    torch.manual_seed(0)
    model = checked.build_model().double()
    randomize_(model, scale=0.5)
    domain = torch.cartesian_prod(*[torch.arange(3.0, dtype=torch.float64)] * 2)
    with torch.no_grad():
        assert model.log_prob(domain).exp().sum().item() < 0.99


def test_max_pool_of_bounded_values_warns_like_the_other_decoders() -> None:
    """Values in (0, 1) cap every gap below 1, but the Gaussian decoder of the log-gaps
    draws any size: a large share of sampled pixels falls outside (0, 1)."""
    text = (
        HEAD
        + """inputs: {x: {shape: [1, 4, 4], low: 0, high: 1, bounds: open}}
nodes:
  pool: {kind: max_pool, in: x}
  flat: {kind: flatten, in: pool}
  real: {kind: elementwise, fn: logit, in: flat}
  prior: {kind: standard_normal, in: real}
"""
    )
    assert warnings_of(text) == ["W800"]
    torch.manual_seed(0)
    pixels = flowspec.compile(text).sample(200)
    outside = ((pixels <= 0) | (pixels >= 1)).float().mean().item()
    assert outside > 0.2
    logit_first = (
        HEAD
        + """inputs: {x: {shape: [1, 4, 4], low: 0, high: 1, bounds: open}}
nodes:
  real: {kind: elementwise, fn: logit, in: x}
  pool: {kind: max_pool, in: real}
  flat: {kind: flatten, in: pool}
  prior: {kind: standard_normal, in: flat}
"""
    )
    assert warnings_of(logit_first) == []


# --- settings accepted and ignored --------------------------------------------------------


@pytest.mark.parametrize(
    ("node", "field"),
    [
        ("{kind: sylvester, variant: orthogonal, reflections: 3}", "reflections"),
        ("{kind: sylvester, variant: householder, columns: 2}", "columns"),
        ("{kind: residual, logdet: series, roulette_p: 0.3}", "roulette_p"),
        ("{kind: residual, logdet: exact, trace_samples: 4}", "trace_samples"),
        (
            "{kind: cnf, net: {activation: tanh}, solver: {method: dopri5, step_size: 0.1}}",
            "step_size",
        ),
        (
            "{kind: cnf, net: {activation: tanh}, solver: {method: rk4, step_size: 0.5, rtol: 1.0e-3}}",
            "rtol",
        ),
        (
            "{kind: cnf, net: {activation: tanh}, solver: {method: rk4, step_size: 0.5, first_step: 1.0}}",
            "first_step",
        ),
        ("{kind: autoregressive, conditioner: {kind: made, hidden: [8], seed: 3}}", "seed"),
        ("{kind: affine_coupling, net: {hidden: [], activation: tanh}}", "activation"),
        (
            "{kind: slice, keep: 2, decoder: {kind: flow, layers: [{kind: radial}], repeat: 0}}",
            "layers",
        ),
    ],
)
def test_a_setting_the_other_settings_ignore_is_a_warning(node: str, field: str) -> None:
    text = HEAD + f"inputs: {{x: {{shape: [4]}}}}\nnodes:\n  f: {node[:-1]}, in: x}}\n"
    text += "  prior: {kind: standard_normal, in: f}\n"
    ignored = [w for w in flowspec.check(text).warnings if w.code == "W430"]
    assert len(ignored) == 1 and ignored[0].path[-1] == field, [str(w) for w in ignored]


def test_a_base_distributions_net_without_a_context_is_a_warning() -> None:
    text = HEAD + "inputs: {x: {shape: [3], levels: 4}}\nnodes:\n"
    text += "  prior: {kind: categorical, in: x, net: {hidden: [16]}}\n"
    assert warnings_of(text) == ["W430"]


def test_dopri5_with_a_step_size_solves_without_torchdiffeqs_warning() -> None:
    text = HEAD + "inputs: {x: {shape: [2]}}\nnodes:\n"
    text += (
        "  f: {kind: cnf, in: x, net: {hidden: [4], activation: tanh}, solver: {step_size: 0.1}}\n"
    )
    text += "  prior: {kind: standard_normal, in: f}\n"
    model = flowspec.compile(text)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.log_prob(torch.randn(2, 2))


def test_a_one_bin_spline_is_an_error_since_it_is_the_identity() -> None:
    from flowspec.layers.transformers.rq_spline import RQSplineTransformer

    spline = RQSplineTransformer(1, 3.0, 1e-3, 1e-3, 1e-3).double()
    x = 2 * torch.randn(64, 4, dtype=torch.float64)
    z, _ = spline(x, 5 * torch.randn(64, 4, 2, dtype=torch.float64))
    torch.testing.assert_close(z, x)  # whatever its parameters
    text = HEAD + "inputs: {x: {shape: [4]}}\nnodes:\n"
    text += "  f: {kind: coupling, in: x, transformer: {kind: rq_spline, bins: 1}}\n"
    text += "  prior: {kind: standard_normal, in: f}\n"
    assert located(errors_of(text), "E702").path[-2:] == ("transformer", "bins")


def test_a_made_narrower_than_d_minus_one_warns_and_its_later_features_condition_nothing():
    """hidden: [4] on 32 features: only the first 4 features reach the parameters of later
    ones (the Jacobian of the MAF layer below the diagonal); [31] reaches them all."""
    made = {"kind": "made", "hidden": [4], "activation": "tanh"}
    spec = {"kind": "autoregressive", "conditioner": made}
    text = HEAD + "inputs: {x: {shape: [32]}}\nnodes:\n"
    text += "  f: {kind: autoregressive, in: x, conditioner: {kind: made, hidden: [4]}}\n"
    text += "  prior: {kind: standard_normal, in: f}\n"
    assert warnings_of(text) == ["W603"]
    assert warnings_of(text.replace("hidden: [4]", "hidden: [31]")) == []
    from oracles import make_node

    for width, influencing in ((4, 4), (31, 31)):
        made["hidden"] = [width]
        _, layer, _ = make_node(spec, (32,))
        randomize_(layer, scale=1.0)
        x = torch.randn(32, dtype=torch.float64)
        jacobian = torch.autograd.functional.jacobian(lambda v, f=layer: f(v[None])[0][0], x)
        below = jacobian.tril(-1).abs().sum(0)  # how much each feature moves later ones
        assert (below[:influencing] > 0).all() and (below[influencing:] == 0).all()


# --- training settings --------------------------------------------------------------------


def test_an_unknown_data_set_in_the_spec_is_located() -> None:
    text = HEAD + "train: {data: mnist}\ninputs: {x: {shape: [2]}}\n"
    text += "nodes:\n  prior: {kind: standard_normal, in: x}\n"
    error = located_anywhere(errors_of(text), "E901")
    assert error.path == ("train", "data") and error.location.line == 3


def test_a_warmup_longer_than_the_run_is_said_at_validation_and_in_training() -> None:
    text = HEAD + "train: {steps: 500, warmup: 5000}\ninputs: {x: {shape: [2]}}\n"
    text += "nodes:\n  prior: {kind: diagonal_normal, in: x}\n"
    warning = flowspec.check(text).warnings[0]
    assert warning.code == "W904" and "0.0001" in warning.message
    from flowspec.spec.training import TrainSettings
    from flowspec.train.data import load_dataset
    from flowspec.train.loop import fit

    lines: list[str] = []
    data = load_dataset("moons", n_train=64, n_val=16, n_test=16)
    settings = TrainSettings(steps=4, warmup=8, batch_size=32)
    fit(flowspec.compile(text), data, settings, progress=False, log=lines.append)
    assert any("warmup: 8" in line and "0.0005" in line for line in lines), lines
