"""A study's results: one row per configuration with its replicates aggregated, from the
trials of the Optuna study (all workers' trials), written as CSV.

NLLs are mean ``-log_prob`` in nats per example of each run's best weights (lowest
validation NLL); a configuration's NLL is the mean over its seeds and its spread the
sample standard deviation (``n - 1`` in the denominator; none with one seed). A run has
converged when its best validation came before its last step: a best step equal to the
last step means it was still improving when it stopped. Pruned trials keep the NLLs of
their first seed where it was stopped; trials interrupted with their worker are left out
(their configuration was queued again).

Example::

    >>> rows = study_rows(study, plan)                     # doctest: +SKIP
    >>> write_results(rows, plan, "runs/tune-x/results.csv")   # doctest: +SKIP
"""

from __future__ import annotations

import csv
import io
import json
import math
import statistics
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from flowspec.study.storage import Plan, decode, interrupted

if TYPE_CHECKING:
    from optuna import Study

__all__ = [
    "Row",
    "figure_name",
    "figure_notes",
    "mean_and_std",
    "replicates_csv",
    "results_csv",
    "study_rows",
]


def mean_and_std(values: list[float]) -> tuple[float, float]:
    """The mean and the sample standard deviation (NaN for fewer than two values)."""
    if not values:
        return math.nan, math.nan
    spread = statistics.stdev(values) if len(values) > 1 else math.nan
    return statistics.fmean(values), spread


@dataclass
class Row:
    """One configuration: its trial number and state, its values by parameter name, its
    parameter count and its replicates (dicts of seed, val_nll, test_nll, bits_per_dim,
    steps, best_step, seconds, stop_reason, checkpoint)."""

    number: int
    state: str
    values: dict[str, Any]
    parameters: int | None = None
    replicates: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None

    def _stat(self, key: str) -> tuple[float, float]:
        return mean_and_std([r[key] for r in self.replicates if r.get(key) is not None])

    @property
    def val(self) -> tuple[float, float]:
        return self._stat("val_nll")

    @property
    def test(self) -> tuple[float, float]:
        return self._stat("test_nll")

    @property
    def bits(self) -> tuple[float, float] | None:
        if not any(r.get("bits_per_dim") is not None for r in self.replicates):
            return None
        return self._stat("bits_per_dim")

    @property
    def seconds(self) -> float:
        """Mean training seconds of one run."""
        return self._stat("seconds")[0]

    @property
    def converged(self) -> list[bool]:
        """For each replicate: whether its best step came before its last step."""
        return [r["best_step"] < r["steps"] for r in self.replicates]

    @property
    def finished(self) -> bool:
        return self.state == "complete"


def figure_name(rows: list[Row]) -> str:
    """What the runs' NLLs are called: "NLL", "-ELBO", or both joined when configurations
    differ in class (a swept setting can change it)."""
    names = sorted({r.get("figure", "NLL") for row in rows for r in row.replicates})
    return " or ".join(names) or "NLL"


def figure_notes(rows: list[Row]) -> list[str]:
    """One line per kind of figure the runs give: its name and what it is."""
    found = {
        (r.get("figure", "NLL"), r.get("figure_is", "exact"))
        for row in rows
        for r in row.replicates
    }
    return [f"{name}: {meaning}" for name, meaning in sorted(found)]


def study_rows(study: Study, plan: Plan) -> list[Row]:
    """The rows of every complete, pruned or failed trial of ``study``, by trial number
    (interrupted trials, queued again, are left out)."""
    from flowspec.study.storage import optuna

    states = optuna().trial.TrialState
    names = {states.COMPLETE: "complete", states.PRUNED: "pruned", states.FAIL: "failed"}
    rows = []
    found = study.get_trials(deepcopy=False)
    lost = interrupted(found)
    for trial in found:
        if trial.state not in names or trial.number in lost:
            continue
        values = {
            axis.name: decode(axis, trial.params[axis.name])
            for axis in plan.axes
            if axis.name in trial.params
        }
        rows.append(
            Row(
                number=trial.number,
                state=names[trial.state],
                values=values,
                parameters=trial.user_attrs.get("parameters"),
                replicates=list(trial.user_attrs.get("replicates", [])),
                error=trial.user_attrs.get("error"),
            )
        )
    return rows


def _cell(value: Any) -> Any:
    return json.dumps(value) if isinstance(value, (list, dict)) else value


def results_csv(rows: list[Row], plan: Plan) -> str:
    """One line per configuration: trial, state, each parameter, parameter count, mean
    seconds per run, best and last steps of each seed, converged seeds, mean and standard
    deviation of the validation and test NLL (nats per example; bits/dim when discrete) and
    what they are (``figure``: "NLL", "-ELBO")."""
    names = [axis.name for axis in plan.axes]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(
        [
            "trial",
            "state",
            *names,
            "parameters",
            "seconds_per_run",
            "best_step",
            "steps",
            "converged",
            "seeds",
            "val_nll_mean",
            "val_nll_std",
            "test_nll_mean",
            "test_nll_std",
            "test_bits_per_dim_mean",
            "test_bits_per_dim_std",
            "figure",
            "error",
        ]
    )
    for row in rows:
        bits = row.bits or (None, None)
        writer.writerow(
            [
                row.number,
                row.state,
                *(_cell(row.values.get(n)) for n in names),
                row.parameters,
                round(row.seconds, 3) if row.replicates else None,
                json.dumps([r["best_step"] for r in row.replicates]),
                json.dumps([r["steps"] for r in row.replicates]),
                sum(row.converged),
                len(row.replicates),
                *row.val,
                *row.test,
                *bits,
                figure_name([row]) if row.replicates else None,
                row.error,
            ]
        )
    return buffer.getvalue()


def replicates_csv(rows: list[Row], plan: Plan) -> str:
    """One line per run (configuration and seed): its NLLs, steps, seconds and checkpoint."""
    names = [axis.name for axis in plan.axes]
    keys = ["seed", "figure", "val_nll", "test_nll", "bits_per_dim", "steps", "best_step"]
    keys += ["seconds", "figure_is"]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["trial", *names, *keys, "stop_reason", "checkpoint"])
    for row in rows:
        for run in row.replicates:
            writer.writerow(
                [
                    row.number,
                    *(_cell(row.values.get(n)) for n in names),
                    *(run.get(k) for k in keys),
                    run.get("stop_reason"),
                    run.get("checkpoint"),
                ]
            )
    return buffer.getvalue()
