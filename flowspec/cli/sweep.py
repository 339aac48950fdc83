"""``flowspec sweep``: train every combination of spec settings in parallel worker
processes, then tabulate and plot validation and test NLL per parameter."""

from __future__ import annotations

import csv
import json
import math
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

import flowspec
from flowspec.cli._help import examples
from flowspec.cli._output import fail, note, out, user_errors

__all__ = ["sweep"]

EPILOG = examples(
    "flowspec sweep specs/realnvp_moons.yaml --data moons --steps 1000 "
    "--set net.hidden=[32],[64],[128] --set body.repeat=4,8",
    "flowspec sweep specs/realnvp_moons.yaml -d moons --set train.lr=1e-3,3e-3 --workers 2",
    after="PATH is a node id (body.repeat), a block name (step.net.hidden, every node of the "
    "block), train (train.lr) or a field set in every node that has it (net.hidden). Writes "
    "each combination's checkpoint and metrics, sweep.csv and sweep.png to the output folder.",
)


def sweep(
    spec: Annotated[
        Path, typer.Argument(metavar="SPEC", help="The YAML spec to vary.", show_default=False)
    ],
    assignments: Annotated[
        list[str],
        typer.Option(
            "--set",
            "-s",
            metavar="PATH=V1,V2",
            help="A field and its values (YAML); "
            "repeat for more parameters (every combination is trained).",
            show_default=False,
        ),
    ],
    data: Annotated[
        str | None,  # noqa: UP007 - typer reads the annotations
        typer.Option(
            "--data",
            "-d",
            metavar="NAME|FILE",
            help="Data set or file (default: the spec's train settings).",
            show_default=False,
        ),
    ] = None,
    steps: Annotated[
        int | None,
        typer.Option(
            "--steps",
            min=1,
            show_default=False,  # noqa: UP007
            help="Steps per combination.",
        ),
    ] = None,
    config: Annotated[
        Path | None,  # noqa: UP007
        typer.Option(
            "--config", metavar="FILE.yaml", help="Training settings file.", show_default=False
        ),
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", min=0, show_default=False)] = None,  # noqa: UP007
    workers: Annotated[
        int | None,  # noqa: UP007
        typer.Option(
            "--workers",
            "-j",
            min=1,
            help="Worker processes (one thread each; 1 "
            "trains in this process). [default: number of CPUs]",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        Path | None,  # noqa: UP007
        typer.Option(
            "--output",
            "-o",
            metavar="FOLDER",
            help="Where the runs, table and figure go. [default: runs/sweep-SPEC_NAME]",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Train every combination of the --set values and compare their NLLs.

    Every combination is checked like a spec of its own (a bad value is reported with its
    location), then trained in a worker process with the same settings and data, keeping
    its best checkpoint. Prints a table of validation and test NLL (bits/dim for discrete
    data) per combination and draws them against each parameter. Exit 1 when a --set
    matches nothing or a combination does not check.
    """
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    from pydantic import ValidationError

    from flowspec.cli.train import default_checkpoint
    from flowspec.spec.loader import load_spec_text
    from flowspec.train.plot import plot_sweep
    from flowspec.train.settings import load_config, merge_settings
    from flowspec.train.sweep import SweepError, combinations, parse_assignment, run_one

    with user_errors():
        base = flowspec.check(spec)
        file_settings = load_config(config) if config is not None else None
    try:
        axes = [parse_assignment(text) for text in assignments]
        trials = combinations(base.loaded.data, axes)
    except SweepError as error:
        fail(str(error))
    folder = output or default_checkpoint(f"sweep-{base.graph.header.name}").with_suffix("")
    jobs = []
    for index, (values, text) in enumerate(trials):
        with user_errors():
            checked = flowspec.check(load_spec_text(text, file=f"{spec} [{_label(values)}]"))
        swept = {k.split(".", 1)[1]: v for k, v in values.items() if k.startswith("train.")}
        try:
            settings = merge_settings(
                checked.graph.header.train,
                file_settings,
                {"data": data, "steps": steps, "seed": seed},
                swept,
            )
        except ValidationError as error:
            fail(
                f"combination {_label(values)}: invalid training settings: {error.errors()[0]['msg']}"
            )
        if settings.data is None:
            fail("no data to train on: give --data NAME or FILE, or data: in the train settings")
        checkpoint = folder / f"trial{index:03d}.safetensors"
        jobs.append((values, text, settings.model_dump(), str(checkpoint)))
    folder.mkdir(parents=True, exist_ok=True)
    count = min(workers or os.cpu_count() or 1, len(jobs))
    note(
        f"training {len(jobs)} combinations on {count} worker process{'es' if count > 1 else ''} ..."
    )
    if count == 1:  # no process to start: train in this one
        results = [run_one(*job) for job in jobs]
    else:
        with ProcessPoolExecutor(max_workers=count, mp_context=get_context("spawn")) as pool:
            results = list(pool.map(run_one, *zip(*jobs, strict=True)))
    for trial in results:
        if trial.error is not None:
            note(f"combination {_label(trial.values)} failed: {trial.error}", "red")
    names = [axis.name for axis in axes]
    rows = [
        {
            **{n: t.values[n] for n in names},
            "val_nll": t.val_nll,
            "test_nll": t.test_nll,
            "bits_per_dim": t.bits_per_dim,
            "best_step": t.best_step,
            "steps": t.steps,
            "seconds": round(t.seconds, 2),
            "checkpoint": t.checkpoint,
        }
        for t in results
    ]
    _write_csv(folder / "sweep.csv", rows)
    figure = plot_sweep(names, rows, folder / "sweep.png", title=f"{base.graph.header.name}: sweep")
    _print_table(names, rows)
    out().print(Text(f"wrote {folder / 'sweep.csv'} and {figure}"), soft_wrap=True)
    if all(t.error is not None for t in results):
        raise typer.Exit(1)


def _label(values: dict) -> str:
    return ", ".join(f"{k}={json.dumps(v)}" for k, v in values.items())


def _write_csv(path: Path, rows: list[dict]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(
            {k: json.dumps(v) if isinstance(v, (list, dict)) else v for k, v in row.items()}
            for row in rows
        )


def _print_table(names: list[str], rows: list[dict]) -> None:
    discrete = any(row["bits_per_dim"] is not None for row in rows)
    table = Table(title="sweep (NLL in nats per example; lower is better)")
    for name in [
        *names,
        "val NLL",
        "test NLL",
        *(["test bits/dim"] if discrete else []),
        "best step",
        "s",
    ]:
        table.add_column(name, justify="right")
    best = min((r["val_nll"] for r in rows if math.isfinite(r["val_nll"])), default=None)
    for row in rows:
        cells = [json.dumps(row[n]) for n in names]
        cells += [f"{row['val_nll']:.4f}", f"{row['test_nll']:.4f}"]
        if discrete:
            cells.append(f"{row['bits_per_dim']:.4f}" if row["bits_per_dim"] is not None else "-")
        cells += [str(row["best_step"]), f"{row['seconds']:.1f}"]
        table.add_row(*cells, style="bold green" if row["val_nll"] == best else None)
    out().print(table)
