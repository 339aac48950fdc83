"""What a training run minimises and validates on.

A :class:`~flowspec.train.run.TrainingRun` takes one :class:`Objective`: the loss of each
step and the figure each validation computes (nats, lower is better). Everything else a run
does (schedule, clipping, checkpoints, early stopping, exact resume) is the same whatever
the objective is:

- :class:`MaximumLikelihood` (``flowspec train --data``): ``-log_prob`` of the step's batch,
  the next batch of a seeded permutation of the training split (:class:`BatchOrder`; with
  ``accumulate: N`` the batch holds N micro-batches, each a part of the step), and the
  validation NLL;
- :class:`flowspec.train.reverse_kl.ReverseKL` (``flowspec train --target``): ``log q(x) -
  log p~(x)`` on the model's own draws, and the same on a fixed set of draws.
"""

from __future__ import annotations

from typing import Protocol

import torch
from torch import nn

from flowspec.emit.runtime import FlowModel
from flowspec.train.data import Split
from flowspec.train.distributed import Distributed
from flowspec.train.evaluate import figure_note, for_evaluation, model_figure
from flowspec.train.nll import evaluate_nll

__all__ = ["BatchOrder", "MaximumLikelihood", "Objective"]


class Objective(Protocol):
    """A run's loss and validation figure."""

    #: What a validation computes, for logs ("NLL", "-ELBO", "NLL upper bound", "reverse KL
    #: - log Z").
    figure: str
    #: What that figure is ("exact", "an upper bound on the NLL; ..."), for metrics.
    note: str
    #: Why the loss is computed eagerly under ``train: {compile: true}``, or None when it
    #: calls the network as a module, which is what gets compiled
    #: (:mod:`flowspec.train.compiled`).
    eager_reason: str | None

    def loss(
        self, network: nn.Module, step: int, part: int = 0, parts: int = 1
    ) -> tuple[torch.Tensor, int | None]:
        """The loss of micro-batch ``part`` of ``parts`` of 1-based ``step`` (a mean over
        it, in nats, with gradients) and the epoch it belongs to (None when there are no
        epochs)."""
        ...

    def validation(self, model: FlowModel, network: nn.Module) -> float:
        """The validation figure of the current weights of ``model`` (``network`` is what
        trains it: the model or its DDP wrapper), in nats (lower is better)."""
        ...


class BatchOrder:
    """Batch indices by position: epoch ``e`` is the permutation seeded by ``(seed, e)``,
    cut into full batches (the last partial batch is dropped)."""

    def __init__(self, n: int, batch_size: int, seed: int) -> None:
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


class MaximumLikelihood:
    """``-log_prob(x).mean()`` over each step's batch of the training split (each process
    its share under DDP), and the NLL of a split scored as ``flowspec eval`` scores it: by
    ``model``'s copy with the exact options of its estimators (``scored_with`` lists them,
    :func:`~flowspec.train.evaluate.for_evaluation`), on common random numbers."""

    eager_reason: str | None = None

    def __init__(
        self,
        model: FlowModel,
        train: Split,
        val: Split,
        batches: BatchOrder,
        distributed: Distributed | None,
    ) -> None:
        self.train, self.val, self.batches, self.distributed = train, val, batches, distributed
        self.scorer, self.scored_with = for_evaluation(model)
        named = model_figure(self.scorer)
        self.figure = named.name
        self.note = figure_note(named, self.scorer.draws_noise)

    def loss(
        self, network: nn.Module, step: int, part: int = 0, parts: int = 1
    ) -> tuple[torch.Tensor, int | None]:
        epoch, index = self.batches.at(step)
        index = index.tensor_split(parts)[part]
        if self.distributed is not None:
            index = index[self.distributed.rank :: self.distributed.world]
        return -network(*self.train.inputs(index)).mean(), epoch

    def validation(self, model: FlowModel, network: nn.Module) -> float:
        return self.score(model, network, self.val)

    def score(self, model: FlowModel, network: nn.Module, split: Split) -> float:
        """The mean ``-log_prob`` of ``model``'s current weights on ``split``, in nats per
        example."""
        if self.scorer is model:
            return evaluate_nll(network, split, distributed=self.distributed)
        self.scorer.load_state_dict(model.state_dict())
        return evaluate_nll(self.scorer, split, distributed=self.distributed)
