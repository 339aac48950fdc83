"""Reverse-KL fitting of a flow to an unnormalized target density: ``flowspec train
--target`` (Rezende and Mohamed 2015, arXiv:1505.05770, Sec. 6.1).

The loss of a step is the mean, over a batch of the model's own draws ``x ~ q``, of
``log q(x) - log p~(x)``: the reverse KL up to the target's unknown constant,
``E_q[log q(x) - log p~(x)] = KL(q || p) - log Z >= -log Z``. The draws and ``log q(x)``
come from ``sample_and_log_prob`` (generation, each node's contribution where it generated:
one pass for couplings, planar, radial, Sylvester and IAF layers, D passes for MAF), and
the gradient flows through the draws (the reparameterisation trick), so the target must be
differentiable in ``x`` (:mod:`flowspec.train.target`).

The fit loop is :func:`flowspec.train.loop.drive` with a :class:`ReverseKL` objective, so
learning-rate schedules, clipping, validation, best and last checkpoints, early stopping
and exact resume work as for maximum likelihood. A validation is the same figure on
:data:`VALIDATION_DRAWS` draws from generators seeded afresh each time (common random
numbers: two validations differ by the weights only). Afterwards the best weights are
scored on :data:`EVALUATION_DRAWS` fresh draws (:func:`score_draws`): that figure with its
standard error, the effective sample size of the importance weights ``w = p~(x) / q(x)``
(Kong 1992: ``(sum w)^2 / sum w^2``, as a fraction of the draws: 1 when ``q`` is the target,
near 0 when it misses mass) and, where ``log Z`` is known (the bundled energies, on a grid:
:func:`flowspec.train.target.log_normalizer`), the KL itself.

    >>> import flowspec
    >>> from flowspec.spec.training import TrainSettings
    >>> from flowspec.train.target import resolve_target
    >>> model = flowspec.compile("specs/planar_energy.yaml")
    >>> settings = TrainSettings(target="U1", steps=20, batch_size=64, val_every=10)
    >>> result = fit_target(model, resolve_target("U1"), settings, progress=False)
    >>> result.steps, result.kl is not None and result.kl.mean > 0, 0 < result.score.ess <= 1
    (20, True, True)
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn

from flowspec.diagnostics import Reporter
from flowspec.emit.runtime import FlowModel
from flowspec.graph.target import check_target, own_sample_likelihood
from flowspec.layers._data_init import DataInitialized
from flowspec.spec.training import TrainSettings
from flowspec.train.checkpoint import CheckpointError, read_meta
from flowspec.train.loop import drive
from flowspec.train.run import RunFiles, TrainingRun
from flowspec.train.settings import merge_settings, total_steps
from flowspec.train.state import seeded
from flowspec.train.target import Target, log_normalizer

__all__ = [
    "EVALUATION_DRAWS",
    "VALIDATION_DRAWS",
    "DrawScore",
    "Estimate",
    "ReverseKL",
    "TargetFitResult",
    "fit_target",
    "score_draws",
    "start_without_data",
]

VALIDATION_DRAWS = 4096
"""Draws of every validation (the same base noise each time)."""
EVALUATION_DRAWS = 1 << 16
"""Fresh draws that score the best weights after training."""
VALIDATION_SEED, EVALUATION_SEED = 0, 1
_CHUNK = 8192  # draws scored at once


@dataclass(frozen=True)
class Estimate:
    """A Monte Carlo mean over draws and its standard error, in nats."""

    mean: float
    stderr: float


@dataclass(frozen=True)
class DrawScore:
    """``log q(x) - log p~(x)`` over ``n`` draws of the model (seeded by ``seed``): its mean
    (the reverse KL up to ``log Z``) with standard error, and the effective sample size of
    the importance weights ``p~/q`` as a fraction of ``n``."""

    n: int
    seed: int
    loss: Estimate
    ess: float


@dataclass
class TargetFitResult:
    """What :func:`fit_target` achieved: the run (as :class:`~flowspec.train.loop.FitResult`
    says, with reverse-KL figures for NLLs), the best weights' :class:`DrawScore` on fresh
    draws, ``log_z`` where the target's constant is known (else None; computed on a grid
    over ``box``, both axes) and ``likelihood``, what ``log q`` of the draws is ("exact",
    ...)."""

    target: str
    steps: int
    best_step: int
    seconds: float
    score: DrawScore
    log_z: float | None
    box: tuple[float, float] | None
    likelihood: str
    stop_reason: str = "steps"
    history: list[tuple[int, float]] = field(default_factory=list)
    val_history: list[tuple[int, float]] = field(default_factory=list)

    @property
    def kl(self) -> Estimate | None:
        """``KL(q || p)`` in nats, where ``log Z`` is known."""
        if self.log_z is None:
            return None
        return Estimate(self.score.loss.mean + self.log_z, self.score.loss.stderr)


class ReverseKL:
    """``log q(x) - log p~(x)`` over ``batch_size`` draws per step, and over a fixed set
    of ``validation_draws`` draws (seeded by ``seed`` every time) per validation."""

    figure = "reverse KL - log Z"
    note = "E_q[log q(x) - log p~(x)], up to the target's unknown log Z; common draws"
    eager_reason: str | None = (
        "reverse-KL fitting draws from the model at every step and trains eagerly (compile "
        "applies to maximum-likelihood training, whose loss is log_prob)"
    )

    def __init__(self, target: Target, batch_size: int, validation_draws: int, seed: int) -> None:
        self.target, self.batch_size = target, batch_size
        self.validation_draws, self.seed = validation_draws, seed

    def loss(
        self, network: nn.Module, step: int, part: int = 0, parts: int = 1
    ) -> tuple[torch.Tensor, int | None]:
        # Every micro-batch is a fresh batch of draws.
        assert isinstance(network, FlowModel), "reverse-KL fitting runs on one process"
        x, log_q = network.sample_and_log_prob(self.batch_size)
        if not bool(torch.isfinite(x).all()):  # the flow diverged: not the target's fault
            return torch.full((), math.nan), None
        return (log_q - self.target.log_density(x)).mean(), None

    def validation(self, model: FlowModel, network: nn.Module) -> float:
        return score_draws(model, self.target, self.validation_draws, self.seed).loss.mean


@torch.no_grad()
def score_draws(model: FlowModel, target: Target, n: int, seed: int) -> DrawScore:
    """``log q(x) - log p~(x)`` over ``n`` draws from generators seeded by ``seed`` (the
    caller's generator states are restored), in eval mode, summed in float64."""
    was_training = model.training
    model.eval()
    gaps = []
    try:
        with seeded(seed):
            for start in range(0, n, _CHUNK):
                x, log_q = model.sample_and_log_prob(min(_CHUNK, n - start))
                if not bool(torch.isfinite(x).all()):
                    gaps.append(torch.full((len(x),), math.nan, dtype=torch.float64))
                    continue
                gaps.append((log_q - target.log_density(x)).double())
    finally:
        model.train(was_training)
    gap = torch.cat(gaps)
    stderr = float(gap.std()) / math.sqrt(n) if n > 1 else math.nan
    log_w = -gap
    ess = math.exp(2 * float(torch.logsumexp(log_w, 0)) - float(torch.logsumexp(2 * log_w, 0)))
    return DrawScore(n, seed, Estimate(float(gap.mean()), stderr), ess / n)


def start_without_data(model: FlowModel) -> list[str]:
    """Mark every layer that waits to be set from data (actnorm, standardize) as set, at
    the values it has (the identity): reverse-KL fitting has no data to set it from, and
    actnorm would otherwise set itself from the model's own first draws. Returns their
    names (node ids)."""
    names = model.uninitialized()
    for module in model.modules():
        if isinstance(module, DataInitialized):
            module.mark_initialized(True)
    return names


def fit_target(
    model: FlowModel,
    target: Target,
    settings: TrainSettings | None = None,
    *,
    files: RunFiles | None = None,
    resume: bool = False,
    meta: dict[str, str] | None = None,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
    on_step: Callable[[int, float], bool | None] | None = None,
    on_validation: Callable[[int, float], bool | None] | None = None,
    validation_draws: int = VALIDATION_DRAWS,
    evaluation_draws: int = EVALUATION_DRAWS,
) -> TargetFitResult:
    """Fit ``model`` in place to ``target`` by reverse KL (see the module doc), with the
    budget, optimizer and validation of ``settings`` (``batch_size`` draws per step),
    writing ``files`` as :func:`flowspec.train.loop.fit` does. Raises
    :class:`~flowspec.diagnostics.SpecError` when the model cannot be fitted to the target
    (E911-E913), :class:`~flowspec.train.target.TargetError` when the target returns what
    cannot be a log-density, and what :func:`~flowspec.train.loop.fit` raises."""
    settings = merge_settings(settings)
    if settings.epochs is not None:
        raise ValueError("epochs count passes over a training split; a target has none: give steps")
    reporter = Reporter(model.checked.loaded.source)
    check_target(model.checked.graph, target.name, reporter)
    reporter.raise_if_errors()
    if not any(p.requires_grad for p in model.parameters()):
        raise ValueError("the model has no trainable parameters; there is nothing to fit")
    if resume:
        _check_same_target(files, target)
    start_without_data(model)
    objective = ReverseKL(target, settings.batch_size, validation_draws, VALIDATION_SEED)
    run = TrainingRun(
        model=model,
        settings=settings,
        objective=objective,
        total=total_steps(settings, 1),
        files=files,
        resume=resume,
        meta=dict(meta or {}) | {"target": target.name},
        distributed=None,
    )
    drive(run, f"fit {target.name}", progress, log, on_step, on_validation)
    model.load_state_dict(run.best_weights)
    return TargetFitResult(
        target=target.name,
        steps=run.progress.step,
        best_step=run.progress.best_step,
        seconds=run.seconds(),
        score=score_draws(model, target, evaluation_draws, EVALUATION_SEED),
        log_z=log_normalizer(target) if target.box is not None else None,
        box=target.box,
        likelihood=own_sample_likelihood(model.checked.graph).label,
        stop_reason=run.stop_reason,
        history=run.history,
        val_history=run.val_history,
    )


def _check_same_target(files: RunFiles | None, target: Target) -> None:
    """A resumed run fits what its last checkpoint was fitting."""
    if files is None:
        raise ValueError("resuming needs the run's files (RunFiles) to find the last checkpoint")
    before = read_meta(files.last).get("target")
    if before != target.name:
        what = f"target {before}" if before else "data"
        raise CheckpointError(
            f"checkpoint '{files.last}' was fitted to {what}, not target {target.name}: "
            "resume with the same target, or start a new run with another --output"
        )
