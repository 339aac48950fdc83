"""``flowspec eval``: score a checkpoint on its test split or on a data file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from flowspec.cli._by_node import by_node_json, by_node_lines
from flowspec.cli._checkpoint import open_checkpoint, training_data
from flowspec.cli._help import examples
from flowspec.cli._output import fail, out
from flowspec.spec.training import EVAL_SEED

if TYPE_CHECKING:
    from flowspec.emit.runtime import FlowModel
    from flowspec.train.baseline import Baseline
    from flowspec.train.evaluate import Evaluation

__all__ = ["eval_"]

EPILOG = examples(
    "flowspec eval runs/realnvp-moons.safetensors",
    "flowspec eval runs/digits-dequant.safetensors --k 128",
    "flowspec eval runs/mine.safetensors --data held_out.npz --json",
    "flowspec eval runs/vflow-moons.safetensors --by-node   # where the bits go",
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
            "--k",
            min=1,
            help="Samples of the importance-weighted bound (models whose log_prob is a lower "
            "bound from draws only).",
        ),
    ] = 64,
    draws: Annotated[
        int,
        typer.Option(
            "--draws",
            min=1,
            help="Draws of the stochastic nodes averaged per example (models whose "
            "log_prob draws noise only); 1 gives the figures 'flowspec train' printed.",
        ),
    ] = 1,
    seed: Annotated[
        int,
        typer.Option("--seed", min=0, help="Seed of the stochastic nodes' draws."),
    ] = EVAL_SEED,
    by_node: Annotated[
        bool,
        typer.Option(
            "--by-node",
            help="Also each node's mean term of log p(x) (nats and bits/dim, with standard "
            "errors, summing to the total), and for bounds each stochastic node's -log q.",
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Score a checkpoint: its NLL on the test split or a data file.

    Estimated log-dets are scored with their exact or low-variance option where one exists
    (residual: logdet exact, CNF: trace exact, for small D; more probes otherwise), and the
    output says which. Then, by the likelihood class of what is scored: the exact NLL (or
    exact to the solver's tolerance, which is named); the mean of an unbiased estimate; for
    models whose log_prob is a lower bound from draws, the negative ELBO and the tighter
    negative importance-weighted bound with k samples (both upper bounds on the NLL); for a
    bound that draws nothing (a density whose mass on the data's values is below one, W501,
    W800), the deterministic NLL upper bound, once. In nats per example, bits per dimension
    for discrete data, each with its standard error over the examples. Figures of models
    whose log_prob draws noise use --draws draws per example on generators seeded by
    --seed: with the defaults, the figures 'flowspec train' printed.
    Next to them, the NLL of the same examples under a trivial baseline fitted on the data
    set's training split (a full-covariance Gaussian, or independent per-dimension
    categoricals for discrete data), in the same units.

    Exit 1 when the checkpoint or the data cannot be read or do not fit.
    """
    import torch

    from flowspec.train.baseline import fit_baseline
    from flowspec.train.by_node import by_node as node_terms
    from flowspec.train.data import SPLITS, Split
    from flowspec.train.evaluate import evaluate, for_evaluation

    model, meta = open_checkpoint(checkpoint)
    scored, changed = for_evaluation(model)
    dataset = training_data(model, meta, data, checkpoint)
    if dataset is None:
        fail(f"checkpoint '{checkpoint}' names no data set: give --data NAME or FILE")
    split, which = dataset.split("test"), "test split"
    if data is not None and Path(data).suffix:
        parts = [dataset.split(name) for name in SPLITS]
        contexts = [p.context for p in parts if p.context is not None]
        context = torch.cat(contexts) if dataset.context else None
        split, which = Split(torch.cat([p.x for p in parts]), context), "all rows"
    scores = evaluate(
        scored, split, discrete=dataset.levels is not None, k=k, draws=draws, seed=seed
    )
    terms = node_terms(scored, split, draws=draws, seed=seed) if by_node else None
    baseline = fit_baseline(dataset, split.x)
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "checkpoint": str(checkpoint),
                    "data": dataset.name,
                    "split": which,
                    "likelihood": model.likelihood,
                    "verdict": model.verdict,
                    "evaluated_with": changed,
                    "units": "nats per example",
                    **scores.__dict__,
                    "baseline": baseline.to_json(),
                    **({"by_node": by_node_json(terms)} if terms is not None else {}),
                },
                indent=2,
            )
        )
        return
    console = out()
    lines = _lines(model, scored, changed, scores, baseline, dataset.name, which)
    if terms is not None:
        lines += by_node_lines(terms, which, scores.iwbo_nll)
    for line in lines:
        console.print(Text(line), soft_wrap=True)


def _lines(
    model: FlowModel,
    scored: FlowModel,
    changed: list[str],
    scores: Evaluation,
    baseline: Baseline,
    data: str,
    which: str,
) -> list[str]:
    """The report: what was scored, what log_prob is, then each figure named by the class
    of what computed it, and the baseline's NLL of the same examples."""
    from flowspec.graph.verdict import verdict

    lines = [f"{model.SPEC_NAME} on {data} ({which}, {scores.n} examples)", model.verdict]
    if changed:
        said = verdict(scored.checked.graph)
        lines.append("scored with the exact or low-variance options: " + "; ".join(changed))
        lines.append(f"the scored model's {said.sentence}")
    lines.append(
        f"{scores.figure}: {_figure(scores.nll, scores.stderr, scores.bits_per_dim)} "
        f"({scores.note})"
    )
    if scores.iwbo_nll is not None:
        lines.append(
            f"-IWBO, k={scores.k}: {_figure(scores.iwbo_nll, None, scores.iwbo_bits_per_dim)} "
            f"(an upper bound on the NLL, tighter as k grows; k draws per example, evaluation "
            f"seed {scores.seed})"
        )
    lines.append(
        f"baseline: {_figure(baseline.nll, baseline.standard_error, baseline.bits_per_dim)}, "
        f"the NLL of the {baseline.describe()}"
    )
    if scores.stderr is not None:
        lines.append(f"±: one standard error of the mean over the {scores.n} examples")
    return lines


def _figure(value: float, stderr: float | None, bits: float | None) -> str:
    spread = f" ± {stderr:.4f}" if stderr is not None else ""
    text = f"{value:.4f}{spread} nats"
    if bits is not None:
        ratio = bits / value if value else 0.0
        spread_bits = f" ± {stderr * ratio:.4f}" if stderr is not None else ""
        text += f" ({bits:.4f}{spread_bits} bits/dim)"
    return text
