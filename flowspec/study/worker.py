"""A study's worker: take a trial, train its replicates, tell the study, until the
study's budget is spent; many workers, in processes or on machines, share one study.

Each turn the worker first marks the trials of dead workers failed and queues their
configurations again (:func:`recover`), then takes a trial: a sweep takes the next queued
grid point and stops when none is left; a search takes a queued trial or asks its sampler
for a new one, until ``trials`` trials count (complete, pruned, failed for a reason of
their own, or running). No trial starts after the ``deadline``. When there is nothing to
take but other workers' trials are running, the worker waits for them (a dead worker's
trial comes back to the queue), so every worker ends with the whole study done.

A trial's value is the mean validation NLL (nats per example) over its seeds; its user
attributes hold what the results table needs: the configuration, the parameter count,
each replicate's NLLs, steps, best step and seconds. Ctrl-C marks the running trial failed
(``interrupted``), queues its configuration again and raises: interrupting a worker loses
at most its running trial.
"""

from __future__ import annotations

import os
import socket
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from flowspec.diagnostics import SpecError
from flowspec.study.configs import Space
from flowspec.study.space import label
from flowspec.study.storage import (
    HEARTBEAT,
    Plan,
    decode,
    encode,
    interrupted,
    open_storage,
    optuna,
    requeue,
)

if TYPE_CHECKING:
    from optuna import Study
    from optuna.storages import RDBStorage
    from optuna.trial import Trial

__all__ = ["Budget", "counted", "recover", "work", "work_in_process"]

_POLL = 2.0  # seconds between looks at other workers' running trials


@dataclass(frozen=True)
class Budget:
    """When a worker stops taking trials: ``trials`` counted in the study (a search), or
    past ``deadline`` (``time.monotonic()``)."""

    trials: int | None = None
    deadline: float | None = None

    def out_of_time(self) -> bool:
        return self.deadline is not None and time.monotonic() > self.deadline


def _me() -> dict[str, Any]:
    return {"host": socket.gethostname(), "pid": os.getpid()}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def recover(study: Study) -> None:
    """Mark the running trials of dead workers failed and queue them again: workers
    silent for the grace period (any machine), and workers on this machine whose process
    is gone. Only one worker succeeds in marking a trial, so it is queued once."""
    module = optuna()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", module.exceptions.ExperimentalWarning)
        module.storages.fail_stale_trials(study)
    host = socket.gethostname()
    running = study.get_trials(deepcopy=False, states=(module.trial.TrialState.RUNNING,))
    for trial in running:
        worker = trial.user_attrs.get("worker") or {}
        if worker.get("host") != host or _alive(int(worker.get("pid", os.getpid()))):
            continue
        try:
            study._storage.set_trial_user_attr(trial._trial_id, "interrupted", True)
            marked = study._storage.set_trial_state_values(
                trial._trial_id, state=module.trial.TrialState.FAIL
            )
        except module.exceptions.UpdateFinishedTrialError:
            continue  # another worker marked it first
        if marked:
            requeue(study, study._storage.get_trial(trial._trial_id))


def counted(study: Study) -> int:
    """Trials that use a search's budget: all but the queued ones and those interrupted
    (whose configuration is queued again)."""
    states = optuna().trial.TrialState
    found = study.get_trials(deepcopy=False)
    lost = interrupted(found)
    return sum(1 for t in found if t.state != states.WAITING and t.number not in lost)


def _claim_queued(study: Study) -> Trial | None:
    """The first queued trial this worker could move to RUNNING, or None."""
    module = optuna()
    states = module.trial.TrialState
    for queued in study.get_trials(deepcopy=False, states=(states.WAITING,)):
        try:
            if study._storage.set_trial_state_values(queued._trial_id, state=states.RUNNING):
                return module.trial.Trial(study, queued._trial_id)
        except module.exceptions.UpdateFinishedTrialError:
            continue
    return None


def _next_trial(study: Study, plan: Plan, budget: Budget) -> Trial | None:
    if plan.mode == "grid":
        return _claim_queued(study)
    if budget.trials is not None and counted(study) >= budget.trials:
        return None
    with warnings.catch_warnings():  # heartbeats are recorded here, not by Study.optimize
        warnings.filterwarnings("ignore", message="Heartbeat of storage")
        return study.ask()


@contextmanager
def _heartbeat(study: Study, trial_id: int) -> Iterator[None]:
    """Record the trial's heartbeat now and every :data:`HEARTBEAT` seconds until done."""
    storage = cast("RDBStorage", study._storage)  # open_storage's: the only kind used here
    storage.record_heartbeat(trial_id)
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(HEARTBEAT):
            storage.record_heartbeat(trial_id)

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _values(trial: Trial, plan: Plan) -> dict[str, Any]:
    """The configuration of ``trial``: each axis's value, suggested (or fixed when queued)."""
    found = {}
    for axis in plan.axes:
        stored: Any
        if axis.is_range and axis.integer:
            stored = trial.suggest_int(axis.name, int(axis.low), int(axis.high), log=axis.log)
        elif axis.is_range:
            stored = trial.suggest_float(axis.name, axis.low, axis.high, log=axis.log)
        else:
            choices = [encode(axis, c) for c in axis.choices]
            stored = trial.suggest_categorical(axis.name, choices)
        found[axis.name] = decode(axis, stored)
    return found


def work(
    study: Study,
    plan: Plan,
    space: Space,
    folder: Path,
    budget: Budget,
    say: Callable[[str], None],
) -> int:
    """Run trials of ``study`` until its budget is spent (see the module doc); the number
    of trials this worker ran."""
    module = optuna()
    ran, waiting_said = 0, False
    while not budget.out_of_time():
        recover(study)
        trial = _next_trial(study, plan, budget)
        if trial is None:
            running = study.get_trials(deepcopy=False, states=(module.trial.TrialState.RUNNING,))
            if not running:
                break
            if not waiting_said:
                say(f"waiting for {len(running)} running trial(s) of other workers")
                waiting_said = True
            time.sleep(_POLL)
            continue
        waiting_said = False
        with _heartbeat(study, trial._trial_id):
            _run(study, trial, plan, space, folder, say)
        ran += 1
    return ran


def _run(
    study: Study, trial: Trial, plan: Plan, space: Space, folder: Path, say: Callable[[str], None]
) -> None:
    """Train one trial's replicates and tell the study how it went."""
    from flowspec.study.replicates import train_replicates
    from flowspec.train.files import DataError
    from flowspec.train.loop import TrainingDiverged

    states = optuna().trial.TrialState
    trial.set_user_attr("worker", _me())
    try:
        values = _values(trial, plan)
        trial.set_user_attr("configuration", label(values))
        say(f"trial {trial.number} started: {label(values)}")

        def report(step: int, val_nll: float) -> bool:
            trial.report(val_nll, step)
            return trial.should_prune()

        outcome = train_replicates(
            space, values, plan.settings, plan.seeds, folder, trial.number, report
        )
    except KeyboardInterrupt:
        _interrupted(study, trial)
        raise
    except (SpecError, DataError, TrainingDiverged, ValueError) as error:
        text = error.format() if isinstance(error, SpecError) else str(error)
        trial.set_user_attr("error", text)
        study.tell(trial, state=states.FAIL)
        say(f"trial {trial.number} failed: {text}")
        return
    except BaseException:
        study.tell(trial, state=states.FAIL)
        raise
    trial.set_user_attr("parameters", outcome.parameters)
    trial.set_user_attr("replicates", [r.to_json() for r in outcome.replicates])
    if outcome.pruned:
        study.tell(trial, state=states.PRUNED)
        say(f"trial {trial.number} pruned at step {outcome.replicates[0].steps}")
        return
    value = sum(r.val_nll for r in outcome.replicates) / len(outcome.replicates)
    study.tell(trial, value)
    say(
        f"trial {trial.number} done: validation NLL {value:.4f} nats (mean of {plan.seeds} seed(s))"
    )


def _interrupted(study: Study, trial: Trial) -> None:
    """Ctrl-C: the trial is marked failed and interrupted, and its configuration queued."""
    states = optuna().trial.TrialState
    trial.set_user_attr("interrupted", True)
    study.tell(trial, state=states.FAIL)
    requeue(study, study._storage.get_trial(trial._trial_id))


def work_in_process(
    url: str, name: str, plan_json: dict[str, Any], folder: str, budget: Budget
) -> int:
    """A worker process's body: open the study ``name`` at ``url`` and :func:`work` on it,
    reporting each trial on stderr; the space is rebuilt from the study's plan."""
    import sys

    from flowspec.spec.loader import load_spec_text
    from flowspec.study.samplers import pruner, sampler

    plan = Plan.from_json(plan_json)
    module = optuna()
    storage = open_storage(url)
    study = module.load_study(
        study_name=name, storage=storage, sampler=sampler(plan, os.getpid()), pruner=pruner(plan)
    )
    space = Space.of(load_spec_text(plan.spec_text, file=plan.spec_file), list(plan.axes))

    def say(message: str) -> None:
        print(f"[worker {os.getpid()}] {message}", file=sys.stderr, flush=True)

    try:
        return work(study, plan, space, Path(folder), budget, say)
    except KeyboardInterrupt:
        return 0
