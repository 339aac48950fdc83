"""``flowspec sample``: draw from a trained checkpoint into a plot and/or an array.

``flowspec.train`` is imported only when this verb runs, so the other verbs start fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Optional

import typer

from flowspec.cli._files import atomic_write_bytes, check_suffix
from flowspec.cli._help import examples
from flowspec.cli._output import fail, user_errors

if TYPE_CHECKING:  # torch and numpy are imported when the command runs
    import torch

__all__ = ["sample"]

PLOT_SUFFIXES = (".png", ".pdf", ".svg")
ARRAY_SUFFIX = ".npy"

EPILOG = examples(
    "flowspec sample runs/realnvp-moons.safetensors -n 2000 -o samples.png",
    "flowspec sample runs/realnvp-moons.safetensors -n 2000 -o samples.png --npy samples.npy",
    "flowspec sample runs/realnvp-moons.safetensors -n 500 -o samples.npy --seed 1",
)


def _check_output(path: Path | None) -> Path | None:
    return check_suffix(path, PLOT_SUFFIXES + (ARRAY_SUFFIX,))


def _check_npy(path: Path | None) -> Path | None:
    return check_suffix(path, (ARRAY_SUFFIX,))


def _save_array(path: Path, samples: torch.Tensor) -> None:
    import numpy as np

    atomic_write_bytes(path, lambda file: np.save(file, samples.cpu().numpy()))


def sample(
    checkpoint: Annotated[
        Path,
        typer.Argument(
            metavar="CHECKPOINT", help="A checkpoint written by 'flowspec train'.", show_default=False
        ),
    ],
    n: Annotated[
        int, typer.Option("-n", "--num-samples", min=1, help="How many samples to draw.")
    ] = 1000,
    output: Annotated[
        Optional[Path],  # noqa: UP007 - typer reads the annotation
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            callback=_check_output,
            help="A plot (.png, .pdf, .svg; drawn over the training data when the checkpoint "
            "names a bundled data set) or, ending in .npy, the array of samples only.",
            show_default=False,
        ),
    ] = None,
    npy: Annotated[
        Optional[Path],  # noqa: UP007 - typer reads the annotation
        typer.Option(
            "--npy",
            metavar="FILE.npy",
            callback=_check_npy,
            help="Also save the samples, shape [n, *event], as a NumPy array.",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed of the draws.")] = 0,
) -> None:
    """Draw samples from a trained checkpoint into a plot and/or an array.

    The checkpoint holds its spec, so no spec file is needed. Sampling is seeded and runs
    without gradients. Exit 1 when the checkpoint is missing, corrupt, or was not written
    by flowspec.
    """
    import torch

    from flowspec.train.checkpoint import CheckpointError, load_checkpoint
    from flowspec.train.plot import plot_samples

    if output is None and npy is None:
        raise typer.BadParameter("give an output: -o FILE (.png, .pdf, .svg, .npy) and/or --npy")
    try:
        model, meta = load_checkpoint(checkpoint)
    except CheckpointError as error:
        fail(str(error))
    if model.CONTEXT_INPUTS:
        fail(
            f"the model is conditional (context inputs {', '.join(model.CONTEXT_INPUTS)}); "
            "sample it from Python with model.sample(n, **context)"
        )
    torch.manual_seed(seed)
    with torch.no_grad():
        samples = model.sample(n)
    if not isinstance(samples, torch.Tensor):
        fail(
            f"the model samples several data inputs ({', '.join(samples)}); "
            "'flowspec sample' writes models with a single data input"
        )
    written = []
    with user_errors():
        if output is not None and output.suffix.lower() == ARRAY_SUFFIX:
            _save_array(output, samples)
            written.append(output)
        elif output is not None:
            title = f"{model.SPEC_NAME}: {n} samples"
            plot_samples(samples, output, data=_reference(meta, samples), title=title)
            written.append(output)
        if npy is not None:
            _save_array(npy, samples)
            written.append(npy)
    shape = list(samples.shape)
    for path in written:
        typer.echo(f"wrote {path} ({shape[0]} samples of shape {shape[1:]})")


def _reference(meta: dict[str, str], samples: torch.Tensor) -> torch.Tensor | None:
    """The test split of the data set the model was trained on, if it is a bundled one
    with events of the samples' shape."""
    from flowspec.train.data import DATASETS, load_dataset

    info = DATASETS.get(meta.get("data", ""))
    if info is None or tuple(info.shape) != tuple(samples.shape[1:]):
        return None
    return load_dataset(info.name, n_train=1).test
