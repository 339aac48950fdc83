"""Maximum-likelihood training of a compiled flow, with validation, early stopping,
checkpoints, exact resumption and metrics logs; on one process or several (DDP).

The loss is ``-log_prob(x).mean()`` in nats per example: the exact negative log-likelihood
for exact models, else the negative of a one-sample lower bound. Each step takes the next
batch of a seeded permutation of the training split (epoch ``e`` uses the permutation
seeded by ``(seed, e)``, so the data order is a function of the step alone), sets the
learning rate from the schedule (linear warm-up, then constant, cosine or linear decay to
0), clips the gradient norm and steps the optimizer.

Every ``val_every`` steps the validation NLL is computed; the best weights so far are kept
(and written to the best checkpoint), the last checkpoint is written with the full training
state (optimizer, random generators, data position, early-stopping counters), and training
stops early after ``patience`` validations without improvement. At the end the best
weights are loaded back and evaluated on the test split. Both checkpoints are written
atomically. Resuming from the last checkpoint continues exactly: at a fixed seed, the
losses after resuming equal those of an uninterrupted run. A NaN or infinite loss or
gradient stops training with a message naming the step and the last good checkpoint.

Under ``torchrun`` (``WORLD_SIZE`` > 1) the model is wrapped in DistributedDataParallel
(Li et al. 2020, arXiv:2006.15704), each process takes its share of every batch and of
the validation split, and only rank 0 writes files; the last checkpoint holds every
process's random state, and Ctrl-C keeps the checkpoint of the last validation; see
:mod:`flowspec.train.distributed`.

Example::

    >>> settings = TrainSettings(steps=2000, lr=1e-3)                          # doctest: +SKIP
    >>> result = fit(model, load_dataset("moons"), settings, files=RunFiles.beside("m.safetensors"))
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch
from torch import nn
from tqdm.auto import tqdm

from flowspec.emit.runtime import FlowModel
from flowspec.spec.training import TrainSettings
from flowspec.train.checkpoint import (
    CheckpointError,
    SavedRun,
    load_training_state,
    load_weights,
    read_weights,
    save_checkpoint,
)
from flowspec.train.compat import check_compatible, drop_unused_context
from flowspec.train.data import SPLITS, Dataset, Split
from flowspec.train.distributed import Distributed
from flowspec.train.metrics import MetricsLog
from flowspec.train.settings import merge_settings, total_steps
from flowspec.train.optim import Optimizer
from flowspec.train.state import by_rank, restore_rng, rng_state

__all__ = [
    "FitResult",
    "RunFiles",
    "TrainingDiverged",
    "TrainingInterrupted",
    "evaluate_nll",
    "fit",
    "learning_rate",
]

LOG_EVERY = 10
"""Steps between rows of the metrics log (validation steps always get one)."""
VALIDATIONS = 40
"""Validations per run when ``val_every`` is not given."""
_SMOOTHING = 0.98  # of the running loss shown on the progress bar


class TrainingDiverged(RuntimeError):
    """The loss or the gradient became NaN or infinite at ``step`` (1-based)."""

    def __init__(self, step: int, what: str, value: float, last_good: str | None = None):
        self.step = step
        self.value = value
        where = f"; the last good checkpoint is {last_good}" if last_good else ""
        super().__init__(
            f"training diverged at step {step}: the {what} is {value}{where}; try a smaller "
            f"learning rate, a warm-up, a smaller scale_bound, or fewer/smaller layers"
        )


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C during training; the last checkpoint (``checkpoint``, if any) holds step
    ``step``: the step interrupted after on one process, the last validation's under DDP."""

    def __init__(self, step: int, checkpoint: Path | None):
        self.step, self.checkpoint = step, checkpoint
        where = f"; {checkpoint} holds step {step}" if checkpoint else f" after step {step}"
        super().__init__(f"interrupted{where}")


@dataclass(frozen=True)
class RunFiles:
    """Where a run writes: the best checkpoint (the path asked for), the last checkpoint
    (``NAME.last.safetensors``), the metrics logs and the TensorBoard folder beside it."""

    best: Path
    last: Path
    metrics_csv: Path
    metrics_jsonl: Path
    tensorboard: Path | None

    @classmethod
    def beside(cls, checkpoint: str | Path, tensorboard: bool = False) -> RunFiles:
        path = Path(checkpoint)
        stem = path.name[: -len(path.suffix)] if path.suffix else path.name
        sibling = path.with_name
        return cls(
            best=path,
            last=sibling(f"{stem}.last{path.suffix}"),
            metrics_csv=sibling(f"{stem}.metrics.csv"),
            metrics_jsonl=sibling(f"{stem}.metrics.jsonl"),
            tensorboard=sibling(f"{stem}.tensorboard") if tensorboard else None,
        )


@dataclass
class FitResult:
    """What a run of :func:`fit` achieved.

    ``train_nll``, ``val_nll`` and ``test_nll`` are mean ``-log_prob`` in nats per example
    of the best weights (lowest validation NLL) over the full splits, in eval mode.
    ``bits_per_dim`` is ``test_nll / (D ln 2)`` for discrete data (``D`` values per example)
    and None for continuous data. With a dequantized (stochastic) model these are upper
    bounds in expectation. ``history`` holds the training loss of every step of this
    process's run (after a resume: from the resumed step on), ``val_history`` the
    validation NLLs, ``steps`` the steps done, ``best_step`` the step of the best weights,
    ``stop_reason`` why training ended: ``steps`` (all done), ``patience`` (early stopping),
    ``time limit`` or ``callback`` (``on_step`` returned True).
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


def learning_rate(settings: TrainSettings, step: int, total: int) -> float:
    """The learning rate of 1-based ``step`` of ``total``: linear warm-up over ``warmup``
    steps, then constant, or cosine or linear decay to 0 at ``total``."""
    if step <= settings.warmup:
        return settings.lr * step / settings.warmup
    if settings.schedule == "constant":
        return settings.lr
    span = max(total - settings.warmup, 1)
    progress = min((step - settings.warmup) / span, 1.0)
    if settings.schedule == "cosine":
        return settings.lr * 0.5 * (1.0 + math.cos(math.pi * progress))
    return settings.lr * (1.0 - progress)


def _model_dtype_device(model: nn.Module) -> tuple[torch.dtype, torch.device]:
    """The dtype and device of the model's first floating-point parameter or buffer."""
    for tensor in (*model.parameters(), *model.buffers()):
        if tensor.is_floating_point():
            return tensor.dtype, tensor.device
    return torch.get_default_dtype(), torch.device("cpu")


@torch.no_grad()
def _nll_sum(model: nn.Module, split: Split, batch_size: int) -> float:
    dtype, device = _model_dtype_device(model)
    total = 0.0
    for start in range(0, len(split), batch_size):
        inputs = split.inputs(slice(start, start + batch_size))
        log_prob = model(*(part.to(device=device, dtype=dtype) for part in inputs))
        total -= float(log_prob.double().sum())
    return total


def evaluate_nll(
    model: nn.Module, split: Split | torch.Tensor, batch_size: int = 1024,
    distributed: Distributed | None = None,
) -> float:
    """Mean ``-log_prob`` over a split (or a data tensor) in nats per example, in eval mode
    without gradients; the model's mode is restored afterwards. With ``distributed``, each
    process evaluates its share and the mean is over the whole split."""
    split = split if isinstance(split, Split) else Split(split)
    flow = getattr(model, "module", model)  # inside DistributedDataParallel
    if not getattr(flow, "CONTEXT_INPUTS", ()):
        split = Split(split.x)  # e.g. moons' labels, for an unconditional model
    if len(split) == 0:
        raise ValueError("cannot evaluate the NLL of an empty data set")
    was_training = model.training
    model.eval()
    try:
        if distributed is None:
            return _nll_sum(model, split, batch_size) / len(split)
        share = distributed.shard(split)
        total = _nll_sum(model, share, batch_size) if len(share) else 0.0
        return distributed.sum(total) / len(split)
    finally:
        model.train(was_training)


class _Batches:
    """Batch indices by position: epoch ``e`` is the permutation seeded by ``(seed, e)``,
    cut into full batches (the last partial batch is dropped)."""

    def __init__(self, n: int, batch_size: int, seed: int):
        self.n, self.batch_size, self.seed = n, min(batch_size, n), seed
        self.per_epoch = n // self.batch_size
        self._epoch, self._order = -1, torch.empty(0, dtype=torch.long)

    def at(self, step: int) -> tuple[int, torch.Tensor]:
        """The epoch and the indices of 1-based ``step``."""
        epoch, position = divmod(step - 1, self.per_epoch)
        if epoch != self._epoch:
            generator = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
            self._epoch, self._order = epoch, torch.randperm(self.n, generator=generator)
        start = position * self.batch_size
        return epoch, self._order[start : start + self.batch_size]


@dataclass
class _Progress:
    """The training state besides weights and optimizer, saved as JSON in checkpoints."""

    step: int = 0
    best_val: float = math.inf
    best_step: int = 0
    bad_validations: int = 0
    seconds: float = 0.0

    def to_json(self) -> dict:
        return {**self.__dict__, "best_val": None if math.isinf(self.best_val) else self.best_val}

    @classmethod
    def from_json(cls, data: dict) -> _Progress:
        best = data.get("best_val")
        return cls(
            step=int(data["step"]), best_val=math.inf if best is None else float(best),
            best_step=int(data["best_step"]), bad_validations=int(data["bad_validations"]),
            seconds=float(data.get("seconds", 0.0)),
        )


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
    distributed: Distributed | None = None,
) -> FitResult:
    """Train ``model`` in place on ``dataset`` with ``settings`` (see the module doc);
    ``steps``, ``batch_size``, ``lr`` and ``seed``, when given, override them.

    ``files`` says where to write checkpoints and metrics (nothing is written without it;
    with ``distributed``, only rank 0 writes, every rank reads when resuming). ``resume`` continues from
    ``files.last``. ``on_step(step, loss)`` is called after every step (and its metrics row
    and validation); when it returns True, training stops there. Raises
    ``ValueError`` when the data does not fit the model, :class:`TrainingDiverged` on a
    non-finite loss or gradient and :class:`TrainingInterrupted` on Ctrl-C (after writing
    the last checkpoint).
    """
    overrides = {"steps": steps, "batch_size": batch_size, "lr": lr, "seed": seed}
    settings = merge_settings(settings, overrides)
    dataset = drop_unused_context(model, dataset)
    problems = check_compatible(model, dataset)
    if problems:
        raise ValueError(
            f"data set '{dataset.name}' does not fit the model:\n"
            + "\n".join(f"  - {p}" for p in problems)
        )
    parameters = [p for p in model.parameters() if p.requires_grad]
    if not parameters:
        raise ValueError("the model has no trainable parameters; there is nothing to fit")
    report = log if log is not None else (tqdm.write if progress else None)
    start = time.perf_counter()
    dtype, device = _model_dtype_device(model)
    world = distributed.world if distributed is not None else 1
    if dataset.val is None:
        raise ValueError(f"data set '{dataset.name}' has no validation split to select the best weights")
    batch = min(settings.batch_size, len(dataset.train))
    if batch < world:
        raise ValueError(f"the batch size ({batch}) must be at least the number of processes ({world})")
    batches = _Batches(len(dataset.train), batch, settings.seed)
    total = total_steps(settings, batches.per_epoch)
    val_every = settings.val_every or max(1, math.ceil(total / VALIDATIONS))
    train = dataset.split("train").to(device=device, dtype=dtype)
    val = dataset.split("val").to(device=device, dtype=dtype)
    optimizer = Optimizer(settings.optimizer, parameters, settings.lr, settings.weight_decay)
    state = _Progress()
    best_weights = _copy_weights(model)
    if resume:
        state = _resume(model, optimizer, files, distributed)
        best_weights = _best_weights(model, files, state)
    else:
        torch.manual_seed(settings.seed + (distributed.rank if distributed else 0))
    if distributed is not None and not distributed.main:
        files = None  # rank 0 alone writes
    network = distributed.wrap(model) if distributed is not None else model
    metrics = None
    if files is not None:
        metrics = MetricsLog(files.metrics_csv, files.metrics_jsonl, files.tensorboard,
                             state.step if resume else None)
    meta = dict(meta or {})
    history: list[tuple[int, float]] = []
    val_history: list[tuple[int, float]] = []
    last_saved: tuple[int, Path] | None = (state.step, files.last) if resume and files else None
    checkpointed = state.step  # the step the last checkpoint holds (on every process)
    window: list[float] = []
    running: float | None = None
    stop_reason = "steps"
    snapshot = rng_state()
    clock = state.seconds - start

    def save_last(step: int, rng: dict[str, torch.Tensor]) -> None:
        nonlocal last_saved, checkpointed
        checkpointed = step
        if files is None:
            return
        state.seconds = time.perf_counter() + clock
        tensors, info = optimizer.state_dict()
        save_checkpoint(
            files.last, model, meta=meta | {"step": str(step), "kind": "last"},
            state=(tensors | rng, {"optimizer": info, "progress": state.to_json(),
                                   "settings": settings.model_dump(), "world": world}),
        )
        last_saved = (step, files.last)

    def last_good() -> str | None:
        return f"{last_saved[1]} (step {last_saved[0]})" if last_saved else None

    was_training = model.training
    bar = tqdm(total=total, initial=state.step, desc=f"train {dataset.name}", unit="step",
               disable=not progress)
    model.train()
    try:
        for step in range(state.step + 1, total + 1):
            epoch, index = batches.at(step)
            if distributed is not None:
                index = index[distributed.rank :: world]
            lr = learning_rate(settings, step, total)
            optimizer.lr = lr
            loss = -network(*train.inputs(index)).mean()
            value = float(loss.detach())
            out_of_time = (settings.time_limit is not None
                           and time.perf_counter() - start > settings.time_limit)
            if distributed is not None:  # one loss, and one clock: all stop at the same step
                loss_sum, late = distributed.sums(value, float(out_of_time))
                value, out_of_time = loss_sum / world, late > 0
            if not math.isfinite(value):
                raise TrainingDiverged(step, "loss", value, last_good())
            optimizer.zero_grad()
            loss.backward()
            if settings.clip_grad is not None:
                norm = float(torch.nn.utils.clip_grad_norm_(parameters, settings.clip_grad))
                if not math.isfinite(norm):
                    raise TrainingDiverged(step, "gradient norm", norm, last_good())
            optimizer.step()
            state.step = step
            snapshot = rng_state()
            history.append((step, value))
            window.append(value)
            running = value if running is None else _SMOOTHING * running + (1 - _SMOOTHING) * value
            bar.update()
            if step % 10 == 0 or step == total:
                bar.set_postfix(loss=f"{running:.4f}", refresh=False)
            validate = step % val_every == 0 or step == total or out_of_time
            if validate or (step % LOG_EVERY == 0 and metrics is not None):
                row = {"step": step, "epoch": epoch, "lr": lr, "train_loss": sum(window) / len(window)}
                window = []
                if validate:
                    val_nll = evaluate_nll(network, val, distributed=distributed)
                    val_history.append((step, val_nll))
                    row["val_nll"] = val_nll
                    if val_nll < state.best_val:
                        state.best_val, state.best_step, state.bad_validations = val_nll, step, 0
                        best_weights = _copy_weights(model)
                        if files is not None:
                            save_checkpoint(files.best, model, meta=meta | {
                                "step": str(step), "val_nll": repr(val_nll), "kind": "best"})
                    else:
                        state.bad_validations += 1
                    snapshot = rng_state()
                    save_last(step, snapshot if distributed is None
                              else by_rank(distributed.gather(snapshot)))
                    if report is not None:
                        report(f"step {step}: train loss {running:.4f}, val nll {val_nll:.4f}"
                               f"{' (best)' if state.best_step == step else ''}")
                    if settings.patience is not None and state.bad_validations >= settings.patience:
                        stop_reason = "patience" if step < total else stop_reason
                    if out_of_time and step < total:
                        stop_reason = "time limit"
                if metrics is not None:
                    metrics.log(**row, seconds=time.perf_counter() + clock)
            if on_step is not None and on_step(step, value) and stop_reason == "steps" and step < total:
                stop_reason = "callback"
            if stop_reason != "steps":
                if report is not None:
                    why = {
                        "patience": f"no better validation NLL for {settings.patience} validations",
                        "time limit": f"past the time limit of {settings.time_limit} s",
                        "callback": "on_step asked to stop",
                    }[stop_reason]
                    report(f"stopped at step {step}: {why} (best {state.best_val:.4f} at step "
                           f"{state.best_step})")
                break
    except KeyboardInterrupt:
        if distributed is not None:  # no collective now: the last validation's checkpoint stays
            raise TrainingInterrupted(checkpointed, last_saved[1] if last_saved else None) from None
        if last_saved is None or last_saved[0] != state.step:
            save_last(state.step, snapshot)
        raise TrainingInterrupted(state.step, files.last if files else None) from None
    finally:
        bar.close()
        if metrics is not None:
            metrics.close()
        model.train(was_training)

    model.load_state_dict(best_weights)
    train_nll, val_nll, test_nll = (
        evaluate_nll(network, dataset.split(which).to(device=device, dtype=dtype), distributed=distributed)
        for which in SPLITS
    )
    bits = test_nll / (math.prod(dataset.shape) * math.log(2.0)) if dataset.levels is not None else None
    return FitResult(
        steps=state.step, best_step=state.best_step, train_nll=train_nll, val_nll=val_nll,
        test_nll=test_nll, bits_per_dim=bits, seconds=time.perf_counter() + clock,
        stop_reason=stop_reason, history=history, val_history=val_history,
    )


def _copy_weights(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _resume(
    model: FlowModel, optimizer: Optimizer, files: RunFiles | None, distributed: Distributed | None
) -> _Progress:
    """Load the last checkpoint's weights, optimizer and random state (this process's,
    under DDP) into this run; the checkpoint must come from as many processes."""
    if files is None:
        raise ValueError("resuming needs the run's files (RunFiles) to find the last checkpoint")
    saved = load_training_state(files.last)
    if saved.spec_text != model.checked.loaded.text:
        raise CheckpointError(
            f"checkpoint '{files.last}' was trained from a different spec; resume with the "
            "same spec file (or start a new run with another --output)"
        )
    world, saved_world = distributed.world if distributed else 1, _saved_world(saved, files)
    if world != saved_world:
        raise CheckpointError(
            f"checkpoint '{files.last}' was written by {_processes(saved_world)} and this run "
            f"has {world}: an exact resume needs every process's random state; resume with "
            f"torchrun --nproc_per_node {saved_world}"
            f"{'' if saved_world > 1 else ' (or without torchrun)'}, or start a new run with "
            "another --output"
        )
    load_weights(model, saved.weights, f"the weights in checkpoint '{files.last}'")
    try:
        optimizer.load_state_dict(saved.tensors, saved.info["optimizer"])
        restore_rng(saved.tensors, distributed.rank if distributed else None)
        return _Progress.from_json(saved.info["progress"])
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, RuntimeError) as error:
        # A state for other settings (the optimizer's own message), or a damaged one.
        detail = str(error) if isinstance(error, ValueError) else (
            f"damaged or incomplete training state ({type(error).__name__}: {error})"
        )
        raise CheckpointError(
            f"cannot resume from checkpoint '{files.last}': {detail}; resume with the "
            "settings it was written with, or start a new run with another --output"
        ) from None


def _saved_world(saved: SavedRun, files: RunFiles) -> int:
    """How many processes wrote the checkpoint (1 when it does not say)."""
    try:
        return int(saved.info.get("world", 1))
    except (TypeError, ValueError):
        raise CheckpointError(
            f"cannot resume from checkpoint '{files.last}': damaged training state (world "
            f"{saved.info.get('world')!r} is not a number of processes)"
        ) from None


def _processes(count: int) -> str:
    return "1 process" if count == 1 else f"{count} processes"


def _best_weights(
    model: nn.Module, files: RunFiles | None, state: _Progress
) -> dict[str, torch.Tensor]:
    """The best weights of the run being resumed: its best checkpoint's, if it has one."""
    if files is not None and state.best_step and files.best.is_file():
        return read_weights(files.best)
    return _copy_weights(model)
