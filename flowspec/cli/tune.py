"""``flowspec tune``: search spec settings (ranges and choices) with TPE or random search
as an Optuna study shared by any number of worker processes or machines, pruning
unpromising runs, within a budget of trials or time; then tabulate and plot."""

from __future__ import annotations

from enum import Enum
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

__all__ = ["tune"]

EPILOG = examples(
    "flowspec tune specs/realnvp_moons.yaml -d moons --steps 2000 --search lr=log:1e-4:1e-2 "
    "--search body.repeat=int:2:12 --set net.hidden=[32,32],[64,64],[128,128] --trials 30",
    "flowspec tune spec.yaml -d moons --search step.net.activation=relu,tanh,silu "
    "--time-limit 1200 --seeds 2",
    "flowspec tune spec.yaml -d moons --search lr=log:1e-4:1e-2 --storage "
    "postgresql://host/db --study lr    # the same command on each machine",
    after="--search PATH=RANGE takes log:LOW:HIGH, float:LOW:HIGH, int:LOW:HIGH, "
    "logint:LOW:HIGH or a list of values; --set PATH=V1,V2 a list of values. PATH as in "
    "flowspec sweep. The objective is the mean validation NLL over the seeds; the pruner "
    "reads the first seed's validations. --trials counts the study's trials (all workers); "
    "without --trials or --time-limit a tune runs 20. Running the same command again "
    "continues the study. Needs Optuna: pip install 'flowspec[studies]'.",
)


class Sampler(str, Enum):
    tpe = "tpe"
    random = "random"


def tune(
    spec: SpecArgument,
    searches: Annotated[
        list[str] | None,
        typer.Option(
            "--search",
            metavar="PATH=RANGE",
            help="A spec field and its range (log:1e-4:1e-2, int:2:16, float:0:0.5, "
            "logint:16:256) or values (relu,tanh); repeat for more.",
            show_default=False,
        ),
    ] = None,
    sets: SetOption = None,
    trials: Annotated[
        int | None,
        typer.Option(
            "--trials",
            "-n",
            min=1,
            help="Trials of the whole study (all workers). [default: 20, or none with "
            "--time-limit]",
            show_default=False,
        ),
    ] = None,
    time_limit: TimeLimitOption = None,
    dry_run: DryRunOption = False,
    sampler: Annotated[
        Sampler, typer.Option("--sampler", help="TPE (model-based) or random search.")
    ] = Sampler.tpe,
    pruner: Annotated[
        Pruner,
        typer.Option(
            "--pruner",
            help="median: stop a run worse than the median of earlier trials at the same "
            "step; halving: successive halving.",
        ),
    ] = Pruner.median,
    data: DataOption = None,
    steps: StepsOption = None,
    config: ConfigOption = None,
    seed: SeedOption = None,
    seeds: SeedsOption = 1,
    workers: WorkersOption = None,
    output: OutputOption = None,
    storage: StorageOption = None,
    study: StudyOption = None,
) -> None:
    """Search spec and training settings for the lowest validation NLL.

    Ranges and choices are checked against the spec before any trial starts (both ends
    of every range, every choice; errors located in your spec file). Each trial trains a
    configuration once per seed and reports its validation NLLs to the pruner. Prints the
    table of every trial (NLLs in nats per example, mean and standard deviation over
    seeds, parameter count, time, best step, convergence) and draws NLL against each
    parameter, size and time. Exit 1 when a path matches nothing or a value does not
    check, 130 on Ctrl-C.
    """
    run_study(StudyOptions.of("tune", locals()))
