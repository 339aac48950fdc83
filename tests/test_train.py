"""Training side: data sets, the fit loop, checkpoints and plots."""

from __future__ import annotations

import math

import pytest
import torch
from safetensors.torch import save_file

import flowspec
from flowspec.train import (
    DATASETS,
    CheckpointError,
    Dataset,
    TrainingDiverged,
    check_compatible,
    evaluate_nll,
    fit,
    load_checkpoint,
    load_dataset,
    plot_density,
    plot_samples,
    save_checkpoint,
)

MOONS_SPEC = """\
flowspec: "1"
name: moons-test
inputs:
  x: {shape: [2]}
blocks:
  step:
    - {kind: affine_coupling, net: {kind: mlp, hidden: [32, 32]}}
    - {kind: reverse}
nodes:
  scale: {kind: elementwise, fn: scale_shift, learnable: true, in: x}
  body: {block: step, repeat: 4, in: scale}
  prior: {kind: standard_normal, in: body}
"""

DIGITS_SPEC = """\
flowspec: "1"
name: digits-test
inputs:
  x: {shape: [64], levels: LEVELS}
nodes:
  deq: {kind: uniform_dequantization, in: x}
  logit: {kind: elementwise, fn: logit, alpha: 0.05, in: deq}
  flow: {kind: affine_coupling, in: logit}
  prior: {kind: standard_normal, in: flow}
"""

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """Small models train several times faster on one thread on a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def moons() -> Dataset:
    return load_dataset("moons", n_train=2000, n_test=1000, seed=0)


@pytest.fixture(scope="module")
def trained(moons):
    """A moons model before and after a short fit: (model, nll before, result)."""
    torch.manual_seed(0)
    model = flowspec.compile(MOONS_SPEC)
    model.eval()
    before = evaluate_nll(model, moons.test)
    messages: list[str] = []
    result = fit(
        model,
        moons,
        steps=300,
        batch_size=128,
        lr=5e-3,
        progress=False,
        eval_every=150,
        log=messages.append,
    )
    return model, before, result, messages


# --- data sets ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_datasets_have_declared_shape_and_are_seeded(name):
    info = DATASETS[name]
    first = load_dataset(name, n_train=300, n_test=100, seed=4)
    again = load_dataset(name, n_train=300, n_test=100, seed=4)
    other = load_dataset(name, n_train=300, n_test=100, seed=5)
    assert first.shape == info.shape and first.levels == info.levels
    assert first.train.shape == (300, *info.shape) and first.test.shape == (100, *info.shape)
    assert first.train.dtype == torch.float32
    assert torch.equal(first.train, again.train) and torch.equal(first.test, again.test)
    assert not torch.equal(first.train, other.train)
    assert not torch.equal(first.train[:100], first.test)
    assert torch.isfinite(first.train).all()
    if info.levels is None:  # standardised
        big = load_dataset(name, n_train=5000, n_test=1, seed=1).train
        assert big.mean(0).abs().max() < 0.1
        assert (big.std(0) - 1).abs().max() < 0.1


def test_digits_are_integers_0_to_16_capped_by_the_data():
    digits = load_dataset("digits")
    assert digits.shape == (64,) and digits.levels == 17
    assert len(digits.train) == 1500 and len(digits.test) == 297
    both = torch.cat([digits.train, digits.test])
    assert both.min() == 0 and both.max() == 16
    assert torch.equal(both, both.round())
    assert len(load_dataset("digits", n_train=100, n_test=50).train) == 100


def test_unknown_dataset_lists_names_and_suggests():
    with pytest.raises(ValueError) as error:
        load_dataset("moon")
    message = str(error.value)
    assert "did you mean 'moons'?" in message
    assert all(name in message for name in DATASETS)


def test_check_compatible_reports_shape_kind_and_levels(moons):
    moons_model = flowspec.compile(MOONS_SPEC)
    assert check_compatible(moons_model, moons) == []
    (problem,) = check_compatible(moons_model, load_dataset("s_curve", 10, 10))
    assert "shape mismatch" in problem and "[2]" in problem and "[3]" in problem

    digits = load_dataset("digits", 50, 20)
    assert check_compatible(flowspec.compile(DIGITS_SPEC.replace("LEVELS", "17")), digits) == []
    (levels,) = check_compatible(flowspec.compile(DIGITS_SPEC.replace("LEVELS", "256")), digits)
    assert "levels mismatch" in levels and "256" in levels and "17" in levels

    problems = check_compatible(moons_model, digits)
    assert any("shape mismatch" in p for p in problems)
    assert any("discrete" in p and "continuous" in p for p in problems)
    with pytest.raises(ValueError, match="does not fit the model"):
        fit(moons_model, digits, steps=1, progress=False)


# --- training ----------------------------------------------------------------------------


def test_fit_lowers_the_test_nll(trained):
    model, before, result, messages = trained
    assert result.test_nll < before - 0.3
    assert math.isfinite(result.train_nll) and result.bits_per_dim is None
    assert result.steps == 300 and [s for s, _ in result.history] == list(range(1, 301))
    assert [step for step, _ in result.test_history] == [150, 300]
    assert len(messages) == 2 and messages[0].startswith("step 150")
    assert not model.training  # the mode before fit is restored
    test = load_dataset("moons", n_train=2000, n_test=1000, seed=0).test
    assert result.test_nll == pytest.approx(evaluate_nll(model, test))


def test_fit_reports_bits_per_dim_for_discrete_data():
    model = flowspec.compile(DIGITS_SPEC.replace("LEVELS", "17"))
    result = fit(model, load_dataset("digits", 64, 32), steps=2, batch_size=32, progress=False)
    assert result.bits_per_dim == pytest.approx(result.test_nll / (64 * math.log(2)))


def test_nan_loss_stops_training_naming_the_step(moons, monkeypatch):
    model = flowspec.compile(MOONS_SPEC)
    real_log_prob = model.log_prob
    calls = {"n": 0}

    def log_prob(x):
        calls["n"] += 1
        value = real_log_prob(x)
        return value * float("nan") if calls["n"] >= 3 else value

    monkeypatch.setattr(model, "log_prob", log_prob)
    with pytest.raises(TrainingDiverged, match="step 3") as error:
        fit(model, moons, steps=10, batch_size=64, progress=False)
    assert isinstance(error.value, RuntimeError) and error.value.step == 3
    assert model.training


# --- checkpoints -------------------------------------------------------------------------


def test_checkpoint_round_trip(trained, tmp_path):
    model = trained[0]
    path = save_checkpoint(tmp_path / "moons.safetensors", model, meta={"dataset": "moons"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["moons.safetensors"]
    loaded, meta = load_checkpoint(path)
    assert meta == {"dataset": "moons"}
    assert loaded.checked.loaded.text == MOONS_SPEC
    x = torch.randn(50, 2, generator=torch.Generator().manual_seed(1))
    model.eval()
    with torch.no_grad():
        assert torch.equal(loaded.log_prob(x), model.log_prob(x))
        torch.manual_seed(7)
        first = model.sample(100)
        torch.manual_seed(7)
        second = loaded.sample(100)
    assert torch.equal(first, second)


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


# --- plots -------------------------------------------------------------------------------


@pytest.mark.parametrize("dims", [2, 3, 64, 5])
def test_plot_samples_writes_a_png(dims, tmp_path):
    samples = torch.randn(200, dims)
    path = plot_samples(samples, tmp_path / f"s{dims}.png", data=torch.randn(300, dims), title="t")
    assert path.stat().st_size > 1000 and path.read_bytes()[:8] == PNG_MAGIC


def test_plot_density_writes_a_png(trained, tmp_path):
    path = plot_density(trained[0], tmp_path / "density.png", resolution=40)
    assert path.read_bytes()[:8] == PNG_MAGIC
    with pytest.raises(ValueError, match="2-D"):
        plot_density(flowspec.compile(DIGITS_SPEC.replace("LEVELS", "17")), tmp_path / "d.png")
