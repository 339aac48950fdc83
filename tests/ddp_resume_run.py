"""Run under ``torchrun --nproc_per_node 2`` by tests/test_distributed.py: in one process
group, a stochastic (dequantized) spec trained for 20 steps without interruption (``a``),
then the same run stopped by Ctrl-C at step ``STOP`` (``b``) and resumed from its last
checkpoint; last, a run with a time limit whose clock runs late on rank 1 only (``c``).
Usage: ``ddp_resume_run.py FOLDER STOP``; rank 0 writes ``FOLDER/interrupted.json``, every
rank ``FOLDER/timed.<rank>.json``."""

from __future__ import annotations

import itertools
import json
import sys
from pathlib import Path

import torch
from train_specs import DIGITS

import flowspec
import flowspec.train.run as training_run
from flowspec.spec.training import TrainSettings
from flowspec.train import RunFiles, TrainingInterrupted, fit, load_dataset
from flowspec.train.distributed import from_environment


def main(folder: Path, stop_at: int) -> None:
    torch.set_num_threads(1)
    distributed = from_environment(torch.device("cpu"))
    spec = DIGITS.replace("LEVELS", "17")
    data = load_dataset("digits", n_train=256, n_test=64, n_val=64)
    settings = TrainSettings(steps=20, val_every=5, batch_size=32)

    def run(name: str, chosen: TrainSettings = settings, **options):
        return fit(
            flowspec.compile(spec),
            data,
            chosen,
            progress=False,
            distributed=distributed,
            files=RunFiles.beside(folder / f"{name}.safetensors"),
            **options,
        )

    def stop(step: int, loss: float) -> None:
        if step == stop_at:
            raise KeyboardInterrupt

    torch.manual_seed(0)
    run("a")
    torch.manual_seed(0)
    try:
        run("b", on_step=stop)
    except TrainingInterrupted as interrupted:
        if distributed.main:
            (folder / "interrupted.json").write_text(
                json.dumps({"step": interrupted.step, "checkpoint": str(interrupted.checkpoint)})
            )
    torch.distributed.barrier()  # rank 0 has written the last checkpoint: a new torchrun would start here
    torch.manual_seed(123 + distributed.rank)  # the resumed run takes nothing from the seed
    run("b", resume=True)

    if distributed.rank == 1:  # past the time limit from the first step on, on rank 1 alone
        clock, calls = training_run.time.perf_counter, itertools.count()
        late = staticmethod(lambda: clock() + (1e6 if next(calls) else 0.0))  # after the start
        training_run.time = type("LateClock", (), {"perf_counter": late})
    timed = run("c", settings.model_copy(update={"time_limit": 1e5}))
    (folder / f"timed.{distributed.rank}.json").write_text(
        json.dumps(
            {"steps": timed.steps, "stop_reason": timed.stop_reason, "val": timed.val_history}
        )
    )
    distributed.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]))
