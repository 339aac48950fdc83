"""Two CPU processes under torchrun (gloo): DistributedDataParallel trains exactly as one
process does on the same global batches, only rank 0 writes, and the result loads and samples."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from flowspec.cli import app
from flowspec.train.checkpoint import load_checkpoint
from flowspec.train.metrics import read_metrics
from train_specs import TINY_MOONS

ROOT = Path(__file__).resolve().parent.parent
ARGS = ["--data", "moons", "--steps", "30", "--val-every", "10", "--batch-size", "128",
        "--no-progress", "--no-tensorboard"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_two_processes_train_like_one_and_rank_zero_writes(tmp_path):
    spec = tmp_path / "moons.yaml"
    spec.write_text(TINY_MOONS)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
           "MASTER_ADDR": "127.0.0.1", "OMP_NUM_THREADS": "1"}
    ddp = tmp_path / "ddp" / "m.safetensors"
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
               "--master_addr", "127.0.0.1", "--master_port", str(free_port()),
               "-m", "flowspec", "train", str(spec), *ARGS, "-o", str(ddp)]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600, cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.count("trained tiny-moons on moons for 30 steps on 2 processes") == 1
    assert sorted(p.name for p in ddp.parent.iterdir()) == [
        "m.last.safetensors", "m.metrics.csv", "m.metrics.jsonl", "m.safetensors"]

    single = tmp_path / "single" / "m.safetensors"
    alone = CliRunner().invoke(app, ["train", str(spec), *ARGS, "-o", str(single)])
    assert alone.exit_code == 0, alone.output
    together, apart = read_metrics(ddp.with_name("m.metrics.csv")), read_metrics(single.with_name("m.metrics.csv"))
    assert [r["step"] for r in together] == [r["step"] for r in apart] == [10, 20, 30]
    for mine, theirs in zip(together, apart):  # each process takes half of every batch
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
