"""``flowspec train``, ``eval`` and ``sample`` on the command line, and the ``train:``
settings: located errors, config files, precedence, resume, Ctrl-C, divergence."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from train_specs import CONDITIONAL, DIGITS
from train_specs import TINY_MOONS as MOONS
from typer.testing import CliRunner

import flowspec
from flowspec.cli import app
from flowspec.diagnostics import SpecError
from flowspec.train.checkpoint import load_checkpoint
from flowspec.train.metrics import read_metrics
from flowspec.train.settings import load_config, merge_settings

QUICK = ["--no-progress", "--no-tensorboard", "--batch-size", "64"]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def spec_file(tmp_path, text=MOONS, name="spec.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def no_traceback(result) -> None:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli")
    spec = spec_file(folder)
    checkpoint = folder / "moons.safetensors"
    result = CliRunner().invoke(
        app,
        [
            "train",
            str(spec),
            "--data",
            "moons",
            "--steps",
            "40",
            "--val-every",
            "20",
            "-o",
            str(checkpoint),
            *QUICK,
        ],
    )
    return result, checkpoint


# --- the train: section and --config -------------------------------------------------------


def test_train_section_errors_are_located_with_did_you_mean():
    text = MOONS.replace("inputs:", "train:\n  lr: -1\n  stesp: 3\n  device: gpu\ninputs:")
    with pytest.raises(SpecError) as error:
        flowspec.check(text)
    found = {d.code: d for d in error.value.diagnostics}
    assert set(found) == {"E900", "E901"} and len(error.value.diagnostics) == 3
    unknown = found["E900"]
    assert unknown.location.line == 5 and "did you mean 'steps'?" in unknown.hint
    assert unknown.path == ("train", "stesp")
    lines = sorted(d.location.line for d in error.value.diagnostics if d.code == "E901")
    assert lines == [4, 6]
    (lr,) = [d for d in error.value.diagnostics if d.path == ("train", "lr")]
    assert lr.hint == "allowed: 0 < lr <= 10"  # the whole range, not only the bound missed
    for bad, code in (
        ("train: 3", "E902"),
        ("train: {steps: 3, epochs: 2}", "E903"),
        ('train: {steps: "3"}', "E901"),
        ("train: {seed: 1.0}", "E901"),
    ):
        with pytest.raises(SpecError) as error:
            flowspec.check(MOONS.replace("inputs:", bad + "\ninputs:"))
        assert [d.code for d in error.value.diagnostics] == [code]
        assert error.value.diagnostics[0].location.line == 3


def test_settings_precedence_spec_then_config_then_options(tmp_path):
    spec = flowspec.check(
        MOONS.replace("inputs:", "train: {epochs: 4, lr: 0.01, seed: 3}\ninputs:")
    )
    config = tmp_path / "c.yaml"
    config.write_text("train:\n  lr: 0.002\n  batch_size: 32\n")
    merged = merge_settings(
        spec.graph.header.train, load_config(config), {"steps": 7, "seed": None}
    )
    assert (merged.lr, merged.batch_size, merged.seed) == (0.002, 32, 3)
    assert merged.steps == 7 and merged.epochs is None  # a later budget replaces an earlier one
    assert merge_settings(None, None, {}).threads == 1
    config.write_text("lr: 0.1\nbatchsize: 3\n")
    with pytest.raises(SpecError) as error:
        load_config(config)
    (diagnostic,) = error.value.diagnostics
    assert diagnostic.code == "E900" and diagnostic.location.line == 2
    assert "batch_size" in diagnostic.hint


# --- train -----------------------------------------------------------------------------------


def test_train_reports_best_nll_and_writes_checkpoints_and_metrics(trained):
    result, checkpoint = trained
    assert result.exit_code == 0, result.output
    for label in ("train NLL:", "val NLL:", "test NLL:", "exact", "best validation NLL at step"):
        assert label in result.stdout
    assert "bits/dim" not in result.stdout
    last = checkpoint.with_name("moons.last.safetensors")
    assert checkpoint.is_file() and last.is_file()
    rows = read_metrics(checkpoint.with_name("moons.metrics.csv"))
    assert [r["step"] for r in rows] == [10, 20, 30, 40]
    _, meta = load_checkpoint(checkpoint)
    assert meta["data"] == "moons" and json.loads(meta["settings"])["steps"] == 40


def test_train_discrete_data_reports_bits_per_dim_and_the_bound(runner, tmp_path):
    spec = spec_file(tmp_path, DIGITS)
    result = runner.invoke(
        app,
        [
            "train",
            str(spec),
            "-d",
            "digits",
            "--steps",
            "3",
            *QUICK,
            "-o",
            str(tmp_path / "d.safetensors"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert result.stdout.count("bits/dim") == 4  # train, val, test and the baseline
    assert "lower bound (ELBO): stochastic nodes: deq" in result.stdout


def test_train_takes_data_and_budget_from_the_spec_and_a_data_file(runner, tmp_path):
    rng = np.random.default_rng(0)
    table = np.concatenate([rng.standard_normal((300, 2)), rng.integers(2, size=(300, 1))], 1)
    np.savetxt(tmp_path / "d.csv", table, delimiter=",", header="a,b,label", comments="")
    text = CONDITIONAL.replace(
        "inputs:", f"train: {{data: {tmp_path / 'd.csv'}, steps: 4}}\ninputs:"
    )
    result = runner.invoke(
        app,
        ["train", str(spec_file(tmp_path, text)), *QUICK, "-o", str(tmp_path / "c.safetensors")],
    )
    assert result.exit_code == 0, result.output
    assert "for 4 steps" in result.stdout and "d.csv" in result.stdout


def test_train_resume_continues_the_metrics_log(runner, tmp_path):
    spec = spec_file(tmp_path)
    out = tmp_path / "r.safetensors"
    common = ["train", str(spec), "-d", "moons", "--val-every", "10", "-o", str(out), *QUICK]
    assert runner.invoke(app, [*common, "--steps", "20"]).exit_code == 0
    result = runner.invoke(app, [*common, "--steps", "30", "--resume"])
    assert result.exit_code == 0, result.output
    assert "for 30 steps" in result.stdout
    steps = [r["step"] for r in read_metrics(tmp_path / "r.metrics.jsonl")]
    assert steps == [10, 20, 30]
    missing = runner.invoke(
        app,
        [
            *common[:-6],
            "-o",
            str(tmp_path / "none.safetensors"),
            "--steps",
            "5",
            "--resume",
            *QUICK,
        ],
    )
    assert missing.exit_code == 1 and "nothing to resume" in missing.stderr


def _with_metadata(source, target, **changes) -> None:
    """A copy of a safetensors file with some metadata entries replaced."""
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    with safe_open(str(source), framework="pt") as file:
        metadata = {**file.metadata(), **changes}
    save_file(load_file(str(source)), str(target), metadata=metadata)


def test_resume_and_eval_refusals_are_messages_not_tracebacks(runner, tmp_path):
    # Found by fuzzing: every CheckpointError of --resume (another spec, another optimizer,
    # a damaged training state) and a damaged meta.settings under eval/sample were tracebacks.
    spec = spec_file(tmp_path)
    out = tmp_path / "r.safetensors"
    common = ["train", str(spec), "-d", "moons", "--val-every", "1", "-o", str(out), *QUICK]
    assert runner.invoke(app, [*common, "--steps", "2"]).exit_code == 0
    last = tmp_path / "r.last.safetensors"
    other = spec_file(tmp_path, MOONS.replace("name:", "description: other\nname:"), "other.yaml")
    cases = {
        "different spec": ["train", str(other), *common[2:], "--steps", "4", "--resume"],
        "for adam over": [*common, "--steps", "4", "--resume", "--optimizer", "sgd"],
    }
    for says, args in cases.items():
        result = runner.invoke(app, args)
        no_traceback(result)
        assert result.exit_code == 1 and says in result.stderr, result.output
    for state, says in {
        "{bad": "damaged training state",
        "{}": "incomplete training state",
        '{"optimizer": {}, "progress": {}}': "incomplete training state",
    }.items():
        damaged = tmp_path / "d.safetensors"
        damaged.write_bytes(out.read_bytes())
        _with_metadata(last, tmp_path / "d.last.safetensors", training_state=state)
        result = runner.invoke(
            app, [*common[:-6], "-o", str(damaged), "--steps", "4", "--resume", *QUICK]
        )
        no_traceback(result)
        assert result.exit_code == 1 and says in result.stderr, result.output
    _with_metadata(out, tmp_path / "s.safetensors", **{"meta.settings": "{not json"})
    for verb in (["eval"], ["sample", "-n", "3", "-o", str(tmp_path / "x.npy")]):
        result = runner.invoke(app, [verb[0], str(tmp_path / "s.safetensors"), *verb[1:]])
        no_traceback(result)
        assert (
            result.exit_code == 1
            and "s.safetensors': its stored training settings" in result.stderr
        )


def test_a_stored_spec_that_no_longer_compiles_is_located_in_the_checkpoint(
    runner, trained, tmp_path
):
    # Found by fuzzing: the errors of a stored spec that no longer validates were located at
    # the spec file it was copied from (which may have changed since, or be gone), as if
    # that file were wrong; they now name the checkpoint's stored copy and its lines.
    from safetensors import safe_open

    with safe_open(str(trained[1]), framework="pt") as file:
        metadata = file.metadata()
    text, original = metadata["spec_text"], metadata["spec_file"]
    line = text.splitlines().index("  prior: {kind: standard_normal, in: body}") + 1
    broken = tmp_path / "old.safetensors"
    _with_metadata(
        trained[1], broken, spec_text=text.replace("standard_normal", "standard_normall")
    )
    for verb in (["eval"], ["sample", "-n", "3", "-o", str(tmp_path / "x.npy")]):
        result = runner.invoke(app, [verb[0], str(broken), *verb[1:]])
        no_traceback(result)
        assert result.exit_code == 1
        assert f"the spec stored in checkpoint '{broken}' does not compile" in result.stderr
        assert f"{broken} (stored {original}):{line}:11: error[E106]" in result.stderr
        assert f"\n{original}:{line}" not in result.stderr


def test_checkpoints_with_nan_or_bfloat16_weights(runner, trained, tmp_path):
    # Found by fuzzing: NaN weights gave "NLL: nan nats" and NaN samples with exit 0; a
    # bfloat16 checkpoint's samples were a TypeError traceback writing the .npy.
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    checkpoint = trained[1]
    with safe_open(str(checkpoint), framework="pt") as file:
        metadata = file.metadata()
    weights = load_file(str(checkpoint))
    save_file(
        {k: torch.full_like(v, float("nan")) for k, v in weights.items()},
        str(tmp_path / "nan.safetensors"),
        metadata=metadata,
    )
    save_file(
        {k: v.to(torch.bfloat16) for k, v in weights.items()},
        str(tmp_path / "half.safetensors"),
        metadata=metadata,
    )
    for verb in (["eval"], ["sample", "-n", "3", "-o", str(tmp_path / "x.npy")]):
        result = runner.invoke(app, [verb[0], str(tmp_path / "nan.safetensors"), *verb[1:]])
        no_traceback(result)
        assert result.exit_code == 1 and "NaN or infinite weights" in result.stderr
    result = runner.invoke(
        app,
        ["sample", str(tmp_path / "half.safetensors"), "-n", "3", "-o", str(tmp_path / "half.npy")],
    )
    no_traceback(result)
    assert result.exit_code == 0 and np.isfinite(np.load(tmp_path / "half.npy")).all()


def test_checkpoints_with_integer_weights_are_refused_naming_the_tensor(runner, trained, tmp_path):
    # Found by fuzzing: int32 weights loaded silently into the float parameters (rounded
    # values, a different model); now refused, naming the tensor and both dtypes.
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    with safe_open(str(trained[1]), framework="pt") as file:
        metadata = file.metadata()
    weights = load_file(str(trained[1]))
    name = sorted(weights)[0]
    weights[name] = (weights[name] * 100).to(torch.int32)
    save_file(weights, str(tmp_path / "int.safetensors"), metadata=metadata)
    for verb in (["eval"], ["sample", "-n", "3", "-o", str(tmp_path / "x.npy")]):
        result = runner.invoke(app, [verb[0], str(tmp_path / "int.safetensors"), *verb[1:]])
        no_traceback(result)
        assert result.exit_code == 1, result.output
        shape = tuple(weights[name].shape)
        assert (
            f"1 tensor(s) of another kind of number (e.g. {name} is int32 {shape} where "
            f"the model holds float32 {shape})" in " ".join(result.stderr.split())
        )
    assert load_checkpoint(trained[1])[0] is not None  # the float original still loads


def test_train_usage_and_data_errors(runner, tmp_path):
    spec = spec_file(tmp_path)
    out = ["-o", str(tmp_path / "c.safetensors"), *QUICK]
    result = runner.invoke(app, ["train", str(spec), "--data", "moon", "--steps", "5", *out])
    assert result.exit_code == 1 and "did you mean 'moons'" in result.stderr
    assert "digits" in result.stderr
    no_data = runner.invoke(app, ["train", str(spec), "--steps", "5", *out])
    assert no_data.exit_code == 1 and "no data" in no_data.stderr
    for bad in (["--steps", "0"], ["--lr", "-1"], ["--device", "tpu"], ["--threads", "0"]):
        assert runner.invoke(app, ["train", str(spec), "-d", "moons", *bad]).exit_code == 2
    four = spec_file(tmp_path, MOONS.replace("shape: [2]", "shape: [4]"), "four.yaml")
    result = runner.invoke(app, ["train", str(four), "--data", "moons", "--steps", "5", *out])
    assert result.exit_code == 1 and "shape mismatch" in result.stderr and "[4]" in result.stderr
    no_traceback(result)
    assert not (tmp_path / "c.safetensors").exists()
    cond = spec_file(tmp_path, CONDITIONAL, "cond.yaml")
    result = runner.invoke(app, ["train", str(cond), "--data", "circles", "--steps", "5", *out])
    assert result.exit_code == 1 and "no context values" in result.stderr


@pytest.mark.parametrize(
    ("option", "value", "allowed"),
    [
        ("--lr", "30", "0 < lr <= 10"),
        ("--lr", "nan", "0 < lr <= 10"),
        ("--batch-size", "2000000", "1 <= batch_size <= 1048576"),
        ("--steps", "0", "1 <= steps <= 1000000000"),
        ("--epochs", "1000001", "1 <= epochs <= 1000000"),
        ("--warmup", "-1", "warmup >= 0"),
        ("--clip-grad", "0", "clip_grad > 0"),
        ("--weight-decay", "2", "0 <= weight_decay <= 1"),
        ("--seed", "4294967296", "0 <= seed <= 4294967295"),
        ("--threads", "5000", "1 <= threads <= 1024"),
        ("--val-every", "0", "val_every >= 1"),
        ("--patience", "0", "patience >= 1"),
        ("--time-limit", "-5", "time_limit > 0"),
    ],
)
def test_a_setting_out_of_range_names_the_option_and_its_range(
    runner, tmp_path, option, value, allowed
):
    """Every bounded setting: the message names the option, the value and the allowed
    range (``--lr 30`` said only "Input should be less than or equal to 10")."""
    spec = spec_file(tmp_path)
    result = runner.invoke(app, ["train", str(spec), "-d", "moons", option, value])
    assert result.exit_code == 2, result.output
    message = " ".join(result.stderr.replace("│", " ").split())
    assert f"Invalid value for '{option}'" in message and allowed in message, message
    no_traceback(result)


def test_unavailable_device_is_a_clear_error(runner, tmp_path, monkeypatch):
    import torch

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    result = runner.invoke(
        app,
        [
            "train",
            str(spec_file(tmp_path)),
            "-d",
            "moons",
            "--steps",
            "5",
            "--device",
            "cuda",
            *QUICK,
        ],
    )
    assert result.exit_code == 1 and "device 'cuda' is not available" in result.stderr
    no_traceback(result)


def test_train_ctrl_c_saves_the_last_checkpoint(runner, tmp_path, monkeypatch):
    import flowspec.train.loop as loop

    real_fit = loop.fit

    def interrupted(*args, **kwargs):
        def stop(step, loss):
            if step == 3:
                raise KeyboardInterrupt

        return real_fit(*args, **kwargs, on_step=stop)

    monkeypatch.setattr(loop, "fit", interrupted)
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(
        app, ["train", str(spec_file(tmp_path)), "-d", "moons", "--steps", "9", *QUICK]
    )
    assert result.exit_code == 130
    last = tmp_path / "runs" / "tiny-moons.last.safetensors"
    assert (
        str(last) in result.stderr.replace(str(tmp_path) + "/", "")
        or "runs/tiny-moons.last" in result.stderr
    )
    _, meta = load_checkpoint(last)
    assert meta["step"] == "3" and meta["data"] == "moons"


def test_train_divergence_names_the_step(runner, tmp_path, monkeypatch):
    import flowspec.train.loop as loop

    def diverged(*args, **kwargs):
        raise loop.TrainingDiverged(3, "loss", float("nan"), "runs/x.last.safetensors (step 2)")

    monkeypatch.setattr(loop, "fit", diverged)
    result = runner.invoke(
        app,
        [
            "train",
            str(spec_file(tmp_path)),
            "-d",
            "moons",
            "--steps",
            "5",
            "-o",
            str(tmp_path / "c.safetensors"),
            *QUICK,
        ],
    )
    assert result.exit_code == 1
    no_traceback(result)
    assert "diverged at step 3" in result.stderr and "(step 2)" in result.stderr


# --- eval and sample -----------------------------------------------------------------------


def test_eval_scores_the_test_split(runner, trained):
    result = runner.invoke(app, ["eval", str(trained[1]), "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["n"] == 2000 and report["likelihood"] == "exact"
    assert report["figure"] == "NLL" and report["iwbo_nll"] is None
    _, meta = load_checkpoint(trained[1])
    text = runner.invoke(app, ["eval", str(trained[1])])
    assert f"NLL: {report['nll']:.4f} ± {report['stderr']:.4f} nats (exact)" in text.stdout
    assert "test split" in text.stdout
    assert "log_prob is the exact log-likelihood\n" in text.stdout


def test_eval_of_a_bound_model_gives_the_iwbo_and_reads_files(runner, tmp_path):
    spec = spec_file(tmp_path, DIGITS)
    out = tmp_path / "d.safetensors"
    assert (
        runner.invoke(
            app, ["train", str(spec), "-d", "digits", "--steps", "5", "-o", str(out), *QUICK]
        ).exit_code
        == 0
    )
    result = runner.invoke(app, ["eval", str(out), "--k", "8", "--json"])
    report = json.loads(result.stdout)
    assert report["likelihood"] == "lower bound" and report["figure"] == "-ELBO"
    assert report["k"] == 8 and report["iwbo_nll"] < report["nll"]
    assert report["iwbo_bits_per_dim"] < report["bits_per_dim"]
    text = runner.invoke(app, ["eval", str(out), "--k", "8"]).stdout
    assert "log_prob is a lower bound (ELBO): stochastic nodes: deq" in text
    assert f"-ELBO: {report['nll']:.4f} ± " in text and "-IWBO, k=8: " in text
    assert "an upper bound on the NLL; 1 draw per example, evaluation seed 0" in text
    np.save(tmp_path / "held.npy", np.zeros((30, 64)))
    result = runner.invoke(app, ["eval", str(out), "--data", str(tmp_path / "held.npy"), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["n"] == 30 and json.loads(result.stdout)["split"] == "all rows"
    np.save(tmp_path / "bad.npy", np.full((30, 64), 99.0))
    bad = runner.invoke(app, ["eval", str(out), "--data", str(tmp_path / "bad.npy")])
    assert bad.exit_code == 1 and "levels: 17" in bad.stderr


def test_sample_plots_arrays_density_curve_and_temperature(runner, trained, tmp_path):
    _, checkpoint = trained
    plot, array = tmp_path / "s.png", tmp_path / "s.npy"
    result = runner.invoke(
        app,
        [
            "sample",
            str(checkpoint),
            "-n",
            "50",
            "-o",
            str(plot),
            "--npy",
            str(array),
            "--density",
            str(tmp_path / "d.png"),
            "--curve",
            str(tmp_path / "c.png"),
        ],
    )
    assert result.exit_code == 0, result.output
    for name in ("s.png", "d.png", "c.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    samples = np.load(array)
    assert samples.shape == (50, 2) and np.isfinite(samples).all()
    cold = tmp_path / "cold.npy"
    assert (
        runner.invoke(
            app, ["sample", str(checkpoint), "-n", "500", "-o", str(cold), "-t", "0.01"]
        ).exit_code
        == 0
    )
    warm = tmp_path / "warm.npy"
    assert (
        runner.invoke(app, ["sample", str(checkpoint), "-n", "500", "-o", str(warm)]).exit_code == 0
    )
    assert np.load(cold).std(0).max() < 0.2 * np.load(warm).std(0).min()
    assert (
        runner.invoke(
            app, ["sample", str(checkpoint), "-o", str(tmp_path / "x.png"), "-t", "0"]
        ).exit_code
        == 2
    )
    assert (
        runner.invoke(
            app, ["sample", str(checkpoint), "-o", str(tmp_path / "x.png"), "-c", "1"]
        ).exit_code
        == 1
    )


def test_sample_conditional_per_context_value(runner, tmp_path):
    spec = spec_file(tmp_path, CONDITIONAL)
    out = tmp_path / "c.safetensors"
    assert (
        runner.invoke(
            app, ["train", str(spec), "-d", "moons", "--steps", "3", "-o", str(out), *QUICK]
        ).exit_code
        == 0
    )
    result = runner.invoke(app, ["sample", str(out), "-n", "20", "-o", str(tmp_path / "s.npy")])
    assert result.exit_code == 0, result.output
    assert np.load(tmp_path / "s.npy").shape == (40, 2)  # labels 0 and 1, 20 each
    result = runner.invoke(
        app, ["sample", str(out), "-n", "20", "-c", "1", "-o", str(tmp_path / "one.png")]
    )
    assert result.exit_code == 0, result.output
    named = runner.invoke(
        app, ["sample", str(out), "-n", "20", "-c", "label=1", "-o", str(tmp_path / "one.npy")]
    )
    assert named.exit_code == 0, named.output
    assert np.load(tmp_path / "one.npy").shape == (20, 2)
    bad = runner.invoke(app, ["sample", str(out), "-c", "1,2", "-o", str(tmp_path / "x.png")])
    assert bad.exit_code == 1 and "give 1" in bad.stderr
    wrong = runner.invoke(
        app, ["sample", str(out), "-c", "colour=1", "-o", str(tmp_path / "x.png")]
    )
    assert wrong.exit_code == 1 and "is 'label', not 'colour'" in wrong.stderr


def test_sample_density_of_a_conditional_model_draws_one_map_per_context_value(
    runner, tmp_path, monkeypatch
):
    """It said "plot_density draws unconditional densities ... but input 'x' has shape
    [2]"; now each label gets its map of p(x | label), on one colour scale."""
    from flowspec.train import plot

    drawn = []
    real_values = plot._density_values

    def recording_values(model, points, chunk, k, context=None):
        log_p, heading, label = real_values(model, points, chunk, k, context)
        drawn.append((context, points, log_p.exp().numpy()))
        return log_p, heading, label

    monkeypatch.setattr(plot, "_density_values", recording_values)
    spec = spec_file(tmp_path, CONDITIONAL)
    out = tmp_path / "c.safetensors"
    train = ["train", str(spec), "-d", "moons", "--steps", "3", "-o", str(out), *QUICK]
    assert runner.invoke(app, train).exit_code == 0
    density = tmp_path / "d.png"
    result = runner.invoke(app, ["sample", str(out), "-n", "5", "--density", str(density)])
    assert result.exit_code == 0, result.output
    assert density.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [float(context) for context, _, _ in drawn] == [0.0, 1.0]
    model, _ = load_checkpoint(out)
    for context, points, density_map in drawn:
        label = context.expand(len(points), 1)
        expected = model.log_prob(points[:50], label[:50]).exp().detach().numpy()
        np.testing.assert_allclose(density_map[:50], expected, rtol=1e-5)
    assert not np.allclose(drawn[0][2], drawn[1][2])
    one = runner.invoke(app, ["sample", str(out), "-c", "label=1", "--density", str(density)])
    assert one.exit_code == 0 and len(drawn) == 3 and float(drawn[2][0]) == 1.0


def test_sample_plot_titles_say_how_many_per_context_value(runner, tmp_path, monkeypatch):
    import flowspec.train.plot as plot

    titles = []
    monkeypatch.setattr(plot, "plot_samples", lambda groups, path, **kw: titles.append(kw["title"]))
    spec = spec_file(tmp_path, CONDITIONAL)
    out = tmp_path / "c.safetensors"
    assert (
        runner.invoke(
            app, ["train", str(spec), "-d", "moons", "--steps", "3", "-o", str(out), *QUICK]
        ).exit_code
        == 0
    )
    for context in ([], ["-c", "label=1"]):
        result = runner.invoke(
            app, ["sample", str(out), "-n", "20", *context, "-o", str(tmp_path / "s.png")]
        )
        assert result.exit_code == 0, result.output
    assert titles[0].endswith(": 20 samples per context value") and titles[1].endswith(
        ": 20 samples"
    )
