"""What ``flowspec sweep`` and ``flowspec tune`` share: their common options, and a study
run from the spec and options to the results table and figures.

A run checks the spec, reads and resolves ``--set``/``--search`` against it and checks
every configuration before any trial starts (errors located in the user's spec); opens or
joins the Optuna study (a SQLite file in the output folder by default); trains with this
process and ``--workers - 1`` more until the study's budget is spent; then writes the
results of the whole study (every worker's trials) and prints them.
"""

from __future__ import annotations

import math
import multiprocessing
import re
import time
from dataclasses import dataclass, fields
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

import flowspec
from flowspec.cli._files import atomic_write_text, refuse_overwriting
from flowspec.cli._output import fail, note, out, user_errors
from flowspec.cli.train import INTERRUPTED, default_checkpoint

if TYPE_CHECKING:
    from optuna import Study

    from flowspec.spec.training import setting_problems
    from flowspec.study.configs import Space
    from flowspec.study.results import Row
    from flowspec.study.storage import Plan

__all__ = ["Pruner", "StudyOptions", "run_study"]


class Pruner(str, Enum):
    none = "none"
    median = "median"
    halving = "halving"


_Int = int | None
_Float = float | None
_Text = str | None
_Path = Path | None

SpecArgument = Annotated[
    Path, typer.Argument(metavar="SPEC", help="The YAML spec to vary.", show_default=False)
]
SetOption = Annotated[
    list[str] | None,
    typer.Option(
        "--set",
        "-s",
        metavar="PATH=V1,V2",
        help="A spec field and its values (YAML; commas inside brackets do not split); "
        "repeat for more parameters.",
        show_default=False,
    ),
]
DataOption = Annotated[
    _Text,
    typer.Option(
        "--data",
        "-d",
        metavar="NAME|FILE",
        help="Data set or file (default: the spec's train settings).",
        show_default=False,
    ),
]
StepsOption = Annotated[
    _Int, typer.Option("--steps", min=1, help="Steps per run.", show_default=False)
]
ConfigOption = Annotated[
    _Path,
    typer.Option(
        "--config", metavar="FILE.yaml", help="Training settings file.", show_default=False
    ),
]
SeedOption = Annotated[
    _Int,
    typer.Option("--seed", min=0, help="The first seed. [default: 0]", show_default=False),
]
SeedsOption = Annotated[
    int,
    typer.Option(
        "--seeds",
        min=1,
        help="Replicates: train every configuration with seeds S, S+1, ..., and report "
        "the mean and standard deviation of its NLLs.",
    ),
]
WorkersOption = Annotated[
    _Int,
    typer.Option(
        "--workers",
        "-j",
        min=1,
        help="Worker processes on this machine (one thread each), this one included; start "
        "the same command elsewhere with the same --storage and --study for more. "
        "[default: number of CPUs]",
        show_default=False,
    ),
]
OutputOption = Annotated[
    _Path,
    typer.Option(
        "--output",
        "-o",
        metavar="FOLDER",
        help="Where the study's database (by default), runs, table and figures go. "
        "[default: runs/KIND-SPEC_NAME]",
        show_default=False,
    ),
]
StorageOption = Annotated[
    _Text,
    typer.Option(
        "--storage",
        metavar="URL",
        help="Any database URL Optuna accepts (postgresql://..., mysql://..., "
        "sqlite:///file.db) for workers on several machines. [default: sqlite:///FOLDER/study.db]",
        show_default=False,
    ),
]
StudyOption = Annotated[
    _Text,
    typer.Option(
        "--study",
        metavar="NAME",
        help="The study's name in the storage. [default: KIND-SPEC_NAME]",
        show_default=False,
    ),
]
DryRunOption = Annotated[
    bool,
    typer.Option(
        "--dry-run",
        help="Check the spec and every configuration, print the plan, and train nothing.",
    ),
]
TimeLimitOption = Annotated[
    _Float,
    typer.Option(
        "--time-limit",
        metavar="SECONDS",
        min=0.0,
        help="Start no trial after this many seconds (running trials finish).",
        show_default=False,
    ),
]


@dataclass(frozen=True)
class StudyOptions:
    """The options of one ``sweep`` or ``tune`` command."""

    kind: str  # "sweep" or "tune"
    spec: Path
    sets: list[str] | None
    data: str | None
    steps: int | None
    config: Path | None
    seed: int | None
    seeds: int
    workers: int | None
    output: Path | None
    storage: str | None
    study: str | None
    pruner: str
    time_limit: float | None
    dry_run: bool = False
    searches: list[str] | None = None
    sampler: str = "grid"
    trials: int | None = None

    @classmethod
    def of(cls, kind: str, parameters: dict[str, Any]) -> StudyOptions:
        """The options of command ``kind`` from its parameters (``locals()``), choices
        as their values."""
        names = {f.name for f in fields(cls)}
        given = {k: v.value if isinstance(v, Enum) else v for k, v in parameters.items()}
        return cls(kind=kind, **{k: v for k, v in given.items() if k in names})


def run_study(options: StudyOptions) -> None:
    """Check, run and report a study (see the module doc)."""
    from pydantic import ValidationError

    from flowspec.study.configs import Space
    from flowspec.study.space import SpaceError, parse_search, parse_set
    from flowspec.study.storage import (
        Plan,
        PlanMismatch,
        StudiesUnavailable,
        open_storage,
        open_study,
        optuna,
        sqlite_url,
    )
    from flowspec.train.settings import load_config, merge_settings

    with user_errors():
        loaded = flowspec.load(options.spec)
        checked = flowspec.check(loaded)
        file_settings = load_config(options.config) if options.config is not None else None
    try:
        axes = [parse_set(t) for t in options.sets or []]
        axes += [parse_search(t) for t in options.searches or []]
    except SpaceError as error:
        fail(str(error), code=2)
    if not axes:
        fail(
            "nothing to vary: give --set PATH=V1,V2"
            + (" or --search" if options.kind == "tune" else ""),
            2,
        )
    try:
        with user_errors():
            space = Space.of(loaded, axes)
            grid = space.grid() if options.kind == "sweep" else []
            space.check(grid or space.corners())
    except ValueError as error:
        fail(str(error), code=2)
    try:
        settings = merge_settings(
            checked.graph.header.train,
            file_settings,
            {"data": options.data, "steps": options.steps, "seed": options.seed},
        )
    except ValidationError as error:
        problems = "; ".join(
            f"--{name.replace('_', '-')}: {message}" if name else message
            for name, message in setting_problems(error)
        )
        fail(f"invalid training settings: {problems}", code=2)
    if settings.data is None:
        fail("no data to train on: give --data NAME or FILE, or data: in the train settings")
    name = checked.graph.header.name
    folder = options.output or default_checkpoint(f"{options.kind}-{name}").with_suffix("")
    _refuse_overwriting_inputs(options, folder, settings.data)
    try:
        optuna()
    except StudiesUnavailable as error:
        fail(str(error))
    url = options.storage or sqlite_url(folder / "study.db")
    study_name = options.study or f"{options.kind}-{default_checkpoint(name).stem}"
    plan = Plan(
        mode="grid" if options.kind == "sweep" else "search",
        sampler="grid" if options.kind == "sweep" else options.sampler,
        spec_file=str(options.spec),
        spec_text=loaded.text,
        axes=tuple(axes),
        settings=settings.model_dump(mode="json"),
        seeds=options.seeds,
        pruner=options.pruner,
    )
    if options.dry_run:
        configurations = f"{len(grid)} configurations" if grid else "a search space"
        note(
            f"dry run: {configurations} of {name} checked; {plan.seeds} seed(s) each would "
            f"train on {settings.data} in study '{study_name}' ({url}); nothing trained"
        )
        return
    with user_errors():
        folder.mkdir(parents=True, exist_ok=True)
    try:
        storage = open_storage(url)
        study = open_study(storage, study_name, plan, grid, settings.seed)
    except PlanMismatch as error:
        fail(
            f"{error}; continue it with the same command, give another --study NAME, or "
            f"delete it (optuna delete-study --storage {url} --study-name {study_name})"
        )
    _train(options, study, plan, space, folder, url, study_name, len(grid))
    _report(study, plan, folder, url, study_name)


#: The files a study writes into its folder, besides each run's checkpoints and metrics
#: (``trialNNN.seedI.safetensors`` and their siblings: :data:`RUN_FILE`).
STUDY_FILES = ("study.db", "results.csv", "replicates.csv", "parameters.png", "cost.png")
RUN_FILE = re.compile(r"trial\d+\.seed\d+\.")


def _refuse_overwriting_inputs(options: StudyOptions, folder: Path, data: str) -> None:
    """Refuse (exit 2) an output folder where the study would write over the spec, the
    settings file or the data file it reads."""
    inputs = {"spec": options.spec, "settings file": options.config, "data file": Path(data)}
    runs = [
        path
        for path in inputs.values()
        if path is not None
        and path.parent.resolve() == folder.resolve()
        and RUN_FILE.match(path.name)
    ]
    outputs = [folder / name for name in STUDY_FILES if name != "study.db" or not options.storage]
    refuse_overwriting([*outputs, *runs], inputs)


def _budget(options: StudyOptions) -> tuple[int | None, float | None]:
    """The study's trial budget (a tune without --trials or --time-limit: 20) and the
    deadline for starting trials."""
    trials = options.trials
    if options.kind == "tune" and trials is None and options.time_limit is None:
        trials = 20
    deadline = time.monotonic() + options.time_limit if options.time_limit is not None else None
    return trials, deadline


def _train(
    options: StudyOptions,
    study: Study,
    plan: Plan,
    space: Space,
    folder: Path,
    url: str,
    name: str,
    points: int,
) -> None:
    """Work on the study in this process and ``workers - 1`` spawned ones."""
    from flowspec.study.worker import Budget, work, work_in_process

    trials, deadline = _budget(options)
    budget = Budget(trials=trials, deadline=deadline)
    cap = points if plan.mode == "grid" else (trials or math.inf)
    workers = int(min(options.workers or multiprocessing.cpu_count(), max(cap, 1)))
    what = (
        f"a grid of {points} points" if plan.mode == "grid" else f"{trials or 'unlimited'} trials"
    )
    note(
        f"study '{name}' in {url}: {what}, {plan.seeds} seed(s) each; "
        f"{workers} worker process{'es' if workers > 1 else ''} here"
    )
    context = multiprocessing.get_context("spawn")
    children = [
        context.Process(
            target=work_in_process, args=(url, name, plan.to_json(), str(folder), budget)
        )
        for _ in range(workers - 1)
    ]
    for child in children:
        child.start()
    try:
        work(study, plan, space, folder, budget, lambda message: note(message))
        for child in children:
            child.join()
    except KeyboardInterrupt:
        for child in children:
            child.join()
        note(
            "interrupted: the running trial was marked failed and queued again; run the same "
            "command to continue the study",
            "yellow",
        )
        raise typer.Exit(INTERRUPTED) from None


def _report(study: Study, plan: Plan, folder: Path, url: str, name: str) -> None:
    from flowspec.study.figures import cost_figure, parameter_figure
    from flowspec.study.results import replicates_csv, results_csv, study_rows
    from flowspec.study.storage import optuna
    from flowspec.train.canvas import save_figure

    rows = study_rows(study, plan)
    queued = len(study.get_trials(deepcopy=False, states=(optuna().trial.TrialState.WAITING,)))
    still = f"{queued} trial(s) still queued: run the same command to train them"
    if not rows:
        fail("the study has no finished trial yet" + (f"; {still}" if queued else ""))
    with user_errors():
        atomic_write_text(folder / "results.csv", results_csv(rows, plan))
        atomic_write_text(folder / "replicates.csv", replicates_csv(rows, plan))
        axes = list(plan.axes)
        save_figure(parameter_figure(axes, rows, name, plan.seeds), folder / "parameters.png")
        save_figure(cost_figure(rows, name, plan.seeds), folder / "cost.png")
    for row in rows:
        if row.error:
            note(f"trial {row.number} failed: {row.error}", "red")
    _print_table(rows, plan)
    console = out()
    console.print(
        Text(
            f"wrote {folder / 'results.csv'}, replicates.csv, parameters.png and cost.png; "
            f"see the study with: optuna-dashboard {url}"
        ),
        soft_wrap=True,
    )
    if queued:
        note(still, "yellow")
    if all(row.state == "failed" for row in rows):
        raise typer.Exit(1)


def _plus_minus(stat: tuple[float, float]) -> str:
    mean, spread = stat
    if not math.isfinite(mean):
        return "-"
    return f"{mean:.4f}" + (f" ± {spread:.4f}" if math.isfinite(spread) else "")


def _print_table(rows: list[Row], plan: Plan) -> None:
    from flowspec.study.figures import number
    from flowspec.study.results import figure_name, figure_notes

    names = [axis.name for axis in plan.axes]
    discrete = any(row.bits is not None for row in rows)
    spread = (
        f"mean ± sample standard deviation over {plan.seeds} seeds"
        if plan.seeds > 1
        else "one seed"
    )
    what = figure_name(rows)
    table = Table(
        title=f"{what} in nats per example of each run's best weights ({spread}); lower is better"
    )
    columns = ["trial", *names, "parameters", "s/run", "best/last step", "converged"]
    columns += [f"val {what}", f"test {what}", *(["test bits/dim"] if discrete else [])]
    columns += ["state"]
    for column in columns:
        table.add_column(column, justify="right")
    finished = [r for r in rows if r.finished and math.isfinite(r.val[0])]
    best = min(finished, key=lambda r: r.val[0], default=None)
    for row in rows:
        converged = row.converged
        done = sum(converged)
        cells = [str(row.number), *(number(row.values.get(n)) for n in names)]
        cells += [
            f"{row.parameters:,}" if row.parameters else "-",
            f"{row.seconds:.1f}" if row.replicates else "-",
            " ".join(f"{r['best_step']}/{r['steps']}" for r in row.replicates) or "-",
            (
                "yes"
                if done == len(converged)
                else "no"
                if done == 0
                else f"{done} of {len(converged)}"
            )
            if converged and row.finished
            else "-",
            _plus_minus(row.val),
            _plus_minus(row.test),
        ]
        if discrete:
            cells.append(_plus_minus(row.bits) if row.bits else "-")
        cells.append(row.state)
        table.add_row(*cells, style="bold green" if row is best else None)
    out().print(table)
    for line in figure_notes(rows):
        out().print(Text(line), soft_wrap=True)
