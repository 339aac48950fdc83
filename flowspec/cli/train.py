"""``flowspec train``: fit a spec to a bundled data set or a data file by maximum
likelihood, or to an unnormalized target density by reverse KL (``--target``, see
:mod:`flowspec.cli._target`), with validation, early stopping, best and last checkpoints,
metrics logs and ``--resume``.

torch, numpy, scikit-learn and ``flowspec.train`` are imported only when this verb runs,
so the other verbs (and ``--help``) start fast.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from rich.text import Text

import flowspec
from flowspec.cli._files import prepare_output, refuse_overwriting
from flowspec.cli._help import examples
from flowspec.cli._output import fail, note, out, user_errors
from flowspec.cli._target import report_target_fit, target_fit
from flowspec.spec.training import BUNDLED_DATA, ENERGIES

if TYPE_CHECKING:
    from pydantic import ValidationError

    from flowspec.emit.runtime import FlowModel
    from flowspec.spec.training import TrainSettings
    from flowspec.train.board import RunView
    from flowspec.train.data import Dataset
    from flowspec.train.loop import FitResult, RunFiles

__all__ = ["train", "default_checkpoint", "INTERRUPTED"]

#: Exit status after Ctrl-C, as a shell reports a process stopped by SIGINT.
INTERRUPTED = 130

EPILOG = examples(
    "flowspec train specs/realnvp_moons.yaml --data moons --steps 2000",
    "flowspec train specs/digits_dequant.yaml --data digits --steps 3000",
    "flowspec train my_flow.yaml --data mydata.npz --epochs 50 --lr 3e-4 -o runs/mine.safetensors",
    "flowspec train my_flow.yaml --data moons --config fast.yaml --resume",
    "torchrun --nproc_per_node 2 -m flowspec train specs/realnvp_moons.yaml --data moons",
    "flowspec train specs/planar_energy.yaml --target U3 --steps 3000",
    "flowspec train my_flow.yaml --target my_posterior.py:log_density",
    after="With `--target`, the flow is fitted by reverse KL to an unnormalized "
    "log-density instead of data: a bundled energy of Rezende & Mohamed (2015), or "
    "`FILE.py:FUNCTION`, a function of a batch `x` (shape `[n, *event]`) returning `log p~(x)` "
    "(shape `[n]`). Naming a file imports it, which runs its code: this is the one place "
    "flowspec runs your code, only when you name it here (never because a spec or a "
    "checkpoint names it). Settings come from the spec's `train:` section, then `--config FILE`, then these "
    "options (later wins). Writes the best checkpoint (lowest validation NLL) to the output "
    "path, the last one with the full training state to `NAME.last.safetensors` (what "
    "`--resume` continues from), and metrics to `NAME.metrics.csv` and `.jsonl` (and "
    "with `--tensorboard`, TensorBoard events to `NAME.tensorboard/`: at each "
    "validation samples, the 2-D density map, each node's term of log p(x), latent "
    "histograms and the drawing; the settings with the final figures). Ctrl-C saves "
    "the last checkpoint and exits with status 130.",
)


class Optimizer(str, Enum):
    adam = "adam"
    adamw = "adamw"
    sgd = "sgd"


class Schedule(str, Enum):
    constant = "constant"
    cosine = "cosine"
    linear = "linear"


class Memory(str, Enum):
    stored = "stored"
    invertible = "invertible"
    checkpoint = "checkpoint"


class Device(str, Enum):
    cpu = "cpu"
    cuda = "cuda"
    mps = "mps"


def default_checkpoint(spec_name: str) -> Path:
    """``runs/<spec name>.safetensors``, the name made safe for a file system."""
    safe = re.sub(r"[^\w.-]+", "_", spec_name).strip("._") or "model"
    return Path("runs") / f"{safe}.safetensors"


_Int = int | None
_Float = float | None


def train(
    spec: Annotated[
        Path,
        typer.Argument(metavar="SPEC", help="The YAML spec file to train.", show_default=False),
    ],
    target: Annotated[
        str | None,  # noqa: UP007
        typer.Option(
            "--target",
            metavar="NAME|FILE.py:FUNCTION",
            help=f"Fit by reverse KL to an unnormalized log-density instead of data: a "
            f"bundled 2-D energy of Rezende & Mohamed 2015 ({', '.join(ENERGIES)}), or a Python "
            "function of a batch returning log p~. Naming a file runs its code (imported "
            "now; never from a spec). Default: `target:` in the train settings.",
            show_default=False,
        ),
    ] = None,
    data: Annotated[
        str | None,  # noqa: UP007
        typer.Option(
            "--data",
            "-d",
            metavar="NAME|FILE",
            help=f"A bundled data set, generated locally, never downloaded ({', '.join(BUNDLED_DATA)}), "
            "or a .npy, .npz, .csv or .pt file (context columns or arrays for conditional "
            "specs). Default: `data:` in the train settings.",
            show_default=False,
        ),
    ] = None,
    steps: Annotated[
        _Int,
        typer.Option("--steps", metavar="N", help="Optimizer steps.", show_default=False),
    ] = None,
    epochs: Annotated[
        _Int,
        typer.Option(
            "--epochs",
            metavar="N",
            help="Passes over the training split (instead of --steps).",
            show_default=False,
        ),
    ] = None,
    config: Annotated[
        Path | None,  # noqa: UP007
        typer.Option(
            "--config",
            metavar="FILE.yaml",
            help="Training settings file (the fields of a spec's `train:` section).",
            show_default=False,
        ),
    ] = None,
    batch_size: Annotated[
        _Int,
        typer.Option(
            "--batch-size",
            "-b",
            metavar="N",
            help="Examples per step (all processes together). [default: 256]",
            show_default=False,
        ),
    ] = None,
    lr: Annotated[
        _Float,
        typer.Option(
            "--lr",
            help="Peak learning rate. [default: 0.001]",
            show_default=False,
        ),
    ] = None,
    optimizer: Annotated[
        Optimizer | None,  # noqa: UP007
        typer.Option("--optimizer", help="[default: adam]", show_default=False),
    ] = None,
    schedule: Annotated[
        Schedule | None,  # noqa: UP007
        typer.Option(
            "--schedule",
            help="Learning rate after the warm-up. [default: cosine]",
            show_default=False,
        ),
    ] = None,
    warmup: Annotated[
        _Int,
        typer.Option(
            "--warmup",
            metavar="N",
            help="Steps of linear warm-up. [default: 0]",
            show_default=False,
        ),
    ] = None,
    clip_grad: Annotated[
        _Float,
        typer.Option(
            "--clip-grad",
            help="Largest gradient norm. [default: 10]",
            show_default=False,
        ),
    ] = None,
    weight_decay: Annotated[
        _Float,
        typer.Option(
            "--weight-decay",
            metavar="W",
            help="Weight decay (L2 for adam and sgd, decoupled for adamw). [default: 0]",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[
        _Int,
        typer.Option(
            "--seed",
            metavar="N",
            help="Seed of the weights, data splits and batch order. [default: 0]",
            show_default=False,
        ),
    ] = None,
    threads: Annotated[
        _Int,
        typer.Option(
            "--threads",
            metavar="N",
            help="CPU threads; 1 is fastest for small models on a shared machine. [default: 1]",
            show_default=False,
        ),
    ] = None,
    device: Annotated[
        Device | None,  # noqa: UP007
        typer.Option("--device", help="[default: cpu]", show_default=False),
    ] = None,
    val_every: Annotated[
        _Int,
        typer.Option(
            "--val-every",
            metavar="N",
            help="Steps between validations. [default: 40 per run]",
            show_default=False,
        ),
    ] = None,
    patience: Annotated[
        _Int,
        typer.Option(
            "--patience",
            metavar="N",
            help="Validations without improvement before stopping early. [default: 10]",
            show_default=False,
        ),
    ] = None,
    accumulate: Annotated[
        _Int,
        typer.Option(
            "--accumulate",
            metavar="N",
            help="Micro-batches of --batch-size per optimizer step (the effective batch is "
            "N x batch size). [default: 1]",
            show_default=False,
        ),
    ] = None,
    memory: Annotated[
        Memory | None,  # noqa: UP007
        typer.Option(
            "--memory",
            help="What backpropagation keeps: every activation (stored), or only the "
            "outputs of chains of nodes with one-pass inverses, rebuilding their inputs "
            "(invertible), and recomputing the other deterministic nodes (checkpoint); "
            "flowspec validate shows the segments. [default: stored]",
            show_default=False,
        ),
    ] = None,
    compile: Annotated[
        bool | None,  # noqa: UP007
        typer.Option(
            "--compile/--no-compile",
            help="Run the training loss's log_prob under torch.compile (inductor): the "
            "first step compiles (reported as a one-off cost, cached on disk for later "
            "runs); kinds that iterate train eagerly, with a warning. [default: the spec's "
            "train: {compile: ...}, else off]",
            show_default=False,
        ),
    ] = None,
    time_limit: Annotated[
        _Float,
        typer.Option(
            "--time-limit",
            metavar="SECONDS",
            help="Stop after this much training time (the best weights are kept).",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path | None,  # noqa: UP007
        typer.Option(
            "--output",
            "-o",
            metavar="CHECKPOINT",
            help="The best checkpoint (safetensors, spec inside); the last checkpoint and the "
            "metrics go beside it. Default: `SPEC_NAME.safetensors` in `runs/`.",
            show_default=False,
        ),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option(
            "--resume",
            help="Continue from `NAME.last.safetensors` exactly "
            "where it stopped (same spec, same settings).",
        ),
    ] = False,
    tensorboard: Annotated[
        bool,
        typer.Option(
            "--tensorboard/--no-tensorboard",
            help="Write TensorBoard events (needs tensorboard installed: the tensorboard "
            "extra). Off by default: the per-validation view (each node's term, latent "
            "histograms, pictures) costs about 0.15 s per validation, 2.5 s with pictures.",
        ),
    ] = False,
    no_progress: Annotated[
        bool, typer.Option("--no-progress", help="Do not show the progress bar.")
    ] = False,
) -> None:
    """Train a spec by maximum likelihood (or reverse KL, `--target`) and save its best
    checkpoint.

    Validates every `--val-every` steps, keeps the weights with the lowest validation NLL,
    stops early after `--patience` validations without improvement, then prints the train,
    validation and test NLL of the best weights in nats per example (and bits per
    dimension for discrete data) and whether they are exact or bounds. With `--target`:
    the reverse KL up to the target's unknown constant (nats), the KL itself where the
    constant is known (the bundled energies) and the effective sample size, on fresh
    draws. Exit 1 when the spec, the settings, the data or the target are wrong (shape,
    levels, range, context; a target file, function or result), when a device is
    unavailable, or when training diverges (the message names the step and the last good
    checkpoint).
    """
    import torch
    from pydantic import ValidationError

    from flowspec.train.distributed import from_environment
    from flowspec.train.files import DataError
    from flowspec.train.loop import RunFiles, fit
    from flowspec.train.prepare import prepare
    from flowspec.train.settings import (
        DeviceUnavailable,
        load_config,
        merge_settings,
        resolve_device,
    )

    options = {
        "steps": steps,
        "epochs": epochs,
        "batch_size": batch_size,
        "lr": lr,
        "optimizer": optimizer and optimizer.value,
        "schedule": schedule and schedule.value,
        "warmup": warmup,
        "clip_grad": clip_grad,
        "weight_decay": weight_decay,
        "seed": seed,
        "threads": threads,
        "device": device and device.value,
        "val_every": val_every,
        "patience": patience,
        "time_limit": time_limit,
        "accumulate": accumulate,
        "memory": memory and memory.value,
        "compile": compile,
        "data": data,
        "target": target,
    }
    with user_errors():
        checked = flowspec.check(spec)
        file_settings = load_config(config) if config is not None else None
        path = output if output is not None else default_checkpoint(checked.graph.header.name)
    try:
        settings = merge_settings(checked.graph.header.train, file_settings, options)
    except ValidationError as error:
        _bad_settings(error)
    try:
        torch_device = resolve_device(settings.device)
    except DeviceUnavailable as error:
        fail(str(error))
    torch.set_num_threads(settings.threads)
    distributed = from_environment(torch_device)
    main = distributed is None or distributed.main
    files = RunFiles.beside(path, tensorboard=tensorboard)
    refuse_overwriting(
        [files.best, files.last, files.metrics_csv, files.metrics_jsonl],
        {
            "spec": spec,
            "settings file": config,
            "data file": Path(settings.data) if settings.data else None,
        },
    )
    if main:
        with user_errors():
            prepare_output(path)
        if path.is_dir():
            fail(f"cannot write the checkpoint '{path}': it is a folder")
    if resume and not files.last.is_file():
        fail(f"nothing to resume: '{files.last}' does not exist (train without --resume first)")
    if settings.target is not None:
        if distributed is not None:
            distributed.close(wait=False)
            fail("reverse-KL fitting (--target) runs in one process: run it without torchrun")
        fit_to_target = target_fit(
            checked,
            settings,
            torch_device,
            files,
            resume,
            progress=not no_progress,
            log=None if not no_progress else note,
        )
        with _training_errors(main=True):
            target_result = fit_to_target()
        report_target_fit(target_result, checked, files)
        return
    missing = checked.graph.unavailable_log_prob()
    if missing:
        fail(
            "cannot train by maximum likelihood: log_prob of data is unavailable, since "
            f"{', '.join(repr(n) for n in missing)} have no inference direction (W752); "
            + "; ".join(f"{node}: {remedy}" for node, remedy in missing.items())
        )
    try:
        model, dataset = prepare(checked, settings, torch_device)
    except DataError as error:
        fail(str(error))
    assert settings.data is not None, "prepare() refuses settings without data"
    meta = {"data": settings.data, "settings": settings.model_dump_json()}
    view = _run_view(files, model, dataset, settings) if main else None
    finished = False
    try:
        with _training_errors(main):
            result = fit(
                model,
                dataset,
                settings,
                files=files,
                resume=resume,
                meta=meta,
                progress=main and not no_progress,
                distributed=distributed,
                log=(None if not no_progress else note) if main else (lambda _: None),
                on_validation=view,
            )
            if view is not None:
                view.finish(result)
        finished = True
    finally:
        if distributed is not None:
            distributed.close(wait=finished)
    if main:
        _report(result, dataset, checked, files, distributed.world if distributed else 1)


@contextmanager
def _training_errors(main: bool) -> Iterator[None]:
    """Ctrl-C (exit 130, saying what the last checkpoint holds), divergence, checkpoint
    problems and inputs that memory: invertible cannot rebuild (exit 1) as messages; ``main`` is whether this process prints."""
    from flowspec.emit.memory import ReconstructionError
    from flowspec.train.checkpoint import CheckpointError
    from flowspec.train.loop import TrainingDiverged, TrainingInterrupted

    try:
        yield
    except TrainingInterrupted as error:
        if main and error.checkpoint is not None:
            note(
                f"interrupted; {error.checkpoint} holds step {error.step} (continue with --resume)",
                "yellow",
            )
        elif main:
            note("interrupted before the first checkpoint: nothing to resume", "yellow")
        raise typer.Exit(INTERRUPTED) from None
    except (TrainingDiverged, CheckpointError, ReconstructionError) as error:
        fail(str(error))


def _run_view(
    files: RunFiles, model: FlowModel, dataset: Dataset, settings: TrainSettings
) -> RunView | None:
    """The TensorBoard view of the run, when events are written and tensorboard is
    installed."""
    import importlib.util

    if files.tensorboard is None or importlib.util.find_spec("tensorboard") is None:
        return None
    from flowspec.train.board import RunView

    return RunView(files.tensorboard, model, dataset, settings)


def _bad_settings(error: ValidationError) -> NoReturn:
    """A usage error naming each wrong setting's option, its value and its allowed range:
    only options can be wrong here (the spec's train section and --config files are
    checked with located diagnostics when they are read)."""
    from flowspec.spec.training import setting_problems

    problems = [(_flag(name), message) for name, message in setting_problems(error)]
    if len(problems) == 1:
        flag, message = problems[0]
        raise typer.BadParameter(message, param_hint=f"'{flag}'" if flag else None)
    raise typer.BadParameter("; ".join(f"{flag or 'settings'}: {text}" for flag, text in problems))


def _flag(setting: str | None) -> str | None:
    """The option of a training setting (``batch_size`` -> ``--batch-size``)."""
    return None if setting is None else f"--{setting.replace('_', '-')}"


def _report(
    result: FitResult,
    dataset: Dataset,
    checked: flowspec.CheckedSpec,
    files: RunFiles,
    processes: int,
) -> None:
    from flowspec.graph.verdict import verdict

    dims = math.prod(dataset.shape) if dataset.levels is not None else None

    def nll(value: float) -> str:
        text = f"{value:.4f} nats"
        if dims is not None:
            text += f" ({value / (dims * math.log(2.0)):.4f} bits/dim)"
        return text

    on = f" on {processes} processes" if processes > 1 else ""
    stop = {"steps": "", "patience": " (stopped early)"}.get(
        result.stop_reason, f" ({result.stop_reason})"
    )
    name = result.figure_name
    lines = [
        f"trained {checked.graph.header.name} on {dataset.name} for {result.steps} steps{stop}"
        f"{on} in {result.seconds:.1f} s; best validation {name} at step {result.best_step}",
        f"train {name}: {nll(result.train_nll)}",
        f"val {name}:   {nll(result.val_nll)}",
        f"test {name}:  {nll(result.test_nll)}",
        f"the {name} figures above are {result.figure}"
        + (f"; scored with {', '.join(result.scored_with)}" if result.scored_with else ""),
    ]
    baseline = result.baseline
    if baseline is not None:
        gap = baseline.nll - result.test_nll
        lines.append(
            f"baseline:  {nll(baseline.nll)}, the test NLL of the {baseline.describe()}; "
            f"the model is {abs(gap):.4f} nats {'below' if gap > 0 else 'above'} it"
        )
    said = verdict(checked.graph)
    lines += [said.sentence]
    console = out()
    for line in lines[:-1]:
        console.print(Text(line), soft_wrap=True)
    for warning in result.warnings:
        console.print(Text(f"warning: {warning}", style="yellow"), soft_wrap=True)
    style = "green" if said.label == "exact" else "yellow"
    console.print(Text(lines[-1], style=style), soft_wrap=True)
    if result.compile_seconds is not None:
        console.print(
            Text(
                f"torch.compile: the first step took {result.compile_seconds:.1f} s, compiling "
                f"included (a one-off cost; inductor's cache in {result.compile_cache} makes "
                "the next run of this spec compile faster)"
            ),
            soft_wrap=True,
        )
    console.print(Text(f"checkpoint: {files.best} (best), {files.last} (last)"), soft_wrap=True)
    console.print(Text(f"metrics: {files.metrics_csv}; summary: {files.summary}"), soft_wrap=True)
