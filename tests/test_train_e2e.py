"""End to end on the bundled RealNVP: train, stop with Ctrl-C, resume to the same numbers as
an uninterrupted run, evaluate (also on the data's own generator, saved to a file), sample
(in the data's units)."""

from __future__ import annotations

import json
import math

import numpy as np
import torch
from bundled import SPECS
from sklearn.datasets import make_moons
from typer.testing import CliRunner

from flowspec.cli import app
from flowspec.train.checkpoint import load_checkpoint, read_weights
from flowspec.train.metrics import read_metrics

SPEC = str(SPECS / "realnvp_moons.yaml")
COMMON = [
    "--data",
    "moons",
    "--steps",
    "200",
    "--val-every",
    "50",
    "--batch-size",
    "128",
    "--lr",
    "3e-3",
    "--no-progress",
    "--no-tensorboard",
]


def test_realnvp_moons_trains_resumes_exactly_evaluates_and_samples(tmp_path, monkeypatch):
    import flowspec.train.loop as loop

    runner = CliRunner()
    whole = tmp_path / "whole.safetensors"
    assert runner.invoke(app, ["train", SPEC, *COMMON, "-o", str(whole)]).exit_code == 0

    real_fit = loop.fit

    def interrupted(*args, **kwargs):
        def stop(step, loss):
            if step == 120:
                raise KeyboardInterrupt

        return real_fit(*args, **kwargs, on_step=stop)

    cut = tmp_path / "cut.safetensors"
    monkeypatch.setattr(loop, "fit", interrupted)
    assert runner.invoke(app, ["train", SPEC, *COMMON, "-o", str(cut)]).exit_code == 130
    monkeypatch.setattr(loop, "fit", real_fit)
    resumed = runner.invoke(app, ["train", SPEC, *COMMON, "-o", str(cut), "--resume"])
    assert resumed.exit_code == 0, resumed.output

    assert read_metrics(cut.with_name("cut.metrics.csv")) != []
    rows = [
        {k: v for k, v in r.items() if k != "seconds"}
        for r in read_metrics(cut.with_name("cut.metrics.jsonl"))
    ]
    reference = [
        {k: v for k, v in r.items() if k != "seconds"}
        for r in read_metrics(whole.with_name("whole.metrics.jsonl"))
    ]
    assert rows == reference  # identical losses and validation NLLs after resuming
    for ours, theirs in zip(read_weights(cut).values(), read_weights(whole).values(), strict=True):
        assert torch.equal(ours, theirs)

    report = json.loads(runner.invoke(app, ["eval", str(cut), "--json"]).stdout)
    # in make_moons' own units: the best full-covariance Gaussian scores 1.88 nats there
    assert report["likelihood"] == "exact" and report["nll"] < 1.5
    assert f"test NLL:  {report['nll']:.4f}" in resumed.stdout
    assert_same_nll_on_raw_make_moons(cut, report["nll"], tmp_path)

    samples = tmp_path / "s.npy"
    result = runner.invoke(
        app,
        ["sample", str(cut), "-n", "2000", "-o", str(tmp_path / "s.png"), "--npy", str(samples)],
    )
    assert result.exit_code == 0, result.output
    drawn = np.load(samples)
    assert drawn.shape == (2000, 2) and np.isfinite(drawn).all()
    # in make_moons' units: mean (0.50, 0.25), std (0.87, 0.50)
    assert np.abs(drawn.mean(0) - [0.50, 0.25]).max() < 0.15
    assert np.abs(drawn.std(0) - [0.87, 0.50]).max() < 0.15


def assert_same_nll_on_raw_make_moons(checkpoint, test_nll: float, tmp_path) -> None:
    """``make_moons(noise=0.05)`` saved as it comes and scored with ``eval --data`` gives
    the NLL of the test split, within sampling noise (four standard errors of the
    difference of the two means). The model trained on standardised moons scored 1.206
    nats on its test split and 13.32 on such a file."""
    points, _ = make_moons(n_samples=3000, noise=0.05, random_state=7)
    path = tmp_path / "make_moons.npy"
    np.save(path, points)
    result = CliRunner().invoke(app, ["eval", str(checkpoint), "--data", str(path), "--json"])
    assert result.exit_code == 0, result.output
    on_file = json.loads(result.stdout)
    assert on_file["n"] == 3000 and on_file["split"] == "all rows"
    model, _ = load_checkpoint(checkpoint)
    with torch.no_grad():
        spread = float(model.log_prob(torch.as_tensor(points, dtype=torch.float32)).std())
    noise = spread * math.sqrt(1 / 3000 + 1 / 2000)  # file rows, test split rows
    assert abs(on_file["nll"] - test_nll) < 4 * noise, (on_file["nll"], test_nll, noise)
