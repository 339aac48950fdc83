"""The model-level likelihood class (the weakest of its nodes) and direction costs: in the
generated module (``likelihood``, ``exact``, ``LOG_PROB_COST``, ``SAMPLE_COST``), in
``flowspec validate`` (text and JSON, naming the nodes responsible) and ``flowspec nodes``."""

import json

import pytest
from bundled import SPECS
from typer.testing import CliRunner

import flowspec
from flowspec.cli import app
from flowspec.core.properties import Likelihood
from flowspec.graph.bookkeeping import cost_sentences, likelihood_sentence

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
    assert model.likelihood == "lower bound" and not model.exact
    assert (model.LOG_PROB_COST, model.SAMPLE_COST) == ("iterative", "iterative")
    sentence = likelihood_sentence(
        [
            ("pad", "lower bound"),
            ("res", "unbiased estimate"),
            ("flow", "exact to a tolerance"),
            ("prior", "exact"),
        ]
    )
    assert sentence == (
        "log_prob is a lower bound (ELBO): stochastic nodes: pad; also "
        "res (unbiased estimate), flow (exact to a tolerance)"
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
    assert checked.graph.likelihood is Likelihood.BOUND and not checked.graph.exact
    assert checked.graph.unnormalized == ["prior"]
    model = flowspec.compile(UNNORMALIZED).double()
    assert not model.exact and model.likelihood == Likelihood.BOUND.label
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
    assert likelihood_sentence([("dequant", "lower bound"), ("prior", "exact")], ["prior"]) == (
        "log_prob is a lower bound (ELBO): stochastic nodes: dequant; also the density of "
        "prior gets values that do not fill its support (W501), so the model's total mass "
        "is below 1"
    )
