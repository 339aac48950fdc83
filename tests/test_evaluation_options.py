"""Scoring uses the exact or low-variance option of estimated log-dets (issue 7)."""

import torch
from bundled import SPECS
from oracles import randomize_
from typer.testing import CliRunner

import flowspec
from flowspec.cli import app
from flowspec.train.evaluate import for_evaluation


def test_estimators_are_swapped_for_the_exact_options_with_the_same_weights():
    model = flowspec.compile(SPECS / "resflow_moons.yaml").double()
    model.log_prob(torch.randn(64, 2, dtype=torch.float64))  # actnorm's first batch
    randomize_(model, scale=0.05)
    assert model.likelihood == "unbiased estimate"
    scored, changed = for_evaluation(model)
    assert changed and all("logdet: exact" in line for line in changed)
    assert scored.likelihood == "exact"
    x = torch.randn(32, 2, dtype=torch.float64)
    with torch.no_grad():
        exact = scored.log_prob(x)
        torch.testing.assert_close(scored.log_prob(x), exact)  # deterministic
        estimates = torch.stack([model.log_prob(x) for _ in range(300)])
    # The roulette estimator is unbiased: its mean approaches the exact value.
    error = (estimates.mean(0) - exact).abs().mean()
    assert error < 4 * estimates.std(0).mean() / 300**0.5 + 1e-3


def test_a_model_without_estimators_is_scored_as_it_is():
    model = flowspec.compile(SPECS / "realnvp_moons.yaml")
    assert for_evaluation(model) == (model, [])


def test_eval_says_which_options_it_used(tmp_path):
    runner = CliRunner()
    checkpoint = tmp_path / "ffjord.safetensors"
    trained = runner.invoke(
        app,
        [
            "train",
            str(SPECS / "ffjord_moons.yaml"),
            "--data",
            "moons",
            "--steps",
            "2",
            "-o",
            str(checkpoint),
            "--no-progress",
        ],
    )
    assert trained.exit_code == 0, trained.output
    result = runner.invoke(app, ["eval", str(checkpoint)], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "scored with the exact or low-variance options: flow (cnf): trace: exact" in text
    assert (
        "the scored model's log_prob is the exact log-likelihood up to a solver tolerance" in text
    )
    # FFJORD scored exactly to the solver's settings: an NLL saying so, not a bound and not
    # an importance-weighted bound 64 times the work for the same number
    nll = next(line for line in result.output.splitlines() if line.startswith("NLL: "))
    assert nll.endswith("nats (exact to a solver tolerance)")
    assert "rk4 steps of 0.25" in text
    assert "ELBO" not in result.output and "IWBO" not in result.output
