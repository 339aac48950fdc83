"""Maximum-likelihood training of a compiled flow, with validation, early stopping,
checkpoints, exact resumption and metrics logs; on one process or several (DDP).

The loss is ``-log_prob(x).mean()`` in nats per example of the data as given (its own
units: any preprocessing is a node of the model, its log-det counted): the exact negative
log-likelihood for exact models, else what the model's likelihood class says (the negative
of a one-sample lower bound, an estimate). A fresh run first sets the layers that take their numbers from data (``standardize``'s statistics,
actnorm's initialisation) from the whole training split with ``model.initialize``, unless
they are all set already; a resumed run keeps the checkpoint's. Each step takes the next
batch of a seeded permutation of the training split (epoch ``e`` uses the permutation
seeded by ``(seed, e)``, so the data order is a function of the step alone), sets the
learning rate from the schedule (linear warm-up, then constant, cosine or linear decay to
0), clips the gradient norm and steps the optimizer.

Every ``val_every`` steps the validation NLL is computed; the best weights so far are kept
(and written to the best checkpoint), the last checkpoint is written with the full training
state (optimizer, random generators, data position, early-stopping counters), and training
stops early after ``patience`` validations without improvement. At the end the best
weights are loaded back and evaluated on every split. Validation and these figures are
scored as ``flowspec eval`` scores (exact options of estimators, common random numbers:
:mod:`flowspec.train.run`, :mod:`flowspec.train.nll`), so they agree with it. Both checkpoints are written
atomically. Resuming from the last checkpoint continues exactly: at a fixed seed, the
losses after resuming equal those of an uninterrupted run. A NaN or infinite loss or
gradient stops training with a message naming the step and the last good checkpoint.

Under ``torchrun`` (``WORLD_SIZE`` > 1) the model is wrapped in DistributedDataParallel
(Li et al. 2020, arXiv:2006.15704), each process takes its share of every batch and of
the validation split, and only rank 0 writes files; the last checkpoint holds every
process's random state, and Ctrl-C keeps the checkpoint of the last validation; see
:mod:`flowspec.train.distributed`.

Example (see also :mod:`flowspec.train`)::

    >>> import flowspec
    >>> from flowspec.spec.training import TrainSettings
    >>> from flowspec.train import load_dataset
    >>> model = flowspec.compile("specs/realnvp_moons.yaml")
    >>> data = load_dataset("moons", n_train=256, n_val=64, n_test=64)
    >>> settings = TrainSettings(steps=20, batch_size=64, lr=1e-3, val_every=10)
    >>> result = fit(model, data, settings, progress=False)
    >>> [step for step, _ in result.val_history], result.best_step in (10, 20)
    ([10, 20], True)
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from tqdm.auto import tqdm

from flowspec.emit.runtime import FlowModel
from flowspec.spec.training import TrainSettings
from flowspec.train.baseline import Baseline, fit_baseline, run_warnings
from flowspec.train.compat import check_compatible, drop_unused_context
from flowspec.train.compiled import cache_folder
from flowspec.train.data import SPLITS, Dataset
from flowspec.train.distributed import Distributed
from flowspec.train.metrics import write_summary
from flowspec.train.nll import bits_per_dim, evaluate_nll, model_dtype_device
from flowspec.train.objective import BatchOrder, MaximumLikelihood
from flowspec.train.run import (
    RunFiles,
    TrainingDiverged,
    TrainingInterrupted,
    TrainingRun,
)
from flowspec.train.settings import learning_rate, merge_settings, total_steps

__all__ = [
    "FitResult",
    "RunFiles",
    "TrainingDiverged",
    "TrainingInterrupted",
    "drive",
    "evaluate_nll",
    "fit",
    "learning_rate",
]


@dataclass
class FitResult:
    """What a run of :func:`fit` achieved.

    ``train_nll``, ``val_nll`` and ``test_nll`` are mean ``-log_prob`` in nats per example
    of the best weights (lowest validation NLL) over the full splits, in eval mode, scored
    with the exact options of estimators (``scored_with`` lists them) on seeded
    generators. ``likelihood`` is the class of what scored them, ``figure_name`` their name
    ("NLL", "-ELBO", "NLL upper bound") and ``figure`` says what they are ("exact", "an
    upper bound on the NLL; 1 draw per example, evaluation seed 0":
    :func:`flowspec.train.evaluate.figure_note`). ``bits_per_dim`` is ``test_nll / (D ln
    2)`` for discrete data (``D`` values per example) and None for continuous data. ``history`` holds the training loss of every step of this
    process's run (after a resume: from the resumed step on), ``val_history`` the
    validation NLLs, ``steps`` the steps done, ``best_step`` the step of the best weights,
    ``stop_reason`` why training ended: ``steps`` (all done), ``patience`` (early stopping),
    ``time limit`` or ``callback`` (``on_step`` or ``on_validation`` returned True).
    ``baseline`` is the trivial density's test NLL in the same units
    (:mod:`flowspec.train.baseline`) and ``warnings`` says when the model does not beat it
    clearly or had not converged, or why ``compile: true`` left the model eager. Under
    ``compile: true``, ``compile_seconds`` is the wall time of the first step, compiling
    included (a one-off cost: the later steps reuse the compiled code), and
    ``compile_cache`` the folder of inductor's on-disk cache, from which a second run of the
    same spec compiles faster (:mod:`flowspec.train.compiled`); both are None otherwise.
    """

    steps: int
    best_step: int
    train_nll: float
    val_nll: float
    test_nll: float
    bits_per_dim: float | None
    seconds: float
    stop_reason: str = "steps"
    history: list[tuple[int, float]] = field(default_factory=list)
    val_history: list[tuple[int, float]] = field(default_factory=list)
    likelihood: str = "exact"
    figure_name: str = "NLL"
    figure: str = "exact"
    scored_with: list[str] = field(default_factory=list)
    baseline: Baseline | None = None
    warnings: list[str] = field(default_factory=list)
    compile_seconds: float | None = None
    compile_cache: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The figures of the run (not its loss histories) as JSON: what ``flowspec train``
        writes to ``NAME.summary.json``."""
        figures = {k: v for k, v in asdict(self).items() if k not in ("history", "val_history")}
        figures["baseline"] = self.baseline.to_json() if self.baseline is not None else None
        return {"units": "nats per example", **figures}


def fit(
    model: FlowModel,
    dataset: Dataset,
    settings: TrainSettings | None = None,
    *,
    steps: int | None = None,
    batch_size: int | None = None,
    lr: float | None = None,
    seed: int | None = None,
    files: RunFiles | None = None,
    resume: bool = False,
    meta: dict[str, str] | None = None,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
    on_step: Callable[[int, float], bool | None] | None = None,
    on_validation: Callable[[int, float], bool | None] | None = None,
    distributed: Distributed | None = None,
) -> FitResult:
    """Train ``model`` in place on ``dataset`` with ``settings`` (see the module doc);
    ``steps``, ``batch_size``, ``lr`` and ``seed``, when given, override them.

    ``files`` says where to write checkpoints and metrics (nothing is written without it;
    with ``distributed``, only rank 0 writes, every rank reads when resuming). ``resume``
    continues from ``files.last``. ``on_step(step, loss)`` is called after every step (and
    its metrics row and validation), ``on_validation(step, val_nll)`` after every
    validation (what a study's pruner reads); when either returns True, training stops
    there (``stop_reason`` ``callback``, the best weights so far are scored). Raises
    ``ValueError`` when the data does not fit the model, :class:`TrainingDiverged` on a
    non-finite loss or gradient and :class:`TrainingInterrupted` on Ctrl-C (after writing
    the last checkpoint).
    """
    overrides = {"steps": steps, "batch_size": batch_size, "lr": lr, "seed": seed}
    settings = merge_settings(settings, overrides)
    report = _reporter(progress, log)
    run = _start_run(model, dataset, settings, files, resume, meta, distributed, report)
    drive(run, f"train {dataset.name}", progress, log, on_step, on_validation)
    return _finish(run, dataset)


def _reporter(progress: bool, log: Callable[[str], None] | None) -> Callable[[str], None] | None:
    """Where lines of progress go: ``log``, else above the progress bar, else nowhere."""
    return log if log is not None else (tqdm.write if progress else None)


def drive(
    run: TrainingRun,
    description: str,
    progress: bool,
    log: Callable[[str], None] | None,
    on_step: Callable[[int, float], bool | None] | None,
    on_validation: Callable[[int, float], bool | None] | None,
) -> None:
    """Run the steps of ``run`` that remain, validating when due, until its last step or
    a stop rule (patience, time limit, a callback returning True); whatever its
    objective. ``description`` labels the progress bar; see :func:`fit` for the rest."""
    model = run.model
    report = _reporter(progress, log)
    for problem in (run.settings.warmup_shortfall(run.total), run.eager_reason):
        if problem is None:
            continue
        if report is not None:
            report(f"warning: {problem}")
        else:
            warnings.warn(problem, stacklevel=3)
    was_training = model.training
    bar = tqdm(
        total=run.total,
        initial=run.progress.step,
        desc=description,
        unit="step",
        disable=not progress,
    )
    model.train()
    try:
        for step in run.remaining_steps():
            value, out_of_time = run.train_step(step)
            bar.update()
            if step % 10 == 0 or step == run.total:
                bar.set_postfix(loss=f"{run.window.running:.4f}", refresh=False)
            validated = run.due_for_validation(step, out_of_time)
            if validated:
                val_nll = run.validate(step, out_of_time)
                if report is not None:
                    best = " (best)" if run.progress.best_step == step else ""
                    report(
                        f"step {step}: train loss {run.window.running:.4f} nats, "
                        f"val {run.objective.figure} {val_nll:.4f} nats{best}"
                    )
            run.log_metrics(step, validated)
            stop = on_step is not None and on_step(step, value)
            if validated and on_validation is not None:
                stop = on_validation(step, val_nll) or stop
            if stop and run.stop_reason == "steps" and step < run.total:
                run.stop_reason = "callback"
            if run.stop_reason != "steps":
                if report is not None:
                    report(run.stop_message(step))
                break
    except KeyboardInterrupt:
        raise run.interrupted() from None
    finally:
        bar.close()
        run.close()
        model.train(was_training)


def _start_run(
    model: FlowModel,
    dataset: Dataset,
    settings: TrainSettings,
    files: RunFiles | None,
    resume: bool,
    meta: dict[str, str] | None,
    distributed: Distributed | None,
    report: Callable[[str], None] | None,
) -> TrainingRun:
    """Check that the data fits the model and set up the run (resumed or fresh); a fresh
    run first sets the layers that take their numbers from data (standardize, actnorm)
    from the whole training split, unless they are all set already."""
    dataset = drop_unused_context(model, dataset)
    problems = check_compatible(model, dataset)
    if problems:
        raise ValueError(
            f"data set '{dataset.name}' does not fit the model:\n"
            + "\n".join(f"  - {p}" for p in problems)
        )
    if not any(p.requires_grad for p in model.parameters()):
        raise ValueError("the model has no trainable parameters; there is nothing to fit")
    dtype, device = model_dtype_device(model)
    world = distributed.world if distributed is not None else 1
    if dataset.val is None:
        raise ValueError(
            f"data set '{dataset.name}' has no validation split to select the best weights"
        )
    batch = min(settings.batch_size, len(dataset.train))
    if batch < world:
        raise ValueError(
            f"the batch size ({batch}) must be at least the number of processes ({world})"
        )
    if batch * settings.accumulate > len(dataset.train):
        raise ValueError(
            f"accumulate: {settings.accumulate} micro-batches of {batch} examples need "
            f"{batch * settings.accumulate} training examples per step; the training split "
            f"has {len(dataset.train)}"
        )
    batches = BatchOrder(len(dataset.train), batch * settings.accumulate, settings.seed)
    train = dataset.split("train").to(device=device, dtype=dtype)
    if not resume and model.uninitialized():  # a resumed run keeps the checkpoint's
        names = model.initialize(*train.inputs())
        if report is not None:
            report(f"set from the training split ({len(train)} examples): {', '.join(names)}")
    objective = MaximumLikelihood(
        model, train, dataset.split("val").to(device=device, dtype=dtype), batches, distributed
    )
    return TrainingRun(
        model=model,
        settings=settings,
        objective=objective,
        total=total_steps(settings, batches.per_epoch),
        files=files,
        resume=resume,
        meta=dict(meta or {}),
        distributed=distributed,
    )


def _finish(run: TrainingRun, dataset: Dataset) -> FitResult:
    """Load the best weights back, score them on every split next to the baseline, and
    write the summary (rank 0, when the run has files)."""
    model = run.model
    model.load_state_dict(run.best_weights)
    dtype, device = model_dtype_device(model)
    dataset = drop_unused_context(model, dataset)
    objective = run.objective
    assert isinstance(objective, MaximumLikelihood), "fit trains by maximum likelihood"
    train_nll, val_nll, test_nll = (
        objective.score(model, run.network, dataset.split(which).to(device=device, dtype=dtype))
        for which in SPLITS
    )
    discrete = dataset.levels is not None
    baseline = fit_baseline(dataset)
    steps, best_step = run.progress.step, run.progress.best_step
    result = FitResult(
        steps=steps,
        best_step=best_step,
        train_nll=train_nll,
        val_nll=val_nll,
        test_nll=test_nll,
        bits_per_dim=bits_per_dim(test_nll, baseline.dims) if discrete else None,
        seconds=run.seconds(),
        stop_reason=run.stop_reason,
        history=run.history,
        val_history=run.val_history,
        likelihood=objective.scorer.likelihood,
        figure_name=objective.figure,
        figure=objective.note,
        scored_with=objective.scored_with,
        baseline=baseline,
        warnings=run_warnings(
            test_nll,
            baseline,
            steps,
            best_step,
            bound=objective.scorer.likelihood == "lower bound" and objective.scorer.draws_noise,
        )
        + ([run.eager_reason] if run.eager_reason is not None else []),
        compile_seconds=run.compile_seconds,
        compile_cache=cache_folder() if run.compile_seconds is not None else None,
    )
    if run.files is not None:
        write_summary(run.files.summary, result.to_json())
    return result
