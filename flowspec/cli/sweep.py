"""``flowspec sweep``: train every combination of spec settings (a grid) as trials of an
Optuna study that any number of worker processes or machines share, then tabulate and
plot the validation and test NLLs."""

from __future__ import annotations

from typing import Annotated

import typer

from flowspec.cli._help import examples
from flowspec.cli._study import (
    ConfigOption,
    DataOption,
    DryRunOption,
    OutputOption,
    Pruner,
    SeedOption,
    SeedsOption,
    SetOption,
    SpecArgument,
    StepsOption,
    StorageOption,
    StudyOption,
    StudyOptions,
    TimeLimitOption,
    WorkersOption,
    run_study,
)

__all__ = ["sweep"]

EPILOG = examples(
    "flowspec sweep specs/realnvp_moons.yaml --data moons --steps 1000 "
    "--set net.hidden=[32],[64],[128] --set body.repeat=4,8 --seeds 3",
    "flowspec sweep specs/realnvp_moons.yaml -d moons --set train.lr=1e-3,3e-3 --workers 2",
    "flowspec sweep spec.yaml -d moons --set body.repeat=2,4,8 --storage postgresql://host/db "
    "--study repeats    # the same command on each machine",
    after="PATH is a node id (body.repeat), a block name (step.net.hidden, every entry of the "
    "block that has it), train (train.lr), a field set wherever it is (net.hidden) or a "
    "training setting (lr). Every grid point is queued once in the study (a SQLite file in "
    "the output folder unless --storage says otherwise) and trained by exactly one worker; "
    "running the same command again continues the study (a trial interrupted with its "
    "worker is queued again). Writes each run's checkpoint and metrics, results.csv, "
    "replicates.csv, parameters.png and cost.png to the output folder. Needs Optuna: "
    "pip install 'flowspec[studies]'.",
)


def sweep(
    spec: SpecArgument,
    sets: SetOption = None,
    data: DataOption = None,
    steps: StepsOption = None,
    config: ConfigOption = None,
    seed: SeedOption = None,
    seeds: SeedsOption = 1,
    workers: WorkersOption = None,
    output: OutputOption = None,
    storage: StorageOption = None,
    study: StudyOption = None,
    pruner: Annotated[
        Pruner,
        typer.Option("--pruner", help="Stop unpromising runs early (none trains every point)."),
    ] = Pruner.none,
    time_limit: TimeLimitOption = None,
    dry_run: DryRunOption = False,
) -> None:
    """Train every combination of the --set values and compare their NLLs.

    Every combination is checked like a spec of its own before any trial starts (a bad
    value is reported at its place in your spec file), then trained as a trial of an
    Optuna study, once per seed, keeping each run's best checkpoint. Prints a table of
    validation and test NLL (mean and standard deviation over seeds, in nats per example;
    bits/dim for discrete data), parameter counts, time, best step and convergence per
    combination, and draws NLL against each parameter, size and time. Exit 1 when a
    --set matches nothing or a combination does not check, 130 on Ctrl-C.
    """
    run_study(StudyOptions.of("sweep", locals()))
