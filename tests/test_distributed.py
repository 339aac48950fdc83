"""Two CPU processes under torchrun (gloo): DistributedDataParallel trains exactly as one
process does on the same global batches, only rank 0 writes, the result loads and samples,
and a resumed run continues exactly (every process's random state is in the checkpoint)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from train_specs import DIGITS, TINY_MOONS
from typer.testing import CliRunner

import flowspec
from flowspec.cli import app
from flowspec.spec.training import TrainSettings
from flowspec.train import CheckpointError, RunFiles, fit, load_dataset
from flowspec.train.checkpoint import load_checkpoint, load_training_state
from flowspec.train.metrics import read_metrics

ROOT = Path(__file__).resolve().parent.parent
ARGS = [
    "--data",
    "moons",
    "--steps",
    "30",
    "--val-every",
    "10",
    "--batch-size",
    "128",
    "--no-progress",
    "--no-tensorboard",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def torchrun(*program: str, cwd: Path) -> subprocess.CompletedProcess:
    """``torchrun --nproc_per_node 2 PROGRAM...`` on this machine, with this worktree and the
    tests folder importable."""
    path = [str(ROOT), str(ROOT / "tests"), os.environ.get("PYTHONPATH", "")]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(path),
        "MASTER_ADDR": "127.0.0.1",
        "OMP_NUM_THREADS": "1",
    }
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_addr",
        "127.0.0.1",
        "--master_port",
        str(free_port()),
        *program,
    ]
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300, cwd=cwd)


def test_two_processes_train_like_one_and_rank_zero_writes(tmp_path):
    spec = tmp_path / "moons.yaml"
    spec.write_text(TINY_MOONS)
    ddp = tmp_path / "ddp" / "m.safetensors"
    result = torchrun("-m", "flowspec", "train", str(spec), *ARGS, "-o", str(ddp), cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("trained tiny-moons on moons for 30 steps on 2 processes") == 1
    assert sorted(p.name for p in ddp.parent.iterdir()) == [
        "m.last.safetensors",
        "m.metrics.csv",
        "m.metrics.jsonl",
        "m.safetensors",
        "m.summary.json",
    ]

    single = tmp_path / "single" / "m.safetensors"
    alone = CliRunner().invoke(app, ["train", str(spec), *ARGS, "-o", str(single)])
    assert alone.exit_code == 0, alone.output
    together, apart = (
        read_metrics(ddp.with_name("m.metrics.csv")),
        read_metrics(single.with_name("m.metrics.csv")),
    )
    assert [r["step"] for r in together] == [r["step"] for r in apart] == [10, 20, 30]
    for mine, theirs in zip(together, apart, strict=True):  # each process takes half of every batch
        assert mine["train_loss"] == pytest.approx(theirs["train_loss"], abs=1e-5)
        assert mine["val_nll"] == pytest.approx(theirs["val_nll"], abs=1e-5)
    assert together[-1]["val_nll"] < together[0]["val_nll"]  # training progresses

    model, meta = load_checkpoint(ddp)
    reference, _ = load_checkpoint(single)
    assert meta["data"] == "moons"
    x = torch.randn(64, 2, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        torch.testing.assert_close(model.log_prob(x), reference.log_prob(x), atol=1e-4, rtol=0)
        torch.manual_seed(1)
        drawn = model.sample(100)
        torch.manual_seed(1)
        torch.testing.assert_close(drawn, reference.sample(100), atol=1e-4, rtol=0)


def test_two_processes_resume_exactly_and_stop_together(tmp_path):
    # uniform dequantization draws noise on every process, each from its own generator
    result = torchrun(str(ROOT / "tests" / "ddp_resume_run.py"), str(tmp_path), "8", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    # no collective after Ctrl-C: the last checkpoint is the one of the last validation
    assert json.loads((tmp_path / "interrupted.json").read_text()) == {
        "step": 5,
        "checkpoint": str(tmp_path / "b.last.safetensors"),
    }
    whole, resumed = (
        read_metrics(tmp_path / "a.metrics.csv"),
        read_metrics(tmp_path / "b.metrics.csv"),
    )
    assert [r["step"] for r in whole] == [r["step"] for r in resumed] == [5, 10, 15, 20]
    for mine, theirs in zip(resumed, whole, strict=True):
        assert mine["train_loss"] == pytest.approx(theirs["train_loss"], abs=1e-6)
        assert mine["val_nll"] == pytest.approx(theirs["val_nll"], abs=1e-6)

    # the time limit stops every process at the same step, though only rank 1 is late
    timed = [json.loads((tmp_path / f"timed.{rank}.json").read_text()) for rank in (0, 1)]
    assert (
        timed[0] == timed[1] and timed[0]["steps"] == 1 and timed[0]["stop_reason"] == "time limit"
    )

    saved = load_training_state(tmp_path / "b.last.safetensors")
    assert saved.info["world"] == 2 and not torch.equal(
        saved.tensors["rng.rank0.cpu"], saved.tensors["rng.rank1.cpu"]
    )
    settings = TrainSettings(steps=20, val_every=5, batch_size=32)
    data = load_dataset("digits", n_train=256, n_test=64, n_val=64)
    with pytest.raises(CheckpointError, match="written by 2 processes.*this run has 1"):
        fit(
            flowspec.compile(DIGITS.replace("LEVELS", "17")),
            data,
            settings,
            resume=True,
            files=RunFiles.beside(tmp_path / "b.safetensors"),
            progress=False,
        )


def test_two_processes_train_like_one_under_the_memory_option(tmp_path):
    """Rebuilt chains hand their parameters' gradients to autograd as outputs, so DDP's
    all-reduce sees them; accumulated micro-batches are all-reduced once per step."""
    spec = tmp_path / "moons.yaml"
    spec.write_text(TINY_MOONS)
    args = [*ARGS, "--memory", "invertible", "--accumulate", "2", "--batch-size", "64"]
    args[args.index("--steps") + 1] = "10"
    args[args.index("--val-every") + 1] = "5"
    ddp = tmp_path / "ddp" / "m.safetensors"
    result = torchrun("-m", "flowspec", "train", str(spec), *args, "-o", str(ddp), cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    single = tmp_path / "single" / "m.safetensors"
    alone = CliRunner().invoke(app, ["train", str(spec), *args, "-o", str(single)])
    assert alone.exit_code == 0, alone.output
    together, apart = (
        read_metrics(ddp.with_name("m.metrics.csv")),
        read_metrics(single.with_name("m.metrics.csv")),
    )
    assert [r["step"] for r in together] == [r["step"] for r in apart] == [5, 10]
    for mine, theirs in zip(together, apart, strict=True):
        assert mine["train_loss"] == pytest.approx(theirs["train_loss"], abs=1e-5)
        assert mine["val_nll"] == pytest.approx(theirs["val_nll"], abs=1e-5)
