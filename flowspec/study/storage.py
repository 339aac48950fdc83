"""Where a study lives: an Optuna storage (a SQLite file, or any database URL Optuna
accepts), the plan every worker of the study follows, stored with it, and the grid points
queued once.

Workers share a study through its storage alone: each one, on any machine, opens the same
URL and study name. The first to create the study queues the grid (a sweep) and stores the
plan (spec, search space, settings, seeds, pruner) as the study's ``flowspec`` attribute;
the others wait for the plan and refuse to join a study with another plan. A worker takes
a trial by moving it from WAITING to RUNNING, which the storage does atomically: row locks
on server databases, and on SQLite every transaction begins IMMEDIATE (SQLite ignores
``SELECT ... FOR UPDATE``, and Optuna's read-then-write would let two workers take one
trial), so no grid point is trained twice. A trial whose worker stopped sending heartbeats
(every :data:`HEARTBEAT` s) for :data:`GRACE` s, or whose worker process on this machine
is gone, is marked failed and queued again with the same parameters (:func:`requeue`).

Optuna is an optional dependency (``pip install 'flowspec[studies]'``); :func:`optuna`
imports it or says how to install it.
"""

from __future__ import annotations

import json
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Literal

from flowspec.study.space import Axis

if TYPE_CHECKING:
    from optuna import Study
    from optuna.storages import RDBStorage
    from optuna.trial import FrozenTrial

__all__ = [
    "GRACE",
    "HEARTBEAT",
    "INSTALL",
    "Plan",
    "PlanMismatch",
    "StudiesUnavailable",
    "decode",
    "encode",
    "grid_space",
    "interrupted",
    "open_storage",
    "open_study",
    "optuna",
    "requeue",
    "sqlite_url",
]

INSTALL = "pip install 'flowspec[studies]'"
HEARTBEAT = 10
"""Seconds between a running trial's heartbeats."""
GRACE = 60
"""Seconds without a heartbeat after which a running trial's worker is taken for dead."""
PLAN_ATTRIBUTE = "flowspec"
_PLAN_WAIT = 60.0  # seconds a joining worker waits for the creator to store the plan
_SETUP_TRIES = 5  # attempts at opening a storage that other workers may be creating

Mode = Literal["grid", "search"]


class StudiesUnavailable(RuntimeError):
    """Optuna is not installed."""


class PlanMismatch(ValueError):
    """The study exists with another plan."""


def optuna() -> ModuleType:
    """The optuna module, quiet; :class:`StudiesUnavailable` naming the install command."""
    try:
        import optuna as module
    except ImportError:
        raise StudiesUnavailable(
            f"flowspec sweep and tune run on Optuna, which is not installed: {INSTALL} "
            "(or pip install optuna)"
        ) from None
    module.logging.set_verbosity(module.logging.WARNING)
    return module


def interrupted(trials: list[FrozenTrial]) -> set[int]:
    """The numbers of the trials whose worker was interrupted or died: marked so by their
    worker, or queued again (a retry names them in ``retry_of``)."""
    marked = {t.number for t in trials if t.user_attrs.get("interrupted")}
    return marked | {t.user_attrs["retry_of"] for t in trials if "retry_of" in t.user_attrs}


def sqlite_url(path: Path) -> str:
    """The storage URL of a SQLite file."""
    return f"sqlite:///{path}"


@dataclass(frozen=True)
class Plan:
    """What every worker of a study agrees on."""

    mode: Mode
    sampler: str
    spec_file: str
    spec_text: str
    axes: tuple[Axis, ...]
    settings: dict[str, Any]
    seeds: int
    pruner: str

    def to_json(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "sampler": self.sampler,
            "spec_file": self.spec_file,
            "spec_text": self.spec_text,
            "axes": [axis.to_json() for axis in self.axes],
            "settings": self.settings,
            "seeds": self.seeds,
            "pruner": self.pruner,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Plan:
        return cls(
            data["mode"],
            data["sampler"],
            data["spec_file"],
            data["spec_text"],
            tuple(Axis.from_json(a) for a in data["axes"]),
            data["settings"],
            data["seeds"],
            data["pruner"],
        )

    def differences(self, other: Plan) -> list[str]:
        """What differs between two plans, one phrase each (``steps: 20 there, 50 here``)."""
        mine, theirs = self.to_json(), other.to_json()
        found = []
        for key in mine:
            if key == "settings":
                found += [
                    f"{name}: {theirs[key].get(name)!r} there, {mine[key].get(name)!r} here"
                    for name in sorted(set(mine[key]) | set(theirs[key]))
                    if mine[key].get(name) != theirs[key].get(name)
                ]
            elif key == "axes" and mine[key] != theirs[key]:
                there = " ".join(a.describe() for a in other.axes)
                here = " ".join(a.describe() for a in self.axes)
                found.append(f"parameters: {there} there, {here} here")
            elif key == "spec_text" and mine[key] != theirs[key]:
                found.append("the spec's text")
            elif mine[key] != theirs[key]:
                found.append(f"{key}: {theirs[key]!r} there, {mine[key]!r} here")
        return found


# --- parameter values as Optuna stores them ---------------------------------------------


def _scalar(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


def encode(axis: Axis, value: Any) -> Any:
    """A value as an Optuna parameter: numbers and strings as they are, lists and mappings
    (``[64, 64]``, ``{kind: affine}``) as their one-line YAML, when the axis has any."""
    if axis.is_range or all(_scalar(c) for c in axis.choices):
        return value
    from flowspec.study.space import short

    return short(value)


def decode(axis: Axis, stored: Any) -> Any:
    """The spec value of a stored parameter (the inverse of :func:`encode`)."""
    if axis.is_range:
        return int(stored) if axis.integer else float(stored)
    by_code = {json.dumps(encode(axis, c)): c for c in axis.choices}
    return by_code[json.dumps(stored)]


def grid_space(axes: tuple[Axis, ...]) -> dict[str, list[Any]]:
    """The grid as Optuna's GridSampler takes it: each parameter's encoded values."""
    return {axis.name: [encode(axis, c) for c in axis.choices] for axis in axes}


# --- storage and study ----------------------------------------------------------------------


def _serialize_sqlite(storage: RDBStorage) -> None:
    """Make every transaction on a SQLite storage BEGIN IMMEDIATE: one writer at a time
    from its first read, so taking a waiting trial is atomic (SQLAlchemy's recipe for
    pysqlite: the driver's own BEGIN off, SQLAlchemy's on)."""
    from sqlalchemy import event

    engine = storage.engine

    @event.listens_for(engine, "connect")
    def _driver_begins_nothing(connection: Any, record: Any) -> None:
        connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    engine.dispose()  # connections opened while Optuna set the tables up go


def open_storage(url: str, grace: int = GRACE) -> RDBStorage:
    """An Optuna RDB storage at ``url`` with heartbeats, a running trial's worker taken for
    dead after ``grace`` seconds without one; a SQLite file's folder is made."""
    module = optuna()
    kwargs: dict[str, Any] = {}
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        kwargs = {"connect_args": {"timeout": 120}}
    from sqlalchemy.exc import SQLAlchemyError

    for attempt in range(_SETUP_TRIES):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", module.exceptions.ExperimentalWarning)
                storage = module.storages.RDBStorage(
                    url,
                    engine_kwargs=kwargs,
                    heartbeat_interval=HEARTBEAT,
                    grace_period=grace,
                    heartbeat_stale_trial_callback=requeue,
                )
            break
        except SQLAlchemyError:
            # Workers creating a new database at once: one sets its tables up, the
            # others' setup collides with it; the next try finds the tables there.
            if attempt == _SETUP_TRIES - 1:
                raise
            time.sleep(0.5 * (attempt + 1))
    if storage.engine.name == "sqlite":
        _serialize_sqlite(storage)
    return storage


def requeue(study: Study, trial: FrozenTrial) -> None:
    """Queue a failed trial's configuration again (the trial stays, marked failed): what
    happens to the running trial of an interrupted or dead worker."""
    module = optuna()
    fixed = trial.system_attrs.get("fixed_params") or dict(trial.params)
    if not fixed:  # a search trial stopped before choosing its values: nothing to repeat
        return
    kept = {k: v for k, v in trial.system_attrs.items() if k in ("grid_id", "search_space")}
    study.add_trial(
        module.trial.create_trial(
            state=module.trial.TrialState.WAITING,
            system_attrs=kept | {"fixed_params": fixed},
            user_attrs={"retry_of": trial.number},
        )
    )


def open_study(
    storage: RDBStorage, name: str, plan: Plan, grid: list[dict[str, Any]], seed: int
) -> Study:
    """The study ``name``: created with its plan (and its grid queued, for a sweep) by the
    first worker, joined by the others; :class:`PlanMismatch` when it has another plan."""
    from flowspec.study.samplers import pruner, sampler

    module = optuna()
    try:
        study = module.create_study(
            storage=storage, study_name=name, direction="minimize", pruner=pruner(plan)
        )
    except module.exceptions.DuplicatedStudyError:
        study = module.load_study(study_name=name, storage=storage, pruner=pruner(plan))
        stored = _wait_for_plan(study, name)
        differences = plan.differences(stored)
        if differences:
            raise PlanMismatch(
                f"study '{name}' was started with other settings ({'; '.join(differences)})"
            ) from None
    else:
        _queue_grid(study, plan, grid)
        study.set_user_attr(PLAN_ATTRIBUTE, plan.to_json())
    # A sampler seeded by the trials so far: a continued search does not repeat itself.
    study.sampler = sampler(plan, seed + len(study.get_trials(deepcopy=False)))
    return study


def _queue_grid(study: Study, plan: Plan, grid: list[dict[str, Any]]) -> None:
    if plan.mode != "grid":
        return
    module = optuna()
    by_name = {axis.name: axis for axis in plan.axes}
    space = dict(sorted(grid_space(plan.axes).items()))  # as GridSampler keeps it
    for index, values in enumerate(grid):
        fixed = {name: encode(by_name[name], value) for name, value in values.items()}
        study.add_trial(
            module.trial.create_trial(
                state=module.trial.TrialState.WAITING,
                system_attrs={"fixed_params": fixed, "grid_id": index, "search_space": space},
            )
        )


def _wait_for_plan(study: Study, name: str) -> Plan:
    deadline = time.monotonic() + _PLAN_WAIT
    while True:
        stored = study.user_attrs.get(PLAN_ATTRIBUTE)
        if stored is not None:
            return Plan.from_json(stored)
        if time.monotonic() > deadline:
            raise PlanMismatch(
                f"study '{name}' exists but holds no flowspec plan (not made by flowspec, or "
                "its first worker died while creating it): give another --study name"
            )
        time.sleep(0.5)
