"""End to end on the bundled RealNVP: train, stop with Ctrl-C, resume to the same numbers as
an uninterrupted run, evaluate, sample."""

from __future__ import annotations

import json

import numpy as np
import torch
from bundled import SPECS
from typer.testing import CliRunner

from flowspec.cli import app
from flowspec.train.checkpoint import read_weights
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
    assert (
        report["likelihood"] == "exact" and report["nll"] < 1.9
    )  # below 2.84, the NLL of N(0, I) on standardised data
    assert f"test NLL:  {report['nll']:.4f}" in resumed.stdout

    samples = tmp_path / "s.npy"
    result = runner.invoke(
        app,
        ["sample", str(cut), "-n", "2000", "-o", str(tmp_path / "s.png"), "--npy", str(samples)],
    )
    assert result.exit_code == 0, result.output
    drawn = np.load(samples)
    assert drawn.shape == (2000, 2) and np.isfinite(drawn).all()
    assert np.abs(drawn.mean(0)).max() < 0.2 and np.abs(drawn.std(0) - 1).max() < 0.2
