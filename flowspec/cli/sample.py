"""``flowspec sample``: draw from a trained checkpoint into a plot and/or an array, and
draw its density and training curve.

torch and ``flowspec.train`` are imported only when this verb runs, so the other verbs
start fast.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from flowspec.cli._checkpoint import open_checkpoint, training_data
from flowspec.cli._files import atomic_write_bytes, check_suffix, refuse_overwriting
from flowspec.cli._help import examples
from flowspec.cli._output import fail, user_errors

if TYPE_CHECKING:
    import torch

    from flowspec.emit.runtime import FlowModel
    from flowspec.train.data import Dataset

__all__ = ["sample", "metrics_beside"]

PLOT_SUFFIXES = (".png", ".pdf", ".svg")
ARRAY_SUFFIX = ".npy"
_MOST_GROUPS = 6  # distinct context values sampled by default

EPILOG = examples(
    "flowspec sample runs/realnvp-moons.safetensors -n 2000 -o samples.png",
    "flowspec sample runs/realnvp-moons.safetensors -o s.png --density density.png --curve curve.png",
    "flowspec sample runs/realnvp-moons.safetensors -n 500 -o samples.npy --seed 1 --temperature 0.8",
    "flowspec sample runs/cond-moons.safetensors --context 0 --context 1 -o by_label.png",
    after="Temperature T scales the standard deviation of the base distributions' draws "
    "(each standard-normal draw eps becomes T * eps, as in Glow); T < 1 gives more typical, "
    "less diverse samples.",
)


def _check_output(path: Path | None) -> Path | None:
    return check_suffix(path, PLOT_SUFFIXES + (ARRAY_SUFFIX,))


def _check_npy(path: Path | None) -> Path | None:
    return check_suffix(path, (ARRAY_SUFFIX,))


def _check_plot(path: Path | None) -> Path | None:
    return check_suffix(path, PLOT_SUFFIXES)


def _check_temperature(value: float) -> float:
    if not value > 0 or value == float("inf"):
        raise typer.BadParameter(f"the temperature must be a positive number, got {value}")
    return value


def metrics_beside(checkpoint: Path) -> Path:
    """The metrics log ``flowspec train`` wrote beside a best or last checkpoint."""
    from flowspec.train.loop import RunFiles

    name = (
        checkpoint.name.replace(".last.", ".", 1)
        if ".last." in checkpoint.name
        else checkpoint.name
    )
    return RunFiles.beside(checkpoint.with_name(name)).metrics_jsonl


def _save_array(path: Path, samples: torch.Tensor) -> None:
    import numpy as np
    import torch

    samples = samples.detach().cpu()
    if samples.is_floating_point() and samples.dtype not in (
        torch.float16,
        torch.float32,
        torch.float64,
    ):
        samples = samples.float()  # a bfloat16 checkpoint's model: numpy has no bfloat16
    atomic_write_bytes(path, lambda file: np.save(file, samples.numpy()))


_Path = Path | None


def sample(
    checkpoint: Annotated[
        Path,
        typer.Argument(
            metavar="CHECKPOINT",
            help="A checkpoint written by 'flowspec train'.",
            show_default=False,
        ),
    ],
    n: Annotated[
        int,
        typer.Option(
            "-n",
            "--num-samples",
            min=1,
            help="How many samples to draw (per context value for conditional models).",
        ),
    ] = 1000,
    output: Annotated[
        _Path,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            callback=_check_output,
            help="A plot (.png, .pdf, .svg; drawn over the test split of the data the model was "
            "trained on, with a legend) or, ending in .npy, the array of samples only.",
            show_default=False,
        ),
    ] = None,
    npy: Annotated[
        _Path,
        typer.Option(
            "--npy",
            metavar="FILE.npy",
            callback=_check_npy,
            help="Also save the samples, shape [n, *event] (groups one after the other "
            "in --context order), as a NumPy array.",
            show_default=False,
        ),
    ] = None,
    temperature: Annotated[
        float,
        typer.Option(
            "--temperature",
            "-t",
            callback=_check_temperature,
            help="Scale of the base distributions' standard deviation.",
        ),
    ] = 1.0,
    context: Annotated[
        list[str] | None,  # noqa: UP007
        typer.Option(
            "--context",
            "-c",
            metavar="[NAME=]VALUES",
            help="Context of a conditional model, comma-separated numbers (the context "
            "input flattened), optionally named (label=1); repeat for several groups. "
            "Default: each distinct "
            "context value of the training data, when there are at most 6.",
            show_default=False,
        ),
    ] = None,
    density: Annotated[
        _Path,
        typer.Option(
            "--density",
            metavar="FILE",
            callback=_check_plot,
            help="Also draw the density as a heat map (2-D data; conditional models: one map "
            "per --context value), with the exact options of estimators, titled by what it "
            "shows.",
            show_default=False,
        ),
    ] = None,
    curve: Annotated[
        _Path,
        typer.Option(
            "--curve",
            metavar="FILE",
            callback=_check_plot,
            help="Also draw the training curve from the metrics log beside the checkpoint.",
            show_default=False,
        ),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed of the draws.")] = 0,
) -> None:
    """Draw samples from a trained checkpoint into a plot and/or an array.

    The checkpoint holds its spec, so no spec file is needed. Sampling is seeded and runs
    without gradients. Exit 1 when the checkpoint is missing, corrupt, or was not written
    by flowspec, or the context does not fit the model.
    """
    import torch

    from flowspec.train.sampling import temperature as at_temperature

    if output is None and npy is None and density is None and curve is None:
        raise typer.BadParameter(
            "give an output: -o FILE (.png, .pdf, .svg, .npy), --npy, --density or --curve"
        )
    refuse_overwriting(
        [output, npy, density, curve],
        {"checkpoint": checkpoint, "metrics log": metrics_beside(checkpoint)},
    )
    model, meta = open_checkpoint(checkpoint)
    dataset = training_data(model, meta, None, checkpoint)
    contexts = _contexts(model, context, dataset)
    torch.manual_seed(seed)
    groups: dict[str, torch.Tensor] = {}
    with torch.no_grad(), at_temperature(model, temperature):
        for label, row in contexts.items():
            named = {} if row is None else {model.CONTEXT_INPUTS[0]: row.expand(n, *row.shape)}
            drawn = model.sample(n, **named)
            if not isinstance(drawn, torch.Tensor):
                fail(
                    f"the model samples several data inputs ({', '.join(drawn)}); "
                    "'flowspec sample' writes models with a single data input"
                )
            groups[f"samples | {label}" if row is not None else "samples"] = drawn
    samples = torch.cat(list(groups.values()))
    written = []
    with user_errors():
        if output is not None and output.suffix.lower() == ARRAY_SUFFIX:
            _save_array(output, samples)
            written.append(output)
        elif output is not None:
            _plot(groups, output, model, dataset, temperature)
            written.append(output)
        if npy is not None:
            _save_array(npy, samples)
            written.append(npy)
        if density is not None:
            written.append(_density(model, density, dataset, contexts))
        if curve is not None:
            written.append(_curve(checkpoint, curve, model.SPEC_NAME))
    shape = list(samples.shape)
    for path in written:
        what = f" ({shape[0]} samples of shape {shape[1:]})" if path in (output, npy) else ""
        typer.echo(f"wrote {path}{what}")


def _contexts(model: FlowModel, given: list[str] | None, dataset: Dataset | None) -> dict:
    """Context values to draw at: label (``label=1``) -> one context row; for an
    unconditional model one group whose row is None."""
    import torch

    from flowspec.train.sampling import parse_context

    if not model.CONTEXT_INPUTS:
        if given:
            fail("the model is unconditional: it takes no --context")
        return {"": None}
    name = model.CONTEXT_INPUTS[0]
    shape = tuple(model.INPUT_SHAPES[name])
    if not given:
        known = dataset.context.get("train") if dataset is not None else None
        values = torch.unique(known.flatten(1), dim=0) if known is not None else None
        if values is None or len(values) > _MOST_GROUPS:
            fail(
                f"the model is conditional on '{name}' (shape {list(shape)}): give its values "
                "with --context, e.g. --context "
                + ",".join(["0"] * int(torch.tensor(shape).prod()))
            )
        given = [",".join(f"{float(v):g}" for v in row) for row in values]
    groups = {}
    for text in given:
        named, equals, values = text.partition("=")
        if equals and named.strip() != name:
            fail(f"--context {text}: the model's context input is '{name}', not '{named.strip()}'")
        values = values if equals else text
        try:
            groups[f"{name}={values}"] = parse_context(values, shape)
        except ValueError as error:
            fail(str(error))
    return groups


def _plot(
    groups: dict[str, torch.Tensor],
    output: Path,
    model: FlowModel,
    dataset: Dataset | None,
    temperature: float,
) -> None:
    from flowspec.train.plot import plot_samples

    first = next(iter(groups.values()))
    reference = None
    if dataset is not None and tuple(dataset.shape) == tuple(first.shape[1:]):
        reference = dataset.test
    trained_on = f" trained on {dataset.name}" if dataset is not None else ""
    at = f", temperature {temperature:g}" if temperature != 1 else ""
    each = " per context value" if len(groups) > 1 else ""
    title = f"{model.SPEC_NAME}{trained_on}: {len(first)} samples{each}{at}"
    label = f"{dataset.name} (test split)" if dataset is not None else "data"
    plot_samples(groups, output, data=reference, title=title, data_label=label)


def _density(model: FlowModel, path: Path, dataset: Dataset | None, contexts: dict) -> Path:
    """The density map over the test data's range (in the data's units; a square window
    holding both axes' ranges), one map per context value for conditional models; scored
    as ``flowspec eval`` scores (the exact options of estimated log-dets), titled by the
    class of what is drawn."""
    from flowspec.train.evaluate import for_evaluation
    from flowspec.train.plot import plot_density

    model, _ = for_evaluation(model)

    bounds = (-4.0, 4.0)
    if dataset is not None and dataset.shape == (2,):
        low, high = float(dataset.test.min()), float(dataset.test.max())
        pad = 0.1 * (high - low)
        bounds = (low - pad, high + pad)
    name = f"{model.SPEC_NAME} on {dataset.name}" if dataset is not None else model.SPEC_NAME
    given = {label: row for label, row in contexts.items() if row is not None}
    try:
        return plot_density(model, path, bounds=bounds, title=name, contexts=given or None)
    except ValueError as error:
        fail(str(error))


def _curve(checkpoint: Path, path: Path, name: str) -> Path:
    from flowspec.train.metrics import read_metrics
    from flowspec.train.plot import plot_curve

    log = metrics_beside(checkpoint)
    if not log.is_file():
        fail(f"no metrics log '{log}' beside the checkpoint (written by 'flowspec train')")
    try:
        return plot_curve(read_metrics(log), path, title=f"{name}: training curve")
    except ValueError as error:
        fail(f"'{log}': {error}")
