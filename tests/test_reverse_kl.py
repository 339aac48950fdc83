"""Reverse-KL fitting to unnormalized targets (``flowspec train --target``): the loss and
its gradient against the closed form for Gaussians, recovery of a Gaussian target, KL
with ``log Z`` from the grid, the bundled energies, and a user's target file's mistakes
as located errors."""

from __future__ import annotations

import math

import pytest
import torch
from bundled import SPECS, TARGETS
from typer.testing import CliRunner

import flowspec
from flowspec.cli import app
from flowspec.spec.training import TrainSettings
from flowspec.train.checkpoint import CheckpointError, load_checkpoint
from flowspec.train.energies import BOX, ENERGIES
from flowspec.train.reverse_kl import ReverseKL, fit_target, score_draws
from flowspec.train.run import RunFiles
from flowspec.train.target import Target, TargetError, log_normalizer, resolve_target

# x = z * exp(-s) - b with z ~ N(0, I): q = N(-b, exp(-2 s)) per feature.
GAUSSIAN_FLOW = """\
flowspec: "1"
name: gaussian-flow
inputs:
  x: {shape: [2]}
nodes:
  affine: {kind: actnorm, in: x, data_init: false}
  prior: {kind: standard_normal, in: affine}
"""
MEAN, SCALE = torch.tensor([1.5, -0.5]), torch.tensor([0.5, 2.0])
TARGET_FILE = """\
import torch

MEAN, SCALE = torch.tensor([1.5, -0.5]), torch.tensor([0.5, 2.0])


def gaussian(x):
    return (-0.5 * ((x - MEAN.to(x.dtype)) / SCALE.to(x.dtype)) ** 2).sum(-1)
"""
QUICK = ["--no-progress", "--no-tensorboard"]


def gaussian_target(box: tuple[float, float] | None = None) -> Target:
    """``N(MEAN, SCALE^2)`` up to its constant ``log Z = sum log(SCALE sqrt(2 pi))``."""

    def log_density(x: torch.Tensor) -> torch.Tensor:
        return (-0.5 * ((x - MEAN.to(x.dtype)) / SCALE.to(x.dtype)) ** 2).sum(-1)

    return Target("gaussian", log_density, shape=(2,), box=box)


GAUSSIAN_LOG_Z = float(torch.log(SCALE * math.sqrt(2 * math.pi)).sum())


def gaussian_model(bias: torch.Tensor, log_scale: torch.Tensor) -> flowspec.FlowModel:
    model = flowspec.compile(GAUSSIAN_FLOW).double()
    layer = model.nodes["affine"]
    with torch.no_grad():
        layer.bias.copy_(bias)
        layer.log_scale.copy_(log_scale)
    return model


def closed_form_kl(bias: torch.Tensor, log_scale: torch.Tensor) -> torch.Tensor:
    """KL(N(mu, sigma^2) || N(MEAN, SCALE^2)) summed over features, mu = -b, sigma = e^-s."""
    mu, sigma = -bias, torch.exp(-log_scale)
    mean, scale = MEAN.double(), SCALE.double()
    return (torch.log(scale / sigma) + (sigma**2 + (mu - mean) ** 2) / (2 * scale**2) - 0.5).sum()


def test_loss_and_gradient_match_the_closed_form_kl_between_gaussians():
    bias, log_scale = torch.tensor([0.3, -0.2]), torch.tensor([0.4, 0.3])
    model = gaussian_model(bias, log_scale)
    objective = ReverseKL(gaussian_target(), 200_000, 16, seed=0)
    torch.manual_seed(0)
    loss, epoch = objective.loss(model, 1)
    loss.backward()
    layer = model.nodes["affine"]

    exact_bias = bias.double().requires_grad_()
    exact_scale = log_scale.double().requires_grad_()
    kl = closed_form_kl(exact_bias, exact_scale)
    kl.backward()
    assert epoch is None
    # E_q[log q - log p~] = KL - log Z; the gradient is the KL's (log Z is a constant).
    assert float(loss.detach()) + GAUSSIAN_LOG_Z == pytest.approx(float(kl.detach()), abs=0.02)
    assert torch.allclose(layer.bias.grad, exact_bias.grad, atol=0.02)
    assert torch.allclose(layer.log_scale.grad, exact_scale.grad, atol=0.03)
    assert float(exact_scale.grad.abs().min()) > 0.3  # far from the optimum: not trivially 0


def test_a_short_fit_recovers_the_mean_and_scale_of_a_gaussian_target():
    torch.manual_seed(0)
    model = flowspec.compile(GAUSSIAN_FLOW)
    settings = TrainSettings(steps=300, batch_size=256, lr=0.05, val_every=100)
    result = fit_target(model, gaussian_target(), settings, progress=False, evaluation_draws=4096)
    layer = model.nodes["affine"]
    assert torch.allclose(-layer.bias.detach(), MEAN, atol=0.1)
    assert torch.allclose(torch.exp(-layer.log_scale.detach()), SCALE, rtol=0.1)
    # At the target, log q - log p~ = -log Z for every draw: the estimate has no spread.
    assert result.score.loss.mean == pytest.approx(-GAUSSIAN_LOG_Z, abs=0.02)
    assert result.score.ess > 0.95
    assert result.log_z is None and result.kl is None  # a user's target: log Z unknown


def test_grid_log_z_is_exact_for_a_gaussian_and_the_kl_of_the_target_itself_is_zero():
    target = gaussian_target(box=(-16.0, 16.0))
    assert log_normalizer(target, points=601) == pytest.approx(GAUSSIAN_LOG_Z, abs=1e-6)
    model = gaussian_model(-MEAN.double(), -torch.log(SCALE.double()))
    score = score_draws(model, target, 4096, seed=3)
    kl = score.loss.mean + log_normalizer(target, points=601)
    assert abs(kl) < 1e-6 and score.ess == pytest.approx(1.0)


@pytest.mark.parametrize("name", list(ENERGIES))
def test_kl_of_a_standard_normal_to_each_energy_is_positive_with_its_grid_log_z(name):
    """KL(q || p) = E_q[log q - log p~] + log Z >= 0 for any q: a wrong log Z (sign, cell
    size, a box cutting off mass) or a wrong energy would show as a negative KL. The
    grid is converged: halving the spacing changes log Z by less than 1e-4."""
    target = resolve_target(name)
    log_z = log_normalizer(target)
    assert log_normalizer(target, points=701) == pytest.approx(log_z, abs=1e-4)
    model = flowspec.compile(GAUSSIAN_FLOW)
    score = score_draws(model, target, 1 << 14, seed=0)
    assert score.loss.mean + log_z - 3 * score.loss.stderr > 0
    assert 0 < score.ess < 1


def test_energies_match_the_papers_formulas_inside_the_window():
    z = torch.tensor([[0.5, 1.0], [-1.0, 0.3], [2.0, -1.5], [3.9, 0.2]])
    z1, z2 = z[:, 0], z[:, 1]
    w1 = torch.sin(math.pi * z1 / 2)
    w2 = 3 * torch.exp(-0.5 * ((z1 - 1) / 0.6) ** 2)
    w3 = 3 / (1 + torch.exp(-(z1 - 1) / 0.3))
    u = {
        "U1": 0.5 * ((z.norm(dim=1) - 2) / 0.4) ** 2
        - torch.log(
            torch.exp(-0.5 * ((z1 - 2) / 0.6) ** 2) + torch.exp(-0.5 * ((z1 + 2) / 0.6) ** 2)
        ),
        "U2": 0.5 * ((z2 - w1) / 0.4) ** 2,
        "U3": -torch.log(
            torch.exp(-0.5 * ((z2 - w1) / 0.35) ** 2)
            + torch.exp(-0.5 * ((z2 - w1 + w2) / 0.35) ** 2)
        ),
        "U4": -torch.log(
            torch.exp(-0.5 * ((z2 - w1) / 0.4) ** 2)
            + torch.exp(-0.5 * ((z2 - w1 + w3) / 0.35) ** 2)
        ),
    }
    for name, energy in ENERGIES.items():
        assert torch.allclose(energy.log_density(z), -u[name], atol=1e-5), name
    outside = torch.tensor([[5.0, 0.0]])  # walled: 1/2 ((5 - 4) / 0.4)^2 more energy
    shift = ENERGIES["U2"].log_density(outside) - (
        -0.5 * (torch.sin(torch.tensor(2.5 * math.pi)) / 0.4) ** 2
    )
    assert float(shift) == pytest.approx(-0.5 * (1 / 0.4) ** 2, rel=1e-5)
    assert BOX == (-7.0, 7.0)


# --- the command line ---------------------------------------------------------------------


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return path


def train(tmp_path, *arguments):
    spec = write(tmp_path, "flow.yaml", GAUSSIAN_FLOW)
    output = tmp_path / "fit.safetensors"
    return CliRunner().invoke(app, ["train", str(spec), *arguments, "-o", str(output), *QUICK])


def test_train_target_file_fits_reports_and_resumes(tmp_path):
    target = write(tmp_path, "target.py", TARGET_FILE)
    common = ["--target", f"{target}:gaussian", "--batch-size", "128", "--lr", "0.05"]
    common += ["--patience", "1000"]
    first = train(tmp_path, *common, "--steps", "150")
    assert first.exit_code == 0, first.output
    assert (
        "reverse KL - log Z:" in first.stdout
        and "log Z, the target's constant, is unknown" in first.stdout
    )
    assert "ESS:" in first.stdout and "nats" in first.stdout
    resumed = train(tmp_path, *common, "--steps", "250", "--resume")
    assert resumed.exit_code == 0, resumed.output
    assert "for 250 steps" in " ".join(resumed.stdout.split())
    model, _ = load_checkpoint(tmp_path / "fit.safetensors")
    assert torch.allclose(-model.nodes["affine"].bias.detach(), MEAN, atol=0.15)
    checkpoint, figure = str(tmp_path / "fit.safetensors"), str(tmp_path / "fit.png")
    unnamed = CliRunner().invoke(app, ["sample", checkpoint, "--density", figure, "-n", "50"])
    assert unnamed.exit_code == 0 and "never imports a file a checkpoint names" in unnamed.output
    named = CliRunner().invoke(
        app, ["sample", checkpoint, "--density", figure, "-n", "50", "--target", common[1]]
    )
    assert named.exit_code == 0, named.output


def test_train_target_energy_reports_kl_and_ess(tmp_path):
    result = train(tmp_path, "--target", "U1", "--steps", "30", "--batch-size", "64")
    assert result.exit_code == 0, result.output
    kl = next(line for line in result.stdout.splitlines() if line.startswith("KL(q || p):"))
    assert float(kl.split()[3]) > 0
    assert "log Z:" in result.stdout and "1401 x 1401 grid" in result.stdout
    figure = tmp_path / "fit.png"
    drawn = CliRunner().invoke(
        app, ["sample", str(tmp_path / "fit.safetensors"), "--density", str(figure), "-n", "200"]
    )
    assert drawn.exit_code == 0, drawn.output
    assert figure.stat().st_size > 10_000  # three panels: target, fitted density, samples


BAD_TARGETS = {
    "raises": ("def f(x):\n    return x[:, 5]\n", "target.py:2", "IndexError"),
    "wrong shape": ("def f(x):\n    return x\n", "target.py:1", "expected (64,)"),
    "wrong dtype": ("def f(x):\n    return (x > 0).all(-1)\n", "target.py:1", "dtype torch.bool"),
    "nan": (
        "import torch\n\n\ndef f(x):\n    return torch.log(x[:, 0] - 1e9)\n",
        "target.py:4",
        "nan",
    ),
    "not a tensor": ("def f(x):\n    return 1.0\n", "target.py:1", "expected a torch tensor"),
    "detached": ("def f(x):\n    return x.detach().sum(-1)\n", "target.py:1", "autograd"),
    "no function": (
        "def g(x):\n    return x.sum(-1)\n",
        "target.py",
        "no function 'f' (it defines g)",
    ),
    "import error": (
        "import torch\n\nraise RuntimeError('boom')\n",
        "target.py:3",
        "RuntimeError: boom",
    ),
    "syntax": ("def f(x) return x\n", "target.py:1:", "syntax error"),
}


@pytest.mark.parametrize("case", list(BAD_TARGETS))
def test_a_wrong_target_file_is_a_located_error(tmp_path, case):
    source, where, what = BAD_TARGETS[case]
    write(tmp_path, "target.py", source)
    result = train(
        tmp_path, "--target", f"{tmp_path / 'target.py'}:f", "--steps", "2", "--batch-size", "64"
    )
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert where in result.output and what in result.output, result.output


def test_a_missing_target_file_and_a_misspelt_energy_are_errors(tmp_path):
    missing = train(tmp_path, "--target", f"{tmp_path / 'nowhere.py'}:f")
    assert missing.exit_code == 1 and "nowhere.py: does not exist" in missing.output
    epochs = train(tmp_path, "--target", "U1", "--epochs", "2")
    assert epochs.exit_code == 1 and "give steps" in epochs.output
    assert "Traceback" not in epochs.output
    misspelt = train(tmp_path, "--target", "U5")  # a bad option value, as --lr -1
    assert misspelt.exit_code == 2 and "U1, U2, U3, U4" in misspelt.output
    with pytest.raises(TargetError, match="did you mean"):
        resolve_target(f"{write(tmp_path, 'ok.py', TARGET_FILE)}:gausian")


def test_an_energy_on_a_spec_whose_input_is_not_2d_is_a_located_error(tmp_path):
    spec = write(tmp_path, "flow.yaml", GAUSSIAN_FLOW.replace("shape: [2]", "shape: [3]"))
    result = CliRunner().invoke(app, ["train", str(spec), "--target", "U2", *QUICK])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "E911" in result.output and "flow.yaml:4" in result.output


def test_a_python_target_in_a_spec_is_refused_and_never_imported(tmp_path):
    marker = tmp_path / "imported"
    write(
        tmp_path,
        "evil.py",
        f"open({str(marker)!r}, 'w').close()\n\ndef f(x):\n    return x.sum(-1)\n",
    )
    spec = write(
        tmp_path, "flow.yaml", GAUSSIAN_FLOW + f"train: {{target: {tmp_path / 'evil.py'}:f}}\n"
    )
    result = CliRunner().invoke(app, ["train", str(spec), *QUICK])
    assert result.exit_code == 1 and "E910" in result.output
    assert not marker.exists()


def test_maf_is_warned_about_and_iaf_is_not():
    maf = GAUSSIAN_FLOW.replace(
        "{kind: actnorm, in: x, data_init: false}", "{kind: autoregressive, in: x, direction: maf}"
    )
    warned = flowspec.check(maf + "train: {target: U1}\n").warnings
    assert [(d.code, d.node) for d in warned if d.code == "W914"] == [("W914", "affine")]
    iaf = maf.replace("direction: maf", "direction: iaf")
    assert "W914" not in [d.code for d in flowspec.check(iaf + "train: {target: U1}\n").warnings]


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_bundled_target_spec_validates_and_a_short_fit_lowers_its_kl(name):
    checked = flowspec.check(SPECS / f"{name}.yaml")
    assert checked.warnings == []
    assert checked.graph.header.train.target == TARGETS[name]
    torch.manual_seed(0)
    model = checked.build_model()
    target = resolve_target(TARGETS[name])
    before = score_draws(model, target, 4096, seed=0).loss.mean
    settings = TrainSettings(steps=100, batch_size=128, val_every=50)
    result = fit_target(model, target, settings, progress=False, evaluation_draws=4096)
    assert result.kl is not None and 0 < result.kl.mean
    assert result.score.loss.mean < before - 0.5, (before, result.score.loss.mean)


def test_a_resumed_fit_continues_exactly(tmp_path):
    """Validation draws on generators of its own (common random numbers), so the training
    stream, restored from the last checkpoint, gives the losses of an unbroken run."""
    settings = TrainSettings(steps=40, batch_size=64, lr=0.02, val_every=10)

    def run(name: str, stop: int, resume: bool) -> list[tuple[int, float]]:
        torch.manual_seed(0)
        model = flowspec.compile(SPECS / "planar_energy.yaml")
        files = RunFiles.beside(tmp_path / f"{name}.safetensors")
        result = fit_target(
            model,
            resolve_target("U2"),
            settings,
            files=files,
            resume=resume,
            progress=False,
            on_step=lambda step, _: step == stop,
            evaluation_draws=256,
        )
        return result.history

    whole = run("whole", 40, resume=False)
    run("cut", 20, resume=False)  # stopped after the validation of step 20
    assert run("cut", 40, resume=True) == whole[20:]
    with pytest.raises(CheckpointError, match="fitted to target U2, not target U3"):
        model = flowspec.compile(SPECS / "planar_energy.yaml")
        files = RunFiles.beside(tmp_path / "cut.safetensors")
        fit_target(model, resolve_target("U3"), settings, files=files, resume=True)
