"""Figures are named by what ``log_prob`` does: a bound whose ``log_prob`` draws noise
(dequantization, augment, a VAE) is a -ELBO with its draws and an IWBO; a bound that draws
nothing (a pmf over all integers fed data with levels, W501) is a deterministic NLL upper
bound, with no draws count and no IWBO, in ``eval``, ``eval --json``, ``eval --by-node``
and the ``train`` summary alike."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from train_specs import DIGITS
from typer.testing import CliRunner

import flowspec
from flowspec.cli import app
from flowspec.core.properties import Likelihood
from flowspec.graph.verdict import verdict

QUICK = ["--no-progress", "--no-tensorboard", "--batch-size", "64", "--val-every", "2"]

#: Integer discrete flow into a pmf over all integers: a bound only through W501.
IDF = """\
flowspec: "1"
name: tiny-idf
accept:
  W501: "a pmf over all integers"
inputs:
  x: {shape: [64], levels: 17}
nodes:
  flow: {kind: integer_discrete_flow, in: x, net: {hidden: [8]}}
  prior: {kind: discretized_logistic, in: flow}
"""

RESIDUAL = """\
flowspec: "1"
name: residual
inputs:
  x: {shape: [2]}
nodes:
  block: {kind: residual, in: x, logdet: LOGDET}
  prior: {kind: standard_normal, in: block}
"""


def test_the_graph_says_whether_log_prob_draws_noise_from_the_kinds_facts() -> None:
    idf = flowspec.check(IDF).graph
    assert idf.likelihood is Likelihood.BOUND and not idf.draws_noise
    dequantized = flowspec.check(DIGITS).graph
    assert dequantized.likelihood is Likelihood.BOUND and dequantized.draws_noise
    noisy = {
        logdet: flowspec.check(RESIDUAL.replace("LOGDET", logdet)).graph.draws_noise
        for logdet in ("exact", "roulette", "series")
    }
    assert noisy == {"exact": False, "roulette": True, "series": True}


def test_a_bound_that_draws_nothing_is_a_deterministic_nll_upper_bound() -> None:
    said = verdict(flowspec.check(IDF).graph)
    assert said.figure.name == "NLL upper bound"
    assert said.figure.meaning.startswith("deterministic; W501: ")
    assert verdict(flowspec.check(DIGITS).graph).figure.name == "-ELBO"
    torch.manual_seed(0)
    model = flowspec.compile(IDF).eval()
    x = torch.randint(0, 17, (5, 64)).float()
    model.initialize(x)  # its base over all integers starts at the data's marginal
    assert not model.draws_noise and model.FIGURE[0] == "NLL upper bound"
    # The importance-weighted bound of a model that draws nothing is log_prob itself.
    assert torch.equal(model.iwbo(x, k=4), model.log_prob(x))


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("labels")
    paths = {}
    for name, text in (("idf", IDF), ("dequantized", DIGITS)):
        spec = folder / f"{name}.yaml"
        spec.write_text(text)
        out = folder / f"{name}.safetensors"
        args = ["train", str(spec), "-d", "digits", "--steps", "4", "-o", str(out), *QUICK]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        paths[name] = str(out)
        paths[f"{name}-train"] = result.stdout
    return paths


def test_train_names_a_deterministic_bound_without_draws(checkpoints) -> None:
    printed = checkpoints["idf-train"]
    assert "test NLL upper bound: " in printed and "ELBO" not in printed
    assert "draw" not in printed and "IWBO" not in printed and "--k" not in printed
    summary = json.loads(Path(checkpoints["idf"]).with_suffix(".summary.json").read_text())
    assert summary["figure_name"] == "NLL upper bound"
    assert summary["figure"].startswith("deterministic; W501") and "draw" not in summary["figure"]
    noisy = json.loads(Path(checkpoints["dequantized"]).with_suffix(".summary.json").read_text())
    assert noisy["figure_name"] == "-ELBO" and "1 draw per example" in noisy["figure"]


def test_eval_gives_no_iwbo_and_no_draws_for_a_deterministic_bound(checkpoints) -> None:
    runner = CliRunner()
    text = runner.invoke(app, ["eval", checkpoints["idf"], "--k", "8", "--by-node"]).stdout
    assert "NLL upper bound: " in text and "(deterministic; W501: " in text
    assert "IWBO" not in text and "ELBO" not in text and "draw" not in text
    report = json.loads(
        runner.invoke(app, ["eval", checkpoints["idf"], "--k", "8", "--json", "--by-node"]).stdout
    )
    assert report["figure"] == "NLL upper bound" and report["draws_noise"] is False
    assert report["draws"] is None and report["seed"] is None
    assert report["k"] is None and report["iwbo_nll"] is None
    assert "draws" not in report["by_node"]
    # Scoring draws nothing: another seed and more draws give the same number.
    again = runner.invoke(
        app, ["eval", checkpoints["idf"], "--json", "--draws", "3", "--seed", "7"]
    ).stdout
    assert json.loads(again)["nll"] == report["nll"]


def test_eval_keeps_the_draws_and_the_iwbo_of_a_bound_that_draws(checkpoints) -> None:
    runner = CliRunner()
    text = runner.invoke(app, ["eval", checkpoints["dequantized"], "--k", "8", "--by-node"]).stdout
    assert "-ELBO: " in text and "-IWBO, k=8: " in text
    assert "1 draw per example, evaluation seed 0" in text.split("where the bits go")[1]
    report = json.loads(
        runner.invoke(
            app, ["eval", checkpoints["dequantized"], "--k", "8", "--json", "--by-node"]
        ).stdout
    )
    assert report["draws_noise"] is True and report["draws"] == 1 and report["k"] == 8
    assert report["by_node"]["draws"] == 1 and report["by_node"]["seed"] == 0
