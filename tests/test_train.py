"""Training side: data sets and files, settings, the fit loop (validation, early stopping,
exact resume, divergence), checkpoints, evaluation, temperature and plots."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from safetensors.torch import save_file
from sklearn.datasets import make_moons, make_s_curve
from train_specs import CONDITIONAL as CONDITIONAL_SPEC
from train_specs import DIGITS
from train_specs import MOONS as MOONS_SPEC

import flowspec
from flowspec.spec.training import BUNDLED_DATA, TrainSettings
from flowspec.train import (
    DATASETS,
    CheckpointError,
    DataError,
    RunFiles,
    Split,
    TrainingDiverged,
    TrainingInterrupted,
    check_compatible,
    evaluate_nll,
    fit,
    load_checkpoint,
    load_dataset,
    plot_density,
    plot_samples,
    resolve_data,
    save_checkpoint,
)
from flowspec.train.checkpoint import load_training_state
from flowspec.train.evaluate import evaluate
from flowspec.train.loop import learning_rate
from flowspec.train.metrics import read_metrics
from flowspec.train.plot import plot_curve
from flowspec.train.sampling import parse_context, temperature

DIGITS_SPEC = DIGITS.replace("levels: 17", "levels: LEVELS")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def moons():
    return load_dataset("moons", n_train=2000, n_test=1000, seed=0, n_val=500)


@pytest.fixture(scope="module")
def small_digits():
    return load_dataset("digits", n_train=256, n_test=64, n_val=64)


@pytest.fixture(scope="module")
def trained(moons, tmp_path_factory):
    """A moons model before and after a short fit: (model, nll before, result, messages, files)."""
    torch.manual_seed(0)
    model = flowspec.compile(MOONS_SPEC)
    before = evaluate_nll(model, moons.test)
    messages: list[str] = []
    files = RunFiles.beside(tmp_path_factory.mktemp("fit") / "moons.safetensors")
    settings = TrainSettings(steps=200, batch_size=128, lr=5e-3, val_every=100)
    result = fit(model, moons, settings, files=files, progress=False, log=messages.append)
    return model, before, result, messages, files


# --- data sets ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_datasets_have_declared_shape_and_are_seeded(name):
    info = DATASETS[name]
    first = load_dataset(name, n_train=300, n_test=100, seed=4, n_val=50)
    again = load_dataset(name, n_train=300, n_test=100, seed=4, n_val=50)
    other = load_dataset(name, n_train=300, n_test=100, seed=5, n_val=50)
    assert first.shape == info.shape and first.levels == info.levels
    assert first.train.shape == (300, *info.shape) and first.test.shape == (100, *info.shape)
    assert first.val.shape == (50, *info.shape) and first.train.dtype == torch.float32
    assert torch.equal(first.train, again.train) and torch.equal(first.val, again.val)
    assert not torch.equal(first.train, other.train)
    assert not torch.equal(first.train[:100], first.test)
    assert not torch.equal(first.train[:50], first.val)
    assert torch.isfinite(first.train).all()
    if info.levels is not None:
        both = torch.cat([first.train, first.test])
        assert torch.equal(both, both.round()) and both.min() == 0 and both.max() == info.levels - 1


@pytest.mark.parametrize(
    ("name", "generator"),
    [
        ("moons", lambda n: make_moons(n, noise=0.05, random_state=3)[0]),
        ("s_curve", lambda n: make_s_curve(n, noise=0.05, random_state=3)[0]),
    ],
)
def test_toy_data_come_in_their_generators_units(name, generator):
    """Not standardised: the bundled moons are sklearn's make_moons(noise=0.05) as it
    returns them (mean (0.50, 0.25), std (0.87, 0.50)), so NLLs compare with any code that
    fits that generator."""
    ours = load_dataset(name, n_train=20_000, n_test=1, n_val=1, seed=1).train.double()
    theirs = torch.as_tensor(generator(20_000))
    torch.testing.assert_close(ours.mean(0), theirs.mean(0), atol=0.03, rtol=0)
    torch.testing.assert_close(ours.std(0), theirs.std(0), atol=0.03, rtol=0)


def test_help_texts_name_every_bundled_data_set():
    """``BUNDLED_DATA`` (torch-free, for ``--help`` and the schema) is the list of data sets."""
    assert BUNDLED_DATA == tuple(DATASETS)


def test_moons_carry_their_label_as_context():
    data = load_dataset("moons", n_train=400, n_test=10, n_val=10)
    labels = data.context["train"]
    assert labels.shape == (400, 1) and set(labels.flatten().tolist()) == {0.0, 1.0}
    assert data.split("test").context.shape == (10, 1) and data.context_shape == (1,)
    # The two half moons: label 0 is the upper one (y above the other's on average).
    upper, lower = data.train[labels[:, 0] == 0], data.train[labels[:, 0] == 1]
    assert upper[:, 1].mean() > lower[:, 1].mean() + 0.5


def test_digits_splits_are_disjoint_and_capped():
    digits = load_dataset("digits")
    assert (len(digits.train), len(digits.val), len(digits.test)) == (1350, 150, 297)
    rows = {tuple(r.tolist()) for r in digits.test}
    assert not rows & {tuple(r.tolist()) for r in digits.train[:300]}
    image = load_dataset("digits_image")
    assert image.shape == (1, 8, 8) and torch.equal(image.test.reshape(-1, 64), digits.test)
    binary = load_dataset("digits_binary")
    assert torch.equal(binary.test, (digits.test >= 8).float())


def test_unknown_dataset_lists_names_and_suggests():
    with pytest.raises(ValueError) as error:
        load_dataset("moon")
    message = str(error.value)
    assert "did you mean 'moons'?" in message
    assert all(name in message for name in DATASETS)
    with pytest.raises(DataError, match="did you mean 'moons'"):
        resolve_data(flowspec.compile(MOONS_SPEC), "moon")


def test_check_compatible_reports_shape_kind_levels_and_context(moons):
    moons_model = flowspec.compile(MOONS_SPEC)
    from flowspec.train.compat import drop_unused_context

    assert check_compatible(moons_model, drop_unused_context(moons_model, moons)) == []
    (problem,) = check_compatible(moons_model, load_dataset("s_curve", 10, 10))
    assert "shape mismatch" in problem and "[2]" in problem and "[3]" in problem
    digits = load_dataset("digits", 50, 20)
    assert check_compatible(flowspec.compile(DIGITS_SPEC.replace("LEVELS", "17")), digits) == []
    (levels,) = check_compatible(flowspec.compile(DIGITS_SPEC.replace("LEVELS", "256")), digits)
    assert "levels mismatch" in levels and "256" in levels and "17" in levels
    problems = check_compatible(moons_model, digits)
    assert any("shape mismatch" in p for p in problems)
    assert any("discrete" in p and "continuous" in p for p in problems)
    conditional = flowspec.compile(CONDITIONAL_SPEC)
    (context,) = check_compatible(conditional, load_dataset("circles", 10, 10))
    assert "conditional" in context and "'label'" in context and "no context" in context
    assert check_compatible(conditional, moons) == []
    with pytest.raises(ValueError, match="does not fit the model"):
        fit(moons_model, digits, TrainSettings(steps=1), progress=False)


# --- data files ----------------------------------------------------------------------------


def _write(path, kind, x, c=None):
    if kind == ".npy":
        np.save(path, x if c is None else np.concatenate([x, c], 1))
    elif kind == ".npz":
        np.savez(path, **({"x": x} if c is None else {"x": x, "label": c}))
    elif kind == ".csv":
        table = x if c is None else np.concatenate([x, c], 1)
        header = ",".join(f"col{i}" for i in range(table.shape[1]))
        np.savetxt(path, table, delimiter=",", header=header, comments="")
    else:
        torch.save(
            torch.as_tensor(x)
            if c is None
            else {"x": torch.as_tensor(x), "label": torch.as_tensor(c)},
            path,
        )


@pytest.mark.parametrize("kind", [".npy", ".npz", ".csv", ".pt"])
@pytest.mark.parametrize("conditional", [False, True])
def test_data_files_load_with_context_and_seeded_splits(tmp_path, kind, conditional):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((200, 2))
    c = rng.integers(2, size=(200, 1)).astype(float) if conditional else None
    path = tmp_path / f"data{kind}"
    _write(path, kind, x, c)
    model = flowspec.compile(CONDITIONAL_SPEC if conditional else MOONS_SPEC)
    data = resolve_data(model, str(path), seed=3)
    assert (len(data.train), len(data.val), len(data.test)) == (160, 20, 20)
    assert check_compatible(model, data) == []
    everything = torch.cat([data.train, data.val, data.test])
    assert torch.allclose(
        everything.double()[everything[:, 0].argsort()],
        torch.as_tensor(x)[torch.as_tensor(x)[:, 0].argsort()],
        atol=1e-6,
    )
    if conditional:
        rows = torch.cat([data.train, data.context["train"]], 1).double()
        table = torch.as_tensor(np.concatenate([x, c], 1))
        assert all((table - row).abs().sum(1).min() < 1e-5 for row in rows[:20])
    assert torch.equal(resolve_data(model, str(path), seed=3).test, data.test)
    assert not torch.equal(resolve_data(model, str(path), seed=4).test, data.test)


def test_bad_data_files_are_clear_errors(tmp_path):
    model = flowspec.compile(MOONS_SPEC)
    digits_model = flowspec.compile(DIGITS_SPEC.replace("LEVELS", "17"))
    cases = {}
    np.save(tmp_path / "three.npy", np.zeros((50, 3)))
    cases["three.npy"] = (model, r"shape \[50, 3\]; expected examples of shape \[n, 2\]")
    np.save(tmp_path / "objects.npy", np.array([{"a": 1}] * 3, dtype=object))
    cases["objects.npy"] = (model, "cannot read")
    np.savez(tmp_path / "named.npz", y=np.zeros((50, 2)), z=np.zeros((50, 2)))
    cases["named.npz"] = (model, "named 'x'")
    (tmp_path / "text.csv").write_text("a,b\n1,2\nthree,4\n")
    cases["text.csv"] = (model, "numbers")
    np.save(tmp_path / "nan.npy", np.full((50, 2), np.nan))
    cases["nan.npy"] = (model, "NaN")
    torch.save({"x": [1, 2]}, tmp_path / "list.pt")
    cases["list.pt"] = (model, "dict of tensors")
    cases["missing.npy"] = (model, "does not exist")
    for name, (target, message) in cases.items():
        with pytest.raises(DataError, match=message):
            resolve_data(target, str(tmp_path / name))
    np.save(tmp_path / "real.npy", np.random.default_rng(0).uniform(0, 16, (50, 64)))
    problems = check_compatible(
        digits_model, resolve_data(digits_model, str(tmp_path / "real.npy"))
    )
    assert any("levels: 17" in p and "not all integers" in p for p in problems)
    with pytest.raises(DataError, match="context input"):
        np.savez(tmp_path / "noctx.npz", x=np.zeros((50, 2)), other=np.zeros((50, 2)))
        resolve_data(flowspec.compile(CONDITIONAL_SPEC), str(tmp_path / "noctx.npz"))


class _RunsCode:
    """Unpickling this would call os.getcwd: the loader must refuse it, not run it."""

    def __reduce__(self):
        import os

        return (os.getcwd, ())


def test_foreign_pt_files_are_clear_errors_and_odd_tensors_load(tmp_path):
    # Found by fuzzing: a pickled object, a non-torch file and bfloat16 or sparse tensors
    # each raised a traceback (UnpicklingError, KeyError, TypeError) out of `flowspec train`.
    model = flowspec.compile(MOONS_SPEC)
    torch.save(_RunsCode(), tmp_path / "code.pt")
    (tmp_path / "junk.pt").write_bytes(b"junkjunkjunk")
    for name, message in {"code.pt": "pickled Python objects", "junk.pt": "not a readable"}.items():
        with pytest.raises(DataError, match=message):
            resolve_data(model, str(tmp_path / name))
    x = torch.randn(50, 2)
    torch.save(x.to(torch.bfloat16), tmp_path / "half.pt")
    torch.save({"x": x.to_sparse()}, tmp_path / "sparse.pt")
    assert len(resolve_data(model, str(tmp_path / "half.pt")).train) == 40
    sparse = resolve_data(model, str(tmp_path / "sparse.pt"), seed=0)
    everything = torch.cat([sparse.train, sparse.val, sparse.test])
    assert torch.allclose(everything.sum(0).double(), x.sum(0).double(), atol=1e-4)


# --- training ----------------------------------------------------------------------------


def test_fit_lowers_the_nll_keeps_the_best_and_logs_metrics(trained, moons):
    model, before, result, messages, files = trained
    assert result.test_nll < before - 0.3 and result.bits_per_dim is None
    assert result.steps == 200 and [s for s, _ in result.history] == list(range(1, 201))
    assert [step for step, _ in result.val_history] == [100, 200]
    assert result.best_step == min(result.val_history, key=lambda sv: sv[1])[0]
    assert result.val_nll == pytest.approx(min(v for _, v in result.val_history))
    assert len(messages) == 2 and messages[0].startswith("step 100")
    assert result.test_nll == pytest.approx(evaluate_nll(model, moons.test))
    best, meta = load_checkpoint(files.best)
    assert meta["kind"] == "best" and int(meta["step"]) == result.best_step
    assert evaluate_nll(best, moons.test) == pytest.approx(result.test_nll)
    rows = read_metrics(files.metrics_csv)
    assert [r["step"] for r in rows] == list(range(10, 201, 10))
    assert [r["step"] for r in rows if r["val_nll"] is not None] == [100, 200]
    assert read_metrics(files.metrics_jsonl) == rows


def test_learning_rate_schedules():
    cosine = TrainSettings(lr=1.0, warmup=10, schedule="cosine")
    assert learning_rate(cosine, 5, 110) == pytest.approx(0.5)
    assert learning_rate(cosine, 10, 110) == pytest.approx(1.0)
    assert learning_rate(cosine, 60, 110) == pytest.approx(0.5)
    assert learning_rate(cosine, 110, 110) == pytest.approx(0.0)
    linear = TrainSettings(lr=2.0, schedule="linear")
    assert learning_rate(linear, 50, 100) == pytest.approx(1.0)
    assert learning_rate(TrainSettings(lr=0.3, schedule="constant"), 99, 100) == 0.3


def test_early_stopping_stops_after_patience_and_keeps_the_best(moons):
    torch.manual_seed(0)
    model = flowspec.compile(MOONS_SPEC)
    settings = TrainSettings(
        steps=400, lr=0.3, optimizer="sgd", val_every=5, patience=2, clip_grad=1.0
    )
    result = fit(model, moons, settings, progress=False)
    assert result.stop_reason == "patience" and result.steps < 400
    vals = dict(result.val_history)
    later = [v for s, v in vals.items() if s > result.best_step]
    assert len(later) == 2 and all(v >= vals[result.best_step] for v in later)
    assert evaluate_nll(model, moons.val) == pytest.approx(vals[result.best_step], rel=1e-5)


def test_time_limit_or_on_step_stop_training(moons):
    model = flowspec.compile(MOONS_SPEC)
    messages: list[str] = []
    result = fit(
        model,
        moons,
        TrainSettings(steps=10_000, time_limit=0.3, val_every=5000),
        progress=False,
        log=messages.append,
    )
    assert result.stop_reason == "time limit" and 1 <= result.steps < 10_000
    assert "past the time limit of 0.3 s" in messages[-1]
    assert result.val_history[-1][0] == result.steps  # validated where it stopped
    assert result.seconds < 30
    messages: list[str] = []
    stopped = fit(
        flowspec.compile(MOONS_SPEC),
        moons,
        TrainSettings(steps=50),
        on_step=lambda step, loss: step == 7,
        progress=False,
        log=messages.append,
    )
    assert stopped.stop_reason == "callback" and stopped.steps == 7
    assert messages[-1].startswith("stopped at step 7: a callback (on_step or on_validation)")


def test_on_validation_sees_every_validation_and_can_stop(moons):
    seen: list[tuple[int, float]] = []

    def prune_at_third(step: int, val_nll: float) -> bool:
        seen.append((step, val_nll))
        return len(seen) == 3

    result = fit(
        flowspec.compile(MOONS_SPEC),
        moons,
        TrainSettings(steps=50, val_every=5),
        on_validation=prune_at_third,
        progress=False,
    )
    assert [step for step, _ in seen] == [5, 10, 15]
    assert seen == result.val_history  # the NLLs the loop validated, as it validated them
    assert result.stop_reason == "callback" and result.steps == 15


def test_epochs_set_the_number_of_steps(small_digits):
    model = flowspec.compile(DIGITS_SPEC.replace("LEVELS", "17"))
    result = fit(model, small_digits, TrainSettings(epochs=2, batch_size=64), progress=False)
    assert result.steps == 2 * (256 // 64)
    assert result.bits_per_dim == pytest.approx(result.test_nll / (64 * math.log(2)))


def test_resume_continues_exactly(small_digits, tmp_path):
    spec = DIGITS_SPEC.replace("LEVELS", "17")
    settings = TrainSettings(steps=40, val_every=10, batch_size=32)
    torch.manual_seed(0)
    whole = fit(
        flowspec.compile(spec),
        small_digits,
        settings,
        files=RunFiles.beside(tmp_path / "a.safetensors"),
        progress=False,
    )

    def stop(step, loss):
        if step == 17:
            raise KeyboardInterrupt

    files = RunFiles.beside(tmp_path / "b.safetensors")
    torch.manual_seed(0)
    with pytest.raises(TrainingInterrupted) as interrupted:
        fit(
            flowspec.compile(spec),
            small_digits,
            settings,
            files=files,
            progress=False,
            on_step=stop,
        )
    assert interrupted.value.step == 17 and interrupted.value.checkpoint == files.last
    torch.manual_seed(123)  # the resumed run takes nothing from the fresh model or the seed
    rest = fit(
        flowspec.compile(spec), small_digits, settings, files=files, resume=True, progress=False
    )
    assert [s for s, _ in rest.history] == list(range(18, 41))
    assert rest.history == whole.history[17:]
    assert rest.val_history == whole.val_history[1:]
    assert rest.test_nll == whole.test_nll and rest.best_step == whole.best_step
    steps = [r["step"] for r in read_metrics(files.metrics_jsonl)]
    assert steps == [10, 20, 30, 40]
    other = flowspec.compile(spec.replace("[16]", "[8]"))
    with pytest.raises(CheckpointError, match="different spec"):
        fit(other, small_digits, settings, files=files, resume=True, progress=False)


def test_nan_loss_stops_naming_the_step_and_the_last_good_checkpoint(moons, tmp_path):
    model = flowspec.compile(MOONS_SPEC)
    real_forward = model.forward
    calls = {"n": 0}

    def forward(*inputs):
        calls["n"] += model.training  # training steps only, not validations
        value = real_forward(*inputs)
        return value * float("nan") if calls["n"] >= 24 and model.training else value

    model.forward = forward
    files = RunFiles.beside(tmp_path / "m.safetensors")
    settings = TrainSettings(steps=100, batch_size=64, val_every=10)
    with pytest.raises(TrainingDiverged) as error:
        fit(model, moons, settings, files=files, progress=False)
    assert error.value.step == 24 and "step 24" in str(error.value)
    assert f"{files.last} (step 20)" in str(error.value)
    assert load_training_state(files.last).info["progress"]["step"] == 20
    assert model.training


# --- checkpoints -------------------------------------------------------------------------


def test_checkpoint_round_trip_with_versions_and_state(trained, tmp_path):
    model, files = trained[0], trained[4]
    path = save_checkpoint(tmp_path / "moons.safetensors", model, meta={"dataset": "moons"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["moons.safetensors"]
    loaded, meta = load_checkpoint(path)
    assert meta == {"dataset": "moons"}
    assert loaded.checked.loaded.text == MOONS_SPEC
    x = torch.randn(50, 2, generator=torch.Generator().manual_seed(1))
    model.eval()
    with torch.no_grad():
        assert torch.equal(loaded.log_prob(x), model.log_prob(x))
    saved = load_training_state(files.last)
    assert saved.info["progress"]["step"] == 200 and saved.spec_text == MOONS_SPEC
    assert "rng.cpu" in saved.tensors and any(k.startswith("optim.") for k in saved.tensors)
    assert saved.info["settings"]["lr"] == 5e-3
    from safetensors import safe_open

    with safe_open(str(files.last), "pt") as handle:
        metadata = handle.metadata()
    assert metadata["torch_version"] == torch.__version__ and "flowspec_version" in metadata
    json.loads(metadata["training_state"])
    with pytest.raises(CheckpointError, match="no training state"):
        load_training_state(path)


def test_failed_write_keeps_the_old_checkpoint_and_no_temp_file(trained, tmp_path, monkeypatch):
    path = save_checkpoint(tmp_path / "m.safetensors", trained[0], meta={"run": "1"})
    original = path.read_bytes()

    def crash(*args):
        raise OSError("disk full")

    monkeypatch.setattr("flowspec.train.checkpoint.os.replace", crash)
    with pytest.raises(OSError, match="disk full"):
        save_checkpoint(path, trained[0], meta={"run": "2"})
    assert [p.name for p in tmp_path.iterdir()] == ["m.safetensors"]
    assert path.read_bytes() == original


def test_bad_checkpoints_raise_checkpoint_error(trained, tmp_path):
    path = save_checkpoint(tmp_path / "good.safetensors", trained[0])
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(path.read_bytes()[:-16])
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"not a checkpoint at all")
    foreign = tmp_path / "foreign.safetensors"
    save_file({"w": torch.zeros(2)}, foreign)
    cases = {
        truncated: "corrupt",
        garbage: "corrupt",
        tmp_path / "missing.safetensors": "does not exist",
        foreign: "not a flowspec checkpoint",
    }
    for bad, reason in cases.items():
        with pytest.raises(CheckpointError, match=reason) as error:
            load_checkpoint(bad)
        assert bad.name in str(error.value)


def test_weights_that_do_not_match_the_spec_raise_checkpoint_error(trained, tmp_path):
    path = save_checkpoint(tmp_path / "good.safetensors", trained[0])
    other = flowspec.compile(MOONS_SPEC.replace("[32, 32]", "[8]"))
    other.checked = trained[0].checked  # the stored spec says [32, 32]
    save_checkpoint(path, other)
    with pytest.raises(CheckpointError, match="do not fit the model"):
        load_checkpoint(path)


# --- evaluation and sampling ---------------------------------------------------------------


def test_evaluate_gives_bits_per_dim_and_an_iwbo_tighter_than_the_elbo(small_digits):
    torch.manual_seed(0)
    model = flowspec.compile(DIGITS_SPEC.replace("LEVELS", "17"))
    fit(model, small_digits, TrainSettings(steps=30, batch_size=64, lr=3e-3), progress=False)
    scores = evaluate(model, small_digits.split("test"), discrete=True, k=32)
    assert (scores.likelihood, scores.figure, scores.k) == ("lower bound", "-ELBO", 32)
    assert scores.bits_per_dim == pytest.approx(scores.nll / (64 * math.log(2)))
    assert scores.iwbo_nll < scores.nll  # log mean exp >= mean log (Jensen), averaged over 64 rows
    assert scores.iwbo_bits_per_dim == pytest.approx(scores.iwbo_nll / (64 * math.log(2)))
    assert scores.stderr is not None and 0 < scores.stderr < scores.nll
    exact = evaluate(flowspec.compile(MOONS_SPEC), Split(torch.randn(20, 2)), discrete=False, k=8)
    assert (exact.likelihood, exact.figure) == ("exact", "NLL")
    assert exact.iwbo_nll is None and exact.bits_per_dim is None


def test_scores_of_a_stochastic_model_use_common_random_numbers(small_digits):
    """The same weights scored twice give the same -ELBO (the evaluation's own seeded
    generators), whatever the training's generator did before, and leave it where it was:
    validation does not move the training's random stream."""
    model = flowspec.compile(DIGITS_SPEC.replace("LEVELS", "17"))
    test = small_digits.split("test")
    torch.manual_seed(3)
    state = torch.get_rng_state()
    first = evaluate_nll(model, test)
    assert torch.equal(torch.get_rng_state(), state)
    torch.rand(7)  # the training's stream moves on
    assert evaluate_nll(model, test) == first
    assert evaluate_nll(model, test, seed=1) != first  # another draw of the noise


def test_the_best_validation_figure_is_the_one_the_summary_and_eval_print(small_digits, tmp_path):
    """A dequantized model: the log said 'val nll 97.1925 (best)' and the summary 97.4839
    for the same checkpoint, and eval re-scored train's test figure differently. Now the
    validation that selected the checkpoint, FitResult and flowspec eval agree exactly."""
    torch.manual_seed(0)
    model = flowspec.compile(DIGITS_SPEC.replace("LEVELS", "17"))
    messages: list[str] = []
    settings = TrainSettings(steps=30, batch_size=64, lr=3e-3, val_every=10)
    files = RunFiles.beside(tmp_path / "digits.safetensors")
    result = fit(model, small_digits, settings, files=files, progress=False, log=messages.append)
    assert result.likelihood == "lower bound"
    assert result.figure == "an upper bound on the NLL; 1 draw per example, evaluation seed 0"
    best = dict(result.val_history)[result.best_step]
    assert result.val_nll == best
    assert any(f"val -ELBO {best:.4f} nats (best)" in m for m in messages)
    scores = evaluate(load_checkpoint(files.best)[0], small_digits.split("test"), discrete=True)
    assert scores.nll == result.test_nll
    rows = read_metrics(files.metrics_jsonl)
    assert {r["val_figure"] for r in rows if r["val_nll"] is not None} == {
        f"-ELBO ({result.figure})"
    }


def test_temperature_scales_the_base_draws(trained, moons):
    model = trained[0]
    torch.manual_seed(5)
    with torch.no_grad():
        plain = model.sample(300)
    torch.manual_seed(5)
    with torch.no_grad(), temperature(model, 0.0001):
        cold = model.sample(300)
    # At T -> 0 every draw maps the mode of the base, a single point.
    assert cold.std(0).max() < 1e-2 < plain.std(0).min()
    torch.manual_seed(5)
    with torch.no_grad(), temperature(model, 1.0):
        assert torch.equal(model.sample(300), plain)
    assert "sample" not in vars(model.nodes["prior"])  # restored
    with pytest.raises(ValueError, match="positive"):
        with temperature(model, 0.0):
            pass


def test_conditional_model_trains_and_samples_per_context(moons):
    torch.manual_seed(0)
    model = flowspec.compile(CONDITIONAL_SPEC)
    result = fit(model, moons, TrainSettings(steps=200, lr=5e-3, batch_size=128), progress=False)
    assert result.test_nll < 2.0
    with torch.no_grad():
        upper = model.sample(500, label=parse_context("0", (1,)).expand(500, 1))
        lower = model.sample(500, label=parse_context("1", (1,)).expand(500, 1))
    assert upper[:, 1].mean() > lower[:, 1].mean() + 0.5  # each label draws its own moon
    with pytest.raises(ValueError, match="give 2"):
        parse_context("1", (2,))


# --- plots -------------------------------------------------------------------------------


@pytest.mark.parametrize("dims", [2, 3, 64, 5])
def test_plot_samples_writes_a_png(dims, tmp_path):
    samples = torch.randn(200, dims)
    path = plot_samples(samples, tmp_path / f"s{dims}.png", data=torch.randn(300, dims), title="t")
    assert path.stat().st_size > 1000 and path.read_bytes()[:8] == PNG_MAGIC


def test_plot_groups_density_and_curve(trained, tmp_path):
    groups = {"a": torch.randn(100, 2), "b": torch.randn(100, 2) + 2}
    assert (
        plot_samples(groups, tmp_path / "g.png", data=torch.randn(50, 2)).read_bytes()[:8]
        == PNG_MAGIC
    )
    path = plot_density(trained[0], tmp_path / "density.png", resolution=40, title="moons")
    assert path.read_bytes()[:8] == PNG_MAGIC
    with pytest.raises(ValueError, match="2-D"):
        plot_density(flowspec.compile(DIGITS_SPEC.replace("LEVELS", "17")), tmp_path / "d.png")
    curve = plot_curve(read_metrics(trained[4].metrics_csv), tmp_path / "curve.png", title="t")
    assert curve.read_bytes()[:8] == PNG_MAGIC
    with pytest.raises(ValueError, match="no rows"):
        plot_curve([], tmp_path / "empty.png")


# --- optimizers ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["adam", "adamw", "sgd"])
@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_optimizers_match_torch(kind, weight_decay):
    from flowspec.train.optim import Optimizer

    torch.manual_seed(0)
    start = [torch.randn(3, 4, dtype=torch.float64), torch.randn(4, dtype=torch.float64)]
    ours = [torch.nn.Parameter(t.clone()) for t in start]
    theirs = [torch.nn.Parameter(t.clone()) for t in start]
    reference = {
        "adam": lambda p: torch.optim.Adam(p, lr=0.05, weight_decay=weight_decay),
        "adamw": lambda p: torch.optim.AdamW(p, lr=0.05, weight_decay=weight_decay),
        "sgd": lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=weight_decay),
    }[kind](theirs)
    optimizer = Optimizer(kind, ours, lr=0.05, weight_decay=weight_decay)
    target = torch.randn(5, 4, dtype=torch.float64)
    for step in range(6):
        for params, opt in ((ours, optimizer), (theirs, reference)):
            opt.zero_grad()
            x = torch.randn(
                5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(step)
            )
            ((x @ params[0] + params[1] - target) ** 2).sum().backward()
            opt.step()
    for mine, torchs in zip(ours, theirs, strict=True):
        assert torch.allclose(mine, torchs, atol=1e-12, rtol=1e-10)
    tensors, info = optimizer.state_dict()
    copy = Optimizer(
        kind,
        [torch.nn.Parameter(p.detach().clone()) for p in ours],
        lr=0.05,
        weight_decay=weight_decay,
    )
    copy.load_state_dict(tensors, json.loads(json.dumps(info)))
    assert copy.steps == optimizer.steps == [6, 6]
    with pytest.raises(ValueError, match="saved optimizer state"):
        Optimizer("adam" if kind != "adam" else "sgd", ours, lr=0.1).load_state_dict(tensors, info)


def test_tensorboard_events_are_written_when_tensorboard_is_installed(moons, tmp_path):
    import importlib.util

    files = RunFiles.beside(tmp_path / "m.safetensors", tensorboard=True)
    fit(
        flowspec.compile(MOONS_SPEC),
        moons,
        TrainSettings(steps=20, val_every=10),
        files=files,
        progress=False,
    )
    if importlib.util.find_spec("tensorboard") is None:  # the CSV and JSONL logs only
        assert not files.tensorboard.exists() and files.metrics_csv.is_file()
        return
    events = list(files.tensorboard.glob("events.out.tfevents.*"))
    assert len(events) == 1 and events[0].stat().st_size > 100
