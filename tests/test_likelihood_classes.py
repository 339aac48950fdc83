"""The model-level likelihood class (the weakest of its nodes) and direction costs: in the
generated module (``likelihood``, ``verdict``, ``LOG_PROB_COST``, ``SAMPLE_COST``), in
``flowspec validate`` (text and JSON, naming the nodes responsible) and ``flowspec nodes``;
one warning per cause, one verdict everywhere, and warnings a spec accepts."""

import json

import pytest
import torch
from bundled import SPECS
from typer.testing import CliRunner

import flowspec
from flowspec.cli import app
from flowspec.core.properties import Likelihood
from flowspec.diagnostics import SpecError
from flowspec.emit.runtime import UnavailableError
from flowspec.graph.bookkeeping import cost_sentences
from flowspec.graph.verdict import Verdict

runner = CliRunner()

MIXED = """flowspec: "1"
name: mixed
inputs:
  x: {shape: [2]}
nodes:
  pad: {kind: augment, extra: 2, in: x}
  res: {kind: residual, logdet: roulette, in: pad}
  flow: {kind: cnf, trace: exact, in: res}
  prior: {kind: standard_normal, in: flow}
"""


def test_the_weakest_node_decides_and_the_others_are_named():
    model = flowspec.compile(MIXED)
    assert model.likelihood == "lower bound"
    assert (model.LOG_PROB_COST, model.SAMPLE_COST) == ("iterative", "iterative")
    assert model.verdict == (
        "log_prob is a lower bound (ELBO): stochastic nodes: pad; also "
        "res (unbiased estimate), flow (exact to a tolerance; dopri5, rtol 1e-05, atol 1e-05)"
    )


def test_classes_are_ordered_from_exact_to_biased():
    assert sorted(Likelihood, key=int) == [
        Likelihood.EXACT,
        Likelihood.TOLERANCE,
        Likelihood.ESTIMATE,
        Likelihood.BOUND,
        Likelihood.BIASED,
    ]


def test_cost_sentences_name_the_slow_and_unavailable_nodes():
    lines = cost_sentences(
        [("a", "one pass"), ("p", "not available")], [("a", "one pass"), ("r", "iterative")]
    )
    assert (
        lines[0].startswith("log_prob of data: not available") and "p (not available)" in lines[0]
    )
    assert lines[1] == "sample: iterative; because of r (iterative)"


def test_validate_prints_costs_and_class(tmp_path):
    result = runner.invoke(app, ["validate", str(SPECS / "resflow_moons.yaml")])
    assert result.exit_code == 0, result.output
    assert "log_prob: one pass" in result.output
    assert "sample: iterative; because of body_0_0 (iterative)" in result.output
    assert "log_prob is an unbiased stochastic estimate" in result.output
    result = runner.invoke(app, ["validate", "--json", str(SPECS / "ffjord_moons.yaml")])
    book = json.loads(result.output)["bookkeeping"]
    assert (book["likelihood"], book["log_prob_cost"], book["sample_cost"]) == (
        "unbiased estimate",
        "iterative",
        "iterative",
    )
    flow = next(row for row in book["rows"] if row["id"] == "flow")
    assert flow["likelihood"] == "unbiased estimate"


def test_validate_reports_log_prob_unavailable_with_the_node(tmp_path):
    spec = tmp_path / "planar.yaml"
    spec.write_text(MIXED.replace("{kind: augment, extra: 2, in: x}", "{kind: planar, in: x}"))
    result = runner.invoke(app, ["validate", str(spec)])
    assert result.exit_code == 0
    assert "W752" in result.output and "node 'pad'" in result.output
    assert (
        "log_prob of data: not available" in result.output
        and "pad (not available)" in result.output
    )


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (
            "residual",
            [
                "unbiased estimate (default settings)",
                "log_prob cost one pass; D passes with logdet exact",
                "sample cost iterative",
            ],
        ),
        ("cnf", ["unbiased estimate (default settings)", "log_prob cost iterative"]),
        ("planar", ["log_prob cost not available", "sample cost one pass"]),
    ],
)
def test_nodes_describes_class_and_costs(kind, expected):
    result = runner.invoke(app, ["nodes", kind])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    for phrase in expected:
        assert phrase in text


def test_train_refuses_a_model_without_log_prob_of_data(tmp_path):
    spec = tmp_path / "planar.yaml"
    spec.write_text(MIXED.replace("{kind: augment, extra: 2, in: x}", "{kind: planar, in: x}"))
    result = runner.invoke(
        app,
        [
            "train",
            str(spec),
            "--data",
            "moons",
            "--steps",
            "1",
            "-o",
            str(tmp_path / "p.safetensors"),
        ],
    )
    assert result.exit_code == 1
    assert "'pad' have no inference direction" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "p.safetensors").exists()


UNNORMALIZED = """
flowspec: "1"
name: folded
inputs:
  x: {shape: [2]}
nodes:
  fold: {kind: abs, in: x}
  prior: {kind: standard_normal, in: fold}
"""


def test_a_density_on_values_that_do_not_fill_its_support_is_never_called_exact(tmp_path):
    """abs sends x to the positive quadrant, where a standard normal holds 1/4 of its mass:
    the model integrates to 1/4 (checked on a grid), so its log_prob is a lower bound on
    the log-likelihood of the normalized model, and every report says so (W501)."""
    from oracles import grid_mass_2d

    checked = flowspec.check(UNNORMALIZED)
    assert [w.code for w in checked.warnings] == ["W501"]
    assert checked.graph.likelihood is Likelihood.BOUND
    assert checked.graph.unnormalized == ["prior"]
    model = flowspec.compile(UNNORMALIZED).double()
    assert model.likelihood == Likelihood.BOUND.label
    assert grid_mass_2d(model.log_prob) == pytest.approx(0.25, abs=0.01)
    spec = tmp_path / "folded.yaml"
    spec.write_text(UNNORMALIZED)
    result = CliRunner().invoke(app, ["validate", str(spec)])
    assert (
        "log_prob is a lower bound: the density of prior gets values that do not fill "
        "its support (W501)" in " ".join(result.output.split())
    )
    assert "exact log-likelihood" not in result.output
    # with a stochastic node too, both reasons are named
    both = Verdict(
        Likelihood.BOUND,
        inexact=(("dequant", Likelihood.BOUND, None),),
        unnormalized=(("prior", "W501"),),
    )
    assert both.sentence == (
        "log_prob is a lower bound (ELBO): stochastic nodes: dequant; also the density of "
        "prior gets values that do not fill its support (W501), so the model's total mass "
        "is below 1"
    )


# --- one verdict, the same everywhere ----------------------------------------------------

PLANAR = """flowspec: "1"
name: planar-only
inputs:
  x: {shape: [2]}
nodes:
  p1: {kind: planar, in: x}
  prior: {kind: standard_normal, in: p1}
"""


def test_a_planar_flow_without_inverse_is_not_called_exact(tmp_path):
    """log_prob of data is unavailable; what is exact is the density of its own samples."""
    spec = tmp_path / "planar.yaml"
    spec.write_text(PLANAR)
    result = runner.invoke(app, ["validate", str(spec)], env={"COLUMNS": "300"})
    assert result.exit_code == 0, result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("log_prob of data is not available: p1 have no inference direction")
    assert "exact log-density of the model's own samples" in last
    assert "log_prob is the exact log-likelihood" not in result.output
    assert flowspec.compile(PLANAR).verdict == last
    drawing = tmp_path / "planar.gv"
    assert runner.invoke(app, ["render", str(spec), "-o", str(drawing)]).exit_code == 0
    assert "log_prob of data: not available" in drawing.read_text()


VAE_PLANAR = """flowspec: "1"
name: vae-planar
inputs:
  x: {shape: [6], levels: 2}
nodes:
  vae:
    kind: vae
    latent: 2
    in: x
    encoder:
      kind: flow
      net: {hidden: [8]}
      layers: [{kind: planar}, {kind: planar}]
      repeat: 4
    decoder: {kind: bernoulli, net: {hidden: [8]}}
  prior: {kind: standard_normal, in: vae}
"""


def test_no_inference_warning_where_layers_run_generatively_and_one_where_they_do_not():
    """Planar layers in a VAE encoder only run along generation: no W752 (it was printed
    once per layer and repetition: 8 times). As a slice's decoder, which scores given
    values, they need inference: an error at the layer (E807), with the remedy."""
    checked = flowspec.check(VAE_PLANAR)
    assert checked.warnings == [] and checked.graph.unavailable_log_prob() == {}
    model = flowspec.compile(VAE_PLANAR)
    assert model.log_prob(torch.randint(0, 2, (4, 6)).float()).shape == (4,)
    decoder = """flowspec: "1"
name: slice-planar
inputs:
  x: {shape: [4]}
nodes:
  drop:
    kind: slice
    keep: 2
    in: x
    decoder: {kind: flow, net: {hidden: [8]}, layers: [{kind: planar}], repeat: 3}
  prior: {kind: standard_normal, in: drop}
"""
    with pytest.raises(SpecError) as raised:
        flowspec.check(decoder)
    (error,) = [d for d in raised.value.diagnostics if d.severity == "error"]
    assert error.code == "E807" and error.node == "drop" and "inverse" in error.hint


def test_sylvester_is_not_told_to_set_an_inverse_it_does_not_have(tmp_path):
    spec = tmp_path / "sylvester.yaml"
    spec.write_text(PLANAR.replace("{kind: planar, in: x}", "{kind: sylvester, in: x}"))
    (warning,) = flowspec.check(spec).warnings
    assert warning.code == "W752" and "no inverse in flowspec" in warning.hint
    assert "inverse:" not in warning.hint.split("or use planar")[0]
    model = flowspec.compile(spec)
    with pytest.raises(UnavailableError) as raised:
        model.log_prob(torch.randn(2, 2))
    assert "no inverse in flowspec" in str(raised.value)
    result = runner.invoke(
        app, ["train", str(spec), "--data", "moons", "--steps", "1", "-o", str(tmp_path / "s")]
    )
    assert result.exit_code == 1 and "no inverse in flowspec" in " ".join(result.output.split())


GLOW_LIKE = """flowspec: "1"
name: logit-alpha
inputs:
  x: {shape: [6], levels: 17}
nodes:
  dequant: {kind: uniform_dequantization, in: x}
  to_real: {kind: elementwise, fn: logit, alpha: 0.05, in: dequant}
  norm: {kind: actnorm, in: to_real}
  parts: {kind: split, sizes: [2, 2, 2], in: norm}
  early: {kind: standard_normal, in: parts.out0}
  middle: {kind: diagonal_normal, in: parts.out1}
  prior: {kind: standard_normal, in: parts.out2}
"""


def test_one_warning_per_cause_naming_every_density_it_reaches():
    """RealNVP's logit with alpha before a multi-scale flow: W501 was printed once per
    factored-out prior (three times here); it is one cause, named in one warning."""
    checked = flowspec.check(GLOW_LIKE)
    (warning,) = checked.warnings
    assert warning.code == "W501" and warning.node == "early"
    assert "node 'to_real'" in warning.message and "middle, prior" in warning.message
    assert checked.graph.unnormalized == ["early", "middle", "prior"]
    # two causes, two warnings
    two = GLOW_LIKE.replace("  x: {", "  y: {shape: [2]}\n  x: {") + (
        "  squash: {kind: elementwise, fn: sigmoid, in: y}\n"
        "  other: {kind: standard_normal, in: squash}\n"
    )
    warnings = flowspec.check(two).warnings
    assert [w.node for w in warnings] == ["early", "other"]
    assert "from node 'squash'" in warnings[1].message


W800_ONLY = """flowspec: "1"
name: bounded-decoder
inputs:
  x: {shape: [3], low: 0, high: 1, bounds: open}
nodes:
  drop: {kind: slice, keep: 1, in: x, decoder: {net: {hidden: [8]}}}
  real: {kind: elementwise, fn: logit, in: drop}
  prior: {kind: standard_normal, in: real}
"""


def test_a_decoder_of_the_real_line_on_bounded_values_makes_a_lower_bound():
    """W800 is W501's condition for conditional densities: the model's mass is below 1
    (a spec with only W800 was called exact). Checked on a grid over the data's domain
    (0, 1)^3: the fresh decoder is N(0, 1) per dropped value, which puts (Phi(1) -
    Phi(0))^2 = 0.1165 of its mass in (0, 1)^2, so that is the model's total mass."""
    checked = flowspec.check(W800_ONLY)
    assert [w.code for w in checked.warnings] == ["W800"]
    assert checked.graph.likelihood is Likelihood.BOUND
    model = flowspec.compile(W800_ONLY).double()
    assert model.likelihood == "lower bound" and "(W800)" in model.verdict
    axis = (torch.arange(50, dtype=torch.float64) + 0.5) / 50
    grid = torch.cartesian_prod(axis, axis, axis)
    with torch.no_grad():
        mass = float(model.log_prob(grid).exp().mean())
    assert mass == pytest.approx(0.1165, abs=0.005)


def test_validate_json_has_one_verdict(tmp_path):
    result = runner.invoke(app, ["validate", "--json", str(SPECS / "resflow_moons.yaml")])
    book = json.loads(result.output)["bookkeeping"]
    assert "exact" not in book and "bound_nodes" not in book
    assert all("exact" not in row for row in book["rows"])
    assert book["likelihood"] == "unbiased estimate"
    assert book["verdict"].startswith("log_prob is an unbiased stochastic estimate")


def test_every_output_prints_the_same_verdict(tmp_path):
    spec = tmp_path / "glow.yaml"
    spec.write_text(GLOW_LIKE)
    said = flowspec.compile(GLOW_LIKE).verdict
    assert said.startswith("log_prob is a lower bound (ELBO): stochastic nodes: dequant")
    wide = {"COLUMNS": "400"}
    outputs = {
        "validate": runner.invoke(app, ["validate", str(spec)], env=wide).output,
        "compile": runner.invoke(app, ["compile", str(spec), "-o", str(tmp_path / "m.py")]).output,
        "json": json.loads(runner.invoke(app, ["validate", "--json", str(spec)]).output)[
            "bookkeeping"
        ]["verdict"],
    }
    for name, text in outputs.items():
        assert said in " ".join(text.split()), name


ACCEPTING = GLOW_LIKE.replace(
    "name: logit-alpha\n",
    'name: logit-alpha\naccept:\n  W501: "RealNVP\'s logit with alpha; the figures are bounds"\n',
)


def test_a_spec_can_accept_a_warning_and_the_verdict_still_holds(tmp_path):
    checked = flowspec.check(ACCEPTING)
    assert checked.warnings == [] and [w.code for w in checked.accepted] == ["W501"]
    model = flowspec.compile(ACCEPTING)
    assert model.likelihood == "lower bound" and "(W501, accepted)" in model.verdict
    spec = tmp_path / "accepting.yaml"
    spec.write_text(ACCEPTING)
    result = runner.invoke(app, ["validate", str(spec)], env={"COLUMNS": "300"})
    assert result.exit_code == 0 and "warning[" not in result.output
    assert "accepted W501 (node 'early'): RealNVP's logit with alpha" in result.output
    report = json.loads(runner.invoke(app, ["validate", "--json", str(spec)]).output)
    assert report["warnings"] == [] and report["accepted"][0]["reason"].startswith("RealNVP")


def test_only_warnings_can_be_accepted_and_stale_acceptances_are_reported():
    with pytest.raises(flowspec.SpecError) as raised:
        flowspec.check(ACCEPTING.replace("W501:", "E501:"))
    (error,) = [d for d in raised.value.diagnostics if d.severity == "error"]
    assert error.code == "E114" and error.path == ("accept", "E501")
    assert error.location is not None and error.location.line == 4 and "W501" in error.hint
    stale = ACCEPTING.replace("W501:", "W752:")
    codes = [w.code for w in flowspec.check(stale).warnings]
    assert sorted(codes) == ["W115", "W501"]


def test_an_estimate_has_no_importance_weighted_bound():
    """The log-mean-exp of k draws of an unbiased estimate of log p(x) overestimates it: an
    'IWBO' of such a model would be a figure labelled a bound that is none."""
    model = flowspec.compile(SPECS / "resflow_moons.yaml")
    model.log_prob(torch.randn(64, 2))  # actnorm's first batch
    with pytest.raises(ValueError, match="'unbiased estimate'.*no bound"):
        model.iwbo(torch.randn(4, 2), k=8)
