"""Studies shared by worker processes: two ``flowspec sweep`` processes on one study
complete a grid with no point trained twice; a worker interrupted with Ctrl-C (or killed)
loses only its running trial, which a restarted worker trains; a search through ``tune``
with replicates; pruning stops a configuration's runs."""

from __future__ import annotations

import csv
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import optuna
import pytest
from train_specs import TINY_MOONS
from typer.testing import CliRunner

import flowspec
from flowspec.cli import app
from flowspec.spec.loader import load_spec_text
from flowspec.study.configs import Space
from flowspec.study.replicates import train_replicates
from flowspec.study.space import parse_set

ROOT = Path(__file__).resolve().parent.parent

SPEC = TINY_MOONS + "train: {val_every: VAL, batch_size: 64}\n"


def sweep_command(spec: Path, folder: Path, steps: int, *sets: str) -> list[str]:
    command = [sys.executable, "-m", "flowspec", "sweep", str(spec), "-d", "moons"]
    command += ["--steps", str(steps), "--workers", "1", "-o", str(folder)]
    for assignment in sets:
        command += ["--set", assignment]
    return command


def start(command: list[str]) -> subprocess.Popen:
    """A worker as a user's shell starts one. Ctrl-C must reach it as KeyboardInterrupt:
    pytest-xdist's workers ignore SIGINT, and an ignored signal stays ignored across exec
    (Python then installs no handler), so the child gets the default disposition back."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    return subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )


def finish(process: subprocess.Popen, timeout: float = 300) -> tuple[int, str]:
    _, stderr = process.communicate(timeout=timeout)
    return process.returncode, stderr.decode()


def trials(folder: Path, name: str = "sweep-tiny-moons") -> list[optuna.trial.FrozenTrial]:
    study = optuna.load_study(study_name=name, storage=f"sqlite:///{folder / 'study.db'}")
    return study.get_trials(deepcopy=False)


def by_state(found: list, state: optuna.trial.TrialState) -> list:
    return [t for t in found if t.state == state]


def test_two_workers_complete_a_grid_with_no_point_trained_twice(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC.replace("VAL", "10"))
    folder = tmp_path / "study"
    command = sweep_command(spec, folder, 20, "body.repeat=1,2", "net.hidden=[4],[8],[16]")
    workers = [start(command), start(command)]
    results = [finish(worker) for worker in workers]
    assert [code for code, _ in results] == [0, 0], results
    found = trials(folder)
    complete = by_state(found, optuna.trial.TrialState.COMPLETE)
    assert len(found) == len(complete) == 6  # nothing else was ever started
    points = {(t.params["body.repeat"], t.params["net.hidden"]) for t in complete}
    assert points == {(r, h) for r in (1, 2) for h in ("[4]", "[8]", "[16]")}
    pids = {t.user_attrs["worker"]["pid"] for t in complete}
    assert pids <= {w.pid for w in workers}
    assert len(list(folder.glob("trial*.seed0.safetensors"))) == 6
    rows = list(csv.DictReader((folder / "results.csv").open()))
    assert sorted(int(r["trial"]) for r in rows) == [t.number for t in complete]


def wait_for_a_trial_in_training(folder: Path, process: subprocess.Popen) -> None:
    """Until some running trial has reported a validation (it is inside fit). The study's
    SQLite file is read directly, read-only: ``optuna.load_study`` creates missing tables
    (racing the worker that is creating them) and takes long enough under load for a short
    trial to finish between two polls."""
    database = folder / "study.db"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        assert process.poll() is None, finish(process)
        if database.is_file():
            try:
                with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as db:
                    (reported,) = db.execute(
                        "SELECT COUNT(*) FROM trial_intermediate_values AS v "
                        "JOIN trials AS t ON v.trial_id = t.trial_id WHERE t.state = 'RUNNING'"
                    ).fetchone()
            except sqlite3.OperationalError:
                reported = 0  # the worker is creating the study's tables
            if reported:
                return
        time.sleep(0.05)
    raise AssertionError("no trial reached its first validation in time")


def test_an_interrupted_or_killed_worker_loses_only_its_running_trial(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC.replace("VAL", "20"))
    folder = tmp_path / "study"
    command = sweep_command(spec, folder, 600, "net.hidden=[4],[8],[16]")
    worker = start(command)
    wait_for_a_trial_in_training(folder, worker)
    worker.send_signal(signal.SIGINT)  # Ctrl-C
    code, stderr = finish(worker)
    assert code == 130 and "run the same command to continue" in stderr, stderr
    found = trials(folder)
    (interrupted,) = by_state(found, optuna.trial.TrialState.FAIL)
    assert interrupted.user_attrs["interrupted"] is True
    (retry,) = [t for t in found if t.user_attrs.get("retry_of") == interrupted.number]
    assert retry.state == optuna.trial.TrialState.WAITING
    assert retry.system_attrs["fixed_params"] == interrupted.params
    assert not by_state(found, optuna.trial.TrialState.RUNNING)
    done_before = {t.number for t in by_state(found, optuna.trial.TrialState.COMPLETE)}

    worker = start(command)  # killed outright: its trial stays RUNNING, its process is gone
    wait_for_a_trial_in_training(folder, worker)
    worker.kill()
    worker.communicate()
    assert by_state(trials(folder), optuna.trial.TrialState.RUNNING)

    code, stderr = finish(start(command))  # a restarted worker finishes the study
    assert code == 0, stderr
    found = trials(folder)
    complete = by_state(found, optuna.trial.TrialState.COMPLETE)
    assert sorted(t.params["net.hidden"] for t in complete) == ["[16]", "[4]", "[8]"]
    assert done_before <= {t.number for t in complete}  # finished trials were kept
    failed = by_state(found, optuna.trial.TrialState.FAIL)
    assert len(failed) == 2 and all(t.user_attrs["interrupted"] for t in failed)
    assert not by_state(found, optuna.trial.TrialState.RUNNING)
    assert not by_state(found, optuna.trial.TrialState.WAITING)
    rows = list(csv.DictReader((folder / "results.csv").open()))
    assert len(rows) == 3  # interrupted trials are not results


def test_tune_searches_ranges_with_replicates_and_continues_its_study(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC.replace("VAL", "10"))
    folder = tmp_path / "tune"
    command = ["tune", str(spec), "-d", "moons", "--steps", "20", "--workers", "1"]
    command += ["-o", str(folder), "--search", "lr=log:1e-3:1e-2", "--set", "net.hidden=[4],[8]"]
    command += ["--seeds", "2", "--pruner", "none", "--trials", "1"]
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 0, result.output
    assert "mean ± sample standard deviation over 2 seeds" in result.stdout
    # the figures are named by the class of what scored them, in the table and the CSVs
    assert "val NLL" in result.stdout and "NLL: exact" in result.stdout
    more = CliRunner().invoke(app, [*command[:-1], "2"])  # the same study, a larger budget
    assert more.exit_code == 0, more.output
    found = trials(folder, "tune-tiny-moons")
    assert len(found) == 2 and all(1e-3 <= t.params["lr"] <= 1e-2 for t in found)
    for trial in found:
        runs = trial.user_attrs["replicates"]
        assert [r["seed"] for r in runs] == [0, 1]
        assert trial.value == pytest.approx((runs[0]["val_nll"] + runs[1]["val_nll"]) / 2)
    per_run = list(csv.DictReader((folder / "replicates.csv").open()))
    assert len(per_run) == 4 and {r["seed"] for r in per_run} == {"0", "1"}
    assert {(r["figure"], r["figure_is"]) for r in per_run} == {("NLL", "exact")}
    assert {r["figure"] for r in csv.DictReader((folder / "results.csv").open())} == {"NLL"}
    other = CliRunner().invoke(app, [*command[:5], "30", *command[6:]])  # other steps
    assert other.exit_code == 1 and "steps: 20 there, 30 here" in other.stderr


def test_a_pruned_configuration_trains_no_further_seed(tmp_path):
    loaded = load_spec_text(SPEC.replace("VAL", "5"), file="s.yaml")
    space = Space.of(loaded, [parse_set("net.hidden=[4]")])
    reported: list[int] = []

    def prune_at_second(step: int, val_nll: float) -> bool:
        reported.append(step)
        return len(reported) == 2

    settings = flowspec.check(loaded).graph.header.train.model_dump(exclude_unset=True)
    outcome = train_replicates(
        space,
        {"net.hidden": [4]},
        settings | {"data": "moons", "steps": 40},
        3,
        tmp_path,
        0,
        prune_at_second,
    )
    assert outcome.pruned and reported == [5, 10]
    (run,) = outcome.replicates  # seeds 1 and 2 never trained
    assert run.stop_reason == "pruned" and run.steps == 10 and run.seed == 0
    assert outcome.parameters == sum(
        p.numel() for p in flowspec.compile(space.spec_text({"net.hidden": [4]})).parameters()
    )


@pytest.mark.filterwarnings("ignore:Heartbeat of storage")
def test_a_silent_workers_trial_is_marked_and_queued_again(tmp_path):
    """A worker on another machine that stopped sending heartbeats (here after 1 s)."""
    from flowspec.study.storage import open_storage
    from flowspec.study.worker import recover

    storage = open_storage(f"sqlite:///{tmp_path / 'study.db'}", grace=1)
    study = optuna.create_study(storage=storage, study_name="s")
    trial = study.ask()
    trial.suggest_int("body.repeat", 1, 8)
    trial.set_user_attr("worker", {"host": "another-machine", "pid": 1})
    storage.record_heartbeat(trial._trial_id)
    recover(study)
    assert study.trials[0].state == optuna.trial.TrialState.RUNNING  # still beating
    time.sleep(2.5)
    recover(study)
    recover(study)  # a second look queues nothing more
    failed, retry = study.trials
    assert failed.state == optuna.trial.TrialState.FAIL
    assert retry.state == optuna.trial.TrialState.WAITING
    assert retry.system_attrs["fixed_params"] == failed.params
    assert retry.user_attrs["retry_of"] == failed.number


def test_no_trial_starts_after_the_time_limit_and_the_grid_stays_queued(tmp_path):
    spec = tmp_path / "s.yaml"
    spec.write_text(SPEC.replace("VAL", "10"))
    folder = tmp_path / "study"
    command = ["sweep", str(spec), "-d", "moons", "--steps", "20", "--workers", "1"]
    command += ["-o", str(folder), "--set", "body.repeat=1,2", "--time-limit", "0"]
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 1 and "no finished trial" in result.stderr
    assert "2 trial(s) still queued" in result.stderr
    found = trials(folder)
    assert len(found) == 2 and by_state(found, optuna.trial.TrialState.WAITING) == found
