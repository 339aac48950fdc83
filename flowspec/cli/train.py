"""``flowspec train``: fit a spec to a bundled data set and save a checkpoint.

``flowspec.train`` (numpy, scikit-learn, matplotlib) is imported only when this verb runs,
so the other verbs start fast.
"""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer
from rich.text import Text

import flowspec
from flowspec.cli._files import prepare_output
from flowspec.cli._help import examples
from flowspec.cli._output import fail, note, out, user_errors
from flowspec.diagnostics import did_you_mean

if TYPE_CHECKING:
    from flowspec.train.loop import FitResult

__all__ = ["train", "default_checkpoint", "INTERRUPTED"]

#: Exit status after Ctrl-C, as a shell reports a process stopped by SIGINT.
INTERRUPTED = 130

EPILOG = examples(
    "flowspec train specs/realnvp_moons.yaml --data moons --steps 2000",
    "flowspec train my_flow.yaml -d digits --steps 500 --lr 3e-4 -o runs/digits.safetensors",
    "flowspec sample runs/realnvp-moons.safetensors -n 2000 -o samples.png",
    after="Ctrl-C stops training early: the model trained so far is saved to the "
    "checkpoint, and the exit status is 130.",
)


def _check_data(name: str) -> str:
    from flowspec.train.data import DATASETS

    if name not in DATASETS:
        hint = did_you_mean(name, DATASETS)
        raise typer.BadParameter(
            f"unknown data set '{name}'{f' ({hint})' if hint else ''}; available: "
            + ", ".join(DATASETS)
        )
    return name


def _check_lr(lr: float) -> float:
    if not (lr > 0 and math.isfinite(lr)):
        raise typer.BadParameter(f"the learning rate must be a positive number, got {lr}")
    return lr


def default_checkpoint(spec_name: str) -> Path:
    """``runs/<spec name>.safetensors``, the name made safe for a file system."""
    safe = re.sub(r"[^\w.-]+", "_", spec_name).strip("._") or "model"
    return Path("runs") / f"{safe}.safetensors"


def train(
    spec: Annotated[
        Path,
        typer.Argument(metavar="SPEC", help="The YAML spec file to train.", show_default=False),
    ],
    data: Annotated[
        str,
        typer.Option(
            "--data",
            "-d",
            metavar="NAME",
            callback=_check_data,
            help="Bundled data set to fit, generated locally, never downloaded: 2-D toys "
            "such as `moons`, or `digits` (8x8 images, 17 levels). An unknown name lists "
            "them all.",
            show_default=False,
        ),
    ],
    steps: Annotated[
        int, typer.Option("--steps", min=1, help="Number of Adam steps.", show_default=False)
    ],
    batch_size: Annotated[
        int, typer.Option("--batch-size", "-b", min=1, help="Examples per step.")
    ] = 256,
    lr: Annotated[
        float,
        typer.Option("--lr", callback=_check_lr, help="Initial learning rate (cosine decay to 0)."),
    ] = 1e-3,
    seed: Annotated[
        int,
        typer.Option("--seed", min=0, help="Seed of the initial weights, the data and the batches."),
    ] = 0,
    output: Annotated[
        Optional[Path],  # noqa: UP007 - typer reads the annotation
        typer.Option(
            "--output",
            "-o",
            metavar="CHECKPOINT",
            help="Where to save the trained model (safetensors, with its spec inside). "
            "Default: `runs/SPEC_NAME.safetensors`, after the spec's `name`.",
            show_default=False,
        ),
    ] = None,
    no_progress: Annotated[
        bool, typer.Option("--no-progress", help="Do not show the progress bar.")
    ] = False,
) -> None:
    """Train a spec on a bundled data set and save a checkpoint.

    Maximum likelihood with Adam. Prints the train and test negative log-likelihood in
    nats per example (and bits per dimension for discrete data), whether it is exact or
    a bound, and the checkpoint path. Exit 1 when the data set does not fit the spec
    (shape, levels, range) or training diverges.
    """
    import torch

    from flowspec.train.checkpoint import save_checkpoint
    from flowspec.train.data import check_compatible, load_dataset
    from flowspec.train.loop import TrainingDiverged, fit

    with user_errors():
        checked = flowspec.check(spec)
        path = output if output is not None else default_checkpoint(checked.graph.header.name)
        prepare_output(path)
    if path.is_dir() or not os.access(path.parent, os.W_OK):
        fail(f"cannot write the checkpoint '{path}': not a writable file location")
    missing = checked.graph.unavailable_log_prob()
    if missing:
        fail(
            f"cannot train by maximum likelihood: log_prob of data is unavailable, since "
            f"{', '.join(repr(n) for n in missing)} have no inference direction (W752); give "
            "planar nodes inverse: {method: bisection, tol: 1.0e-6, max_iter: 100}"
        )
    torch.manual_seed(seed)
    model = checked.build_model()
    dataset = load_dataset(data, seed=seed)
    problems = check_compatible(model, dataset)
    if problems:
        note(f"error: data set '{data}' does not fit spec '{spec}':", "bold red")
        for problem in problems:
            note(f"  - {problem}", "red")
        raise typer.Exit(1)

    meta = {"data": data, "steps": str(steps), "batch_size": str(batch_size), "lr": repr(lr),
            "seed": str(seed)}
    try:
        result = fit(
            model, dataset, steps=steps, batch_size=batch_size, lr=lr, seed=seed,
            progress=not no_progress,
        )
    except KeyboardInterrupt:
        note("interrupted: saving the model trained so far ...", "yellow")
        with user_errors():
            save_checkpoint(path, model, meta=meta | {"interrupted": "true"})
        note(f"saved the interrupted model to {path}", "yellow")
        raise typer.Exit(INTERRUPTED) from None
    except TrainingDiverged as error:
        fail(str(error))
    meta |= {"train_nll": repr(result.train_nll), "test_nll": repr(result.test_nll)}
    with user_errors():
        save_checkpoint(path, model, meta=meta)
    dims = math.prod(dataset.shape) if dataset.levels is not None else None
    _report(result, dims, checked, data, path)


def _report(
    result: FitResult, discrete_dims: int | None, checked: flowspec.CheckedSpec, data: str,
    path: Path,
) -> None:
    def nll(value: float) -> str:
        text = f"{value:.4f} nats"
        if discrete_dims is not None:
            text += f" ({value / (discrete_dims * math.log(2.0)):.4f} bits/dim)"
        return text

    console = out()
    lines = [
        f"trained {checked.graph.header.name} on {data} for {result.steps} steps "
        f"in {result.seconds:.1f} s",
        f"train NLL: {nll(result.train_nll)}",
        f"test NLL:  {nll(result.test_nll)}",
    ]
    for line in lines:
        console.print(Text(line), soft_wrap=True)
    from flowspec.graph.bookkeeping import bound_nodes, graph_likelihood_sentence

    bound = bound_nodes(checked.graph)
    sentence = graph_likelihood_sentence(checked.graph)
    if bound:
        sentence += "; the NLL above is an upper bound"
    style = "green" if checked.graph.exact else "yellow"
    console.print(Text(sentence, style=style), soft_wrap=True)
    console.print(Text(f"checkpoint: {path}"), soft_wrap=True)
