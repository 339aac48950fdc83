"""The trivial baseline next to every trained figure (flowspec/train/baseline.py): its
densities are right and normalised, the verdicts ("does not clearly beat the baseline",
"not converged") fire when they should and only then, and train, eval and FitResult show
them in the units of the model's figures."""

from __future__ import annotations

import itertools
import json
import math

import numpy as np
import pytest
import torch
from train_specs import TINY_MOONS
from typer.testing import CliRunner

import flowspec
from flowspec.cli.app import app
from flowspec.spec.training import TrainSettings
from flowspec.train import Dataset, RunFiles, fit, load_dataset
from flowspec.train.baseline import (
    Baseline,
    categorical_nlls,
    fit_baseline,
    gaussian_nlls,
    run_warnings,
)


def _dataset(train: torch.Tensor, test: torch.Tensor, levels: int | None = None) -> Dataset:
    return Dataset("made-up", train, test, tuple(train.shape[1:]), levels, val=test)


def test_gaussian_baseline_is_the_maximum_likelihood_full_covariance_gaussian():
    generator = torch.Generator().manual_seed(0)
    mixing = torch.tensor([[1.0, 0.0, 0.0], [0.8, 0.5, 0.0], [-0.3, 0.2, 0.1]], dtype=torch.float64)
    train = torch.randn(500, 3, generator=generator, dtype=torch.float64) @ mixing.T + 2.0
    test = torch.randn(50, 3, generator=generator, dtype=torch.float64) @ mixing.T + 2.0
    mean = torch.as_tensor(train.numpy().mean(0))
    covariance = torch.as_tensor(np.cov(train.numpy(), rowvar=False, bias=True))
    oracle = torch.distributions.MultivariateNormal(mean, covariance)
    torch.testing.assert_close(
        gaussian_nlls(train, test), -oracle.log_prob(test), rtol=1e-5, atol=0
    )


def test_gaussian_baseline_of_gaussian_data_scores_its_entropy():
    generator = torch.Generator().manual_seed(1)
    scale = torch.tensor([2.0, 0.5])
    train, test = (torch.randn(n, 2, generator=generator) * scale for n in (20_000, 20_000))
    baseline = fit_baseline(_dataset(train, test))
    entropy = math.log(2 * math.pi * math.e) + float(torch.log(scale).sum())
    assert baseline.kind == "gaussian" and baseline.bits_per_dim is None
    assert abs(baseline.nll - entropy) < 3 * baseline.standard_error


def test_gaussian_baseline_of_data_with_a_constant_coordinate_is_finite():
    train = torch.cat([torch.randn(100, 1), torch.ones(100, 1)], dim=1)
    assert math.isfinite(fit_baseline(_dataset(train, train[:10])).nll)


def test_categorical_baseline_is_normalised_and_add_one_smoothed():
    levels, dims = 3, 2
    train = torch.tensor([[0, 1], [0, 1], [2, 1], [0, 0]], dtype=torch.float32)
    every = torch.tensor(list(itertools.product(range(levels), repeat=dims)), dtype=torch.float32)
    nlls = categorical_nlls(train, every, levels)
    assert float(torch.exp(-nlls).sum()) == pytest.approx(1.0, abs=1e-12)
    # Dimension 0 saw 0 three times and 2 once; dimension 1 saw 1 three times and 0 once.
    p_00 = (3 + 1) / (4 + 3) * (1 + 1) / (4 + 3)
    assert float(nlls[0]) == pytest.approx(-math.log(p_00))
    assert float(nlls[4]) == pytest.approx(-math.log((0 + 1) / 7 * (3 + 1) / 7))


def test_categorical_baseline_of_digits_in_bits_per_dim():
    baseline = fit_baseline(load_dataset("digits"))
    assert baseline.kind == "categorical" and baseline.dims == 64
    assert baseline.bits_per_dim == pytest.approx(baseline.nll / (64 * math.log(2)))
    # Independent per-pixel categoricals score about 2.4 bits/dim on the digits: far above
    # the 1.9 to 2.2 of the bundled flows, far below the 4.09 of a uniform pmf (log2 17).
    assert 2.2 < baseline.bits_per_dim < 2.6


def test_clearly_beating_needs_two_standard_errors_and_a_hundredth_of_a_nat_per_dim():
    noisy = Baseline("gaussian", nll=3.0, standard_error=0.2, n=100, dims=2, bits_per_dim=None)
    assert noisy.margin() == pytest.approx(0.4)
    assert not noisy.beaten_by(2.7) and noisy.beaten_by(2.5)
    precise = Baseline("gaussian", nll=3.0, standard_error=1e-4, n=10**6, dims=2, bits_per_dim=None)
    assert precise.margin() == pytest.approx(0.02)
    assert not precise.beaten_by(2.99) and precise.beaten_by(2.97)


def test_run_warnings_name_a_model_that_learned_nothing_and_one_still_improving():
    baseline = Baseline(
        "gaussian", nll=2.72, standard_error=0.01, n=2000, dims=2, bits_per_dim=None
    )
    assert run_warnings(1.2, baseline, steps=2000, best_step=1850, bound=False) == []
    (nothing,) = run_warnings(2.71, baseline, steps=2000, best_step=1850, bound=True)
    assert "does not clearly beat the baseline" in nothing and "2.7100" in nothing
    assert "upper bound" in nothing and "full-covariance Gaussian" in nothing
    (longer,) = run_warnings(1.2, baseline, steps=300, best_step=300, bound=False)
    assert "had not converged" in longer and "(300)" in longer


@pytest.fixture(scope="module")
def moons():
    return load_dataset("moons", n_train=2000, n_test=1000, seed=0, n_val=500)


def test_fit_result_carries_the_baseline_and_warns_when_nothing_was_learned(moons, tmp_path):
    torch.manual_seed(0)
    files = RunFiles.beside(tmp_path / "m.safetensors")
    settings = TrainSettings(steps=4, batch_size=64, lr=1e-7, val_every=2)
    result = fit(flowspec.compile(TINY_MOONS), moons, settings, files=files, progress=False)
    assert result.baseline == fit_baseline(moons)
    assert result.baseline.nll == pytest.approx(1.88, abs=0.05)  # make_moons in raw units
    assert any("does not clearly beat the baseline" in w for w in result.warnings)
    assert result.likelihood == "exact"
    summary = json.loads(files.summary.read_text())
    assert summary["baseline"]["nll"] == result.baseline.nll
    assert summary["test_nll"] == result.test_nll and summary["units"] == "nats per example"
    assert summary["warnings"] == result.warnings


def test_a_model_that_learned_moons_beats_the_baseline_clearly(moons):
    torch.manual_seed(0)
    settings = TrainSettings(steps=300, batch_size=128, lr=5e-3, val_every=25)
    result = fit(flowspec.compile(TINY_MOONS), moons, settings, progress=False)
    assert result.baseline.beaten_by(result.test_nll), result
    assert not any("baseline" in warning for warning in result.warnings)


def test_train_and_eval_print_the_baseline_in_the_units_of_the_figures(tmp_path):
    spec = tmp_path / "tiny.yaml"
    spec.write_text(TINY_MOONS)
    checkpoint = tmp_path / "tiny.safetensors"
    options = [
        "--no-progress",
        "--no-tensorboard",
        "-b",
        "64",
        "--lr",
        "1e-3",
        "--schedule",
        "constant",
    ]
    arguments = ["train", str(spec), "-d", "moons", "--steps", "3", "-o", str(checkpoint)]
    trained = CliRunner().invoke(app, [*arguments, *options])
    assert trained.exit_code == 0, trained.output
    baseline = fit_baseline(load_dataset("moons"))
    assert (
        f"baseline:  {baseline.nll:.4f} nats, the test NLL of the full-covariance" in trained.stdout
    )
    assert "nats above it\nwarning: the model does not clearly beat the baseline" in trained.stdout
    assert "warning: the best validation NLL is at the last step (3)" in trained.stdout
    assert "tiny.summary.json" in trained.stdout
    evaluated = CliRunner().invoke(app, ["eval", str(checkpoint)])
    figure = f"{baseline.nll:.4f} ± {baseline.standard_error:.4f} nats"
    assert f"baseline: {figure}, the NLL of the full-covariance" in evaluated.stdout
    report = json.loads(CliRunner().invoke(app, ["eval", str(checkpoint), "--json"]).stdout)
    assert report["baseline"]["nll"] == pytest.approx(baseline.nll)
