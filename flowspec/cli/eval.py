"""``flowspec eval``: score a checkpoint on its test split or on a data file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.text import Text

from flowspec.cli._checkpoint import open_checkpoint, training_data
from flowspec.cli._help import examples
from flowspec.cli._output import fail, out

__all__ = ["eval_"]

EPILOG = examples(
    "flowspec eval runs/realnvp-moons.safetensors",
    "flowspec eval runs/digits-dequant.safetensors --k 128",
    "flowspec eval runs/mine.safetensors --data held_out.npz --json",
    after="Without --data, the test split of the data set the checkpoint was trained on "
    "(regenerated with the same seed). With a data file, every row of it.",
)


def eval_(
    checkpoint: Annotated[
        Path,
        typer.Argument(
            metavar="CHECKPOINT",
            help="A checkpoint written by 'flowspec train'.",
            show_default=False,
        ),
    ],
    data: Annotated[
        str | None,  # noqa: UP007 - typer reads the annotation
        typer.Option(
            "--data",
            "-d",
            metavar="NAME|FILE",
            help="A bundled data set (its test split) or a data file (all its rows).",
            show_default=False,
        ),
    ] = None,
    k: Annotated[
        int,
        typer.Option(
            "--k", min=1, help="Samples of the importance-weighted bound (bound models only)."
        ),
    ] = 64,
    seed: Annotated[
        int, typer.Option("--seed", min=0, help="Seed of the stochastic nodes' draws.")
    ] = 0,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Score a checkpoint: its NLL on the test split or a data file.

    NLL in nats per example, bits per dimension for discrete data and, for models whose
    log_prob is a bound, the importance-weighted bound with k samples (tighter, closer to
    the true NLL); next to it the NLL of the same examples under a trivial baseline fitted
    on the data set's training split (a full-covariance Gaussian, or independent
    per-dimension categoricals for discrete data). Estimated log-dets are scored with their exact or
    low-variance option where one exists (residual: logdet exact, CNF: trace exact, for
    small D; more probes otherwise), and the output says which.

    Exit 1 when the checkpoint or the data cannot be read or do not fit.
    """
    import torch

    from flowspec.train.baseline import fit_baseline
    from flowspec.train.data import SPLITS, Split
    from flowspec.train.evaluate import evaluate, for_evaluation

    model, meta = open_checkpoint(checkpoint)
    model, changed = for_evaluation(model)
    dataset = training_data(model, meta, data, checkpoint)
    if dataset is None:
        fail(f"checkpoint '{checkpoint}' names no data set: give --data NAME or FILE")
    split, which = dataset.split("test"), "test split"
    if data is not None and Path(data).suffix:
        parts = [dataset.split(name) for name in SPLITS]
        context = None if not dataset.context else torch.cat([p.context for p in parts])
        split, which = Split(torch.cat([p.x for p in parts]), context), "all rows"
    torch.manual_seed(seed)
    scores = evaluate(model, split, discrete=dataset.levels is not None, k=k)
    baseline = fit_baseline(dataset, split.x)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "checkpoint": str(checkpoint),
                    "data": dataset.name,
                    "split": which,
                    "likelihood": model.likelihood,
                    "evaluated_with": changed,
                    **scores.__dict__,
                    "baseline": baseline.to_json(),
                },
                indent=2,
            )
        )
        return
    lines = [f"{model.SPEC_NAME} on {dataset.name} ({which}, {scores.n} examples)"]
    if changed:
        lines.append("scored with the exact or low-variance options: " + "; ".join(changed))
    likelihood = model.likelihood  # "exact", "lower bound", "unbiased estimate", ...
    article = "" if likelihood.startswith("exact") else "an " if likelihood[0] in "aeiou" else "a "
    lines.append(f"log_prob is {article}{likelihood}")
    kind = "NLL" if scores.exact else "NLL bound (-ELBO, one sample)"
    lines.append(f"{kind}: {scores.nll:.4f} nats" + _bits(scores.bits_per_dim))
    if scores.iwbo_nll is not None:
        lines.append(
            f"NLL bound (-IWBO, k={scores.k}): {scores.iwbo_nll:.4f} nats"
            + _bits(scores.iwbo_bits_per_dim)
        )
    lines.append(
        f"baseline: {baseline.nll:.4f} nats" + _bits(baseline.bits_per_dim) + ", the NLL of a "
        f"{baseline.describe()}"
    )
    console = out()
    for line in lines:
        console.print(Text(line), soft_wrap=True)


def _bits(value: float | None) -> str:
    return f" ({value:.4f} bits/dim)" if value is not None else ""
