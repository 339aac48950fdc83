"""One training run as an object: its objective, optimizer, progress, checkpoints and
stop rule, one method per part of a step. :func:`flowspec.train.loop.fit` builds a
:class:`TrainingRun` and drives it::

    run = TrainingRun(...)
    for step in run.remaining_steps():
        loss, out_of_time = run.train_step(step)
        if run.due_for_validation(step, out_of_time):
            run.validate(step, out_of_time)
        ...

Each step (its gradient summed over ``accumulate`` micro-batches) takes its loss from the run's :class:`~flowspec.train.objective.Objective` (the
NLL of the next batch of a seeded permutation of the training split, or the reverse KL on
the model's own draws), sets the learning rate from the schedule, clips the gradient norm
and steps the optimizer. A validation (the objective's validation figure) keeps the best
weights (written to the best checkpoint), writes the last checkpoint with the full
training state and counts validations without improvement for early stopping. A
maximum-likelihood validation scores as ``flowspec eval`` does: with the exact options of
estimated log-dets (:func:`flowspec.train.evaluate.for_evaluation`, a copy of the model
that takes its weights at every validation) and on generators of its own, seeded the same
way every time (:func:`flowspec.train.nll.score`): checkpoints of a stochastic model are
compared on common random numbers, and the figures printed afterwards are the ones that
selected them. Under DistributedDataParallel (:mod:`flowspec.train.distributed`) every
process runs the same object on its share of each batch; only rank 0 has files.
"""

from __future__ import annotations

import math
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from flowspec.emit.memory import LowMemoryLogProb, low_memory
from flowspec.spec.training import TrainSettings
from flowspec.train.checkpoint import (
    CheckpointError,
    SavedRun,
    load_training_state,
    load_weights,
    read_weights,
    save_checkpoint,
)
from flowspec.train.compiled import compiled_loss
from flowspec.train.distributed import Distributed
from flowspec.train.metrics import MetricsLog
from flowspec.train.optim import Optimizer
from flowspec.train.settings import learning_rate
from flowspec.train.state import by_rank, restore_rng, rng_state

if TYPE_CHECKING:
    from flowspec.emit.runtime import FlowModel
    from flowspec.train.objective import Objective

__all__ = [
    "Progress",
    "RunFiles",
    "TrainingDiverged",
    "TrainingInterrupted",
    "TrainingRun",
]

LOG_EVERY = 10
"""Steps between rows of the metrics log (validation steps always get one)."""
VALIDATIONS = 40
"""Validations per run when ``val_every`` is not given."""
_SMOOTHING = 0.98  # of the running loss shown on the progress bar


class TrainingDiverged(RuntimeError):
    """The loss or the gradient became NaN or infinite at ``step`` (1-based)."""

    def __init__(self, step: int, what: str, value: float, last_good: str | None = None) -> None:
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

    def __init__(self, step: int, checkpoint: Path | None) -> None:
        self.step, self.checkpoint = step, checkpoint
        where = f"; {checkpoint} holds step {step}" if checkpoint else f" after step {step}"
        super().__init__(f"interrupted{where}")


@dataclass(frozen=True)
class RunFiles:
    """Where a run writes: the best checkpoint (the path asked for), the last checkpoint
    (``NAME.last.safetensors``), the metrics logs, the summary of the final figures
    (``NAME.summary.json``) and the TensorBoard folder beside it."""

    best: Path
    last: Path
    metrics_csv: Path
    metrics_jsonl: Path
    summary: Path
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
            summary=sibling(f"{stem}.summary.json"),
            tensorboard=sibling(f"{stem}.tensorboard") if tensorboard else None,
        )


@dataclass
class Progress:
    """The training state besides weights and optimizer, saved as JSON in checkpoints."""

    step: int = 0
    best_val: float = math.inf
    best_step: int = 0
    bad_validations: int = 0
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {**self.__dict__, "best_val": None if math.isinf(self.best_val) else self.best_val}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Progress:
        best = data.get("best_val")
        return cls(
            step=int(data["step"]),
            best_val=math.inf if best is None else float(best),
            best_step=int(data["best_step"]),
            bad_validations=int(data["bad_validations"]),
            seconds=float(data.get("seconds", 0.0)),
        )


@dataclass
class _Window:
    """The training losses since the last metrics row, and the smoothed running loss."""

    losses: list[float] = field(default_factory=list)
    running: float | None = None

    def add(self, value: float) -> None:
        self.losses.append(value)
        if self.running is None:
            self.running = value
        else:
            self.running = _SMOOTHING * self.running + (1 - _SMOOTHING) * value

    def mean_and_reset(self) -> float:
        mean = sum(self.losses) / len(self.losses)
        self.losses = []
        return mean


class TrainingRun:
    """The state of one run of :func:`flowspec.train.loop.fit` and its parts of a step.

    ``model`` is trained in place; ``network`` is what computes the loss (the model, or
    its DistributedDataParallel wrapper, made after a resume has loaded the weights); the
    ``objective`` gives each step's loss and each validation's figure. ``files`` is None
    where nothing is written (no files asked for, or a process other than rank 0).
    """

    def __init__(
        self,
        model: FlowModel,
        settings: TrainSettings,
        objective: Objective,
        total: int,
        files: RunFiles | None,
        resume: bool,
        meta: dict[str, str],
        distributed: Distributed | None,
    ) -> None:
        self.model, self.settings = model, settings
        self.objective, self.total = objective, total
        self.distributed, self.meta = distributed, meta
        self.world = distributed.world if distributed is not None else 1
        self.parameters = [p for p in model.parameters() if p.requires_grad]
        self.optimizer = Optimizer(
            settings.optimizer, self.parameters, settings.lr, settings.weight_decay
        )
        self.start = time.perf_counter()
        self.progress = Progress()
        self.best_weights = copy_weights(model)
        if resume:
            self.progress = resume_from(model, self.optimizer, files, distributed)
            self.best_weights = _best_weights(model, files, self.progress)
        else:
            torch.manual_seed(settings.seed + (distributed.rank if distributed else 0))
        #: What computes the loss: the model, or its log_prob under the memory option
        #: (:mod:`flowspec.emit.memory`), which checks its rebuilt inputs at the first step
        #: and after every validation when ``memory_check`` is set.
        self.trained: nn.Module = model
        if settings.memory != "stored":
            self.trained = low_memory(model, settings.memory)
            self.trained.check_next = settings.memory_check
        self.network = distributed.wrap(self.trained) if distributed is not None else self.trained
        #: What the objective's loss calls: :attr:`network`, compiled under ``compile: true``
        #: unless ``eager_reason`` says why not (:mod:`flowspec.train.compiled`); validation
        #: calls :attr:`network`, eagerly.
        self.loss_network: nn.Module = self.network
        self.eager_reason: str | None = None
        #: The wall time of setting up torch.compile (importing it) and of the first
        #: compiled step of this process: what compiling cost, once.
        self.compile_seconds: float | None = None
        self._compile_setup = 0.0
        if settings.compile:
            self.eager_reason = objective.eager_reason
            if self.eager_reason is None:
                started = time.perf_counter()
                self.loss_network, self.eager_reason = compiled_loss(
                    self.network, model, settings.memory
                )
                self._compile_setup = time.perf_counter() - started
        self.files = files if distributed is None or distributed.main else None
        self.metrics = None
        if self.files is not None:
            self.metrics = MetricsLog(
                self.files.metrics_csv,
                self.files.metrics_jsonl,
                self.files.tensorboard,
                self.progress.step if resume else None,
            )
        self.history: list[tuple[int, float]] = []
        self.val_history: list[tuple[int, float]] = []
        self.last_saved: tuple[int, Path] | None = (
            (self.progress.step, self.files.last) if resume and self.files else None
        )
        #: The step the last checkpoint holds (on every process).
        self.checkpointed = self.progress.step
        self.window = _Window()
        self.stop_reason = "steps"
        self.snapshot = rng_state()
        self.clock = self.progress.seconds - self.start
        self.val_every = settings.val_every or max(1, math.ceil(total / VALIDATIONS))
        self._row: dict[str, float | str | None] = {}

    # --- the loop's parts ------------------------------------------------------------
    def remaining_steps(self) -> range:
        return range(self.progress.step + 1, self.total + 1)

    def seconds(self) -> float:
        """Training seconds so far, resumed runs included."""
        return time.perf_counter() + self.clock

    def train_step(self, step: int) -> tuple[float, bool]:
        """One optimizer step on the objective's loss of ``step``, its gradient summed over
        ``accumulate`` micro-batches: the loss (averaged over micro-batches and processes)
        and whether the run is past its time limit (on any process)."""
        compiling = self.compile_seconds is None and self.loss_network is not self.network
        started = time.perf_counter()
        lr = learning_rate(self.settings, step, self.total)
        self.optimizer.lr = lr
        self.optimizer.zero_grad()
        parts, value, epoch = self.settings.accumulate, 0.0, None
        for part in range(parts):
            # Under DDP, gradients are all-reduced once, after the last micro-batch.
            last = part == parts - 1
            distributed = self.distributed
            with (
                nullcontext()
                if last or distributed is None
                else distributed.accumulating(self.network)
            ):
                loss, epoch = self.objective.loss(self.loss_network, step, part, parts)
                part_value = float(loss.detach())
                if math.isfinite(part_value):
                    (loss / parts).backward()
            value += part_value / parts
        limit = self.settings.time_limit
        out_of_time = limit is not None and time.perf_counter() - self.start > limit
        if self.distributed is not None:  # one loss, one clock: all stop at the same step
            loss_sum, late = self.distributed.sums(value, float(out_of_time))
            value, out_of_time = loss_sum / self.world, late > 0
        if not math.isfinite(value):
            raise TrainingDiverged(step, "loss", value, self.last_good())
        if self.settings.clip_grad is not None:
            norm = float(torch.nn.utils.clip_grad_norm_(self.parameters, self.settings.clip_grad))
            if not math.isfinite(norm):
                raise TrainingDiverged(step, "gradient norm", norm, self.last_good())
        self.optimizer.step()
        if compiling:
            self.compile_seconds = self._compile_setup + time.perf_counter() - started
        self.progress.step = step
        self.snapshot = rng_state()
        self.history.append((step, value))
        self.window.add(value)
        self._row = {"step": step, "epoch": epoch, "lr": lr}
        return value, out_of_time

    def due_for_validation(self, step: int, out_of_time: bool) -> bool:
        return step % self.val_every == 0 or step == self.total or out_of_time

    def validate(self, step: int, out_of_time: bool) -> float:
        """The validation figure of ``step`` (the NLL, or the objective's); keeps the best
        weights, writes the checkpoints and sets :attr:`stop_reason` when patience or the
        time limit ends the run."""
        val_nll = self.objective.validation(self.model, self.network)
        if isinstance(self.trained, LowMemoryLogProb):
            self.trained.check_next = self.settings.memory_check
        self.val_history.append((step, val_nll))
        self._row["val_nll"] = val_nll
        self._row["val_figure"] = f"{self.objective.figure} ({self.objective.note})"
        progress = self.progress
        if val_nll < progress.best_val:
            progress.best_val, progress.best_step, progress.bad_validations = val_nll, step, 0
            self.best_weights = copy_weights(self.model)
            if self.files is not None:
                best = {"step": str(step), "val_nll": repr(val_nll), "kind": "best"}
                save_checkpoint(self.files.best, self.model, meta=self.meta | best)
        else:
            progress.bad_validations += 1
        self.snapshot = rng_state()
        gathered = self.snapshot
        if self.distributed is not None:
            gathered = by_rank(self.distributed.gather(self.snapshot))
        self.save_last(step, gathered)
        patience = self.settings.patience
        if patience is not None and progress.bad_validations >= patience and step < self.total:
            self.stop_reason = "patience"
        if out_of_time and step < self.total:
            self.stop_reason = "time limit"
        return val_nll

    def log_metrics(self, step: int, validated: bool) -> None:
        """A metrics row at validations and every :data:`LOG_EVERY` steps."""
        if self.metrics is None or not (validated or step % LOG_EVERY == 0):
            if validated:
                self.window.mean_and_reset()
            return
        row = self._row | {"train_loss": self.window.mean_and_reset()}
        self.metrics.log(**row, seconds=self.seconds())

    def save_last(self, step: int, rng: dict[str, torch.Tensor]) -> None:
        """Write the last checkpoint with the full training state of ``step``."""
        self.checkpointed = step
        if self.files is None:
            return
        self.progress.seconds = self.seconds()
        tensors, info = self.optimizer.state_dict()
        state = {
            "optimizer": info,
            "progress": self.progress.to_json(),
            "settings": self.settings.model_dump(),
            "world": self.world,
        }
        save_checkpoint(
            self.files.last,
            self.model,
            meta=self.meta | {"step": str(step), "kind": "last"},
            state=(tensors | rng, state),
        )
        self.last_saved = (step, self.files.last)

    def last_good(self) -> str | None:
        return f"{self.last_saved[1]} (step {self.last_saved[0]})" if self.last_saved else None

    def stop_message(self, step: int) -> str:
        why = {
            "patience": f"no better validation {self.objective.figure} for "
            f"{self.settings.patience} validations",
            "time limit": f"past the time limit of {self.settings.time_limit} s",
            "callback": "a callback (on_step or on_validation) asked to stop",
        }[self.stop_reason]
        best = self.progress
        return (
            f"stopped at step {step}: {why} (best {best.best_val:.4f} nats at step "
            f"{best.best_step})"
        )

    def interrupted(self) -> TrainingInterrupted:
        """The exception for Ctrl-C, after saving what can be saved: on one process the
        last checkpoint of the step reached; under DDP (no collective now) the last
        validation's checkpoint stays."""
        if self.distributed is not None:
            where = self.last_saved[1] if self.last_saved else None
            return TrainingInterrupted(self.checkpointed, where)
        if self.last_saved is None or self.last_saved[0] != self.progress.step:
            self.save_last(self.progress.step, self.snapshot)
        return TrainingInterrupted(self.progress.step, self.files.last if self.files else None)

    def close(self) -> None:
        if self.metrics is not None:
            self.metrics.close()


def copy_weights(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def resume_from(
    model: FlowModel,
    optimizer: Optimizer,
    files: RunFiles | None,
    distributed: Distributed | None,
) -> Progress:
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
        return Progress.from_json(saved.info["progress"])
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, RuntimeError) as error:
        # A state for other settings (the optimizer's own message), or a damaged one.
        detail = (
            str(error)
            if isinstance(error, ValueError)
            else f"damaged or incomplete training state ({type(error).__name__}: {error})"
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
    model: nn.Module, files: RunFiles | None, state: Progress
) -> dict[str, torch.Tensor]:
    """The best weights of the run being resumed: its best checkpoint's, if it has one."""
    if files is not None and state.best_step and files.best.is_file():
        return read_weights(files.best)
    return copy_weights(model)
