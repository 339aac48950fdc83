"""The sampler and the pruner of a study's worker, built from the study's plan. Imports
Optuna: import this module only after :func:`flowspec.study.storage.optuna` succeeded."""

from __future__ import annotations

import warnings
from typing import Any

import optuna

from flowspec.study.storage import Plan, grid_space

__all__ = ["QueuedGridSampler", "pruner", "sampler"]


class QueuedGridSampler(optuna.samplers.GridSampler):
    """Optuna's GridSampler over a grid whose points are all queued trials: workers take
    them from the queue and stop when it is empty, so the sampler never picks a point (two
    workers picking at once could take the same one, as its documentation warns) and
    never stops a study itself (``after_trial`` would, which is an error outside
    ``Study.optimize``)."""

    def after_trial(self, study: Any, trial: Any, state: Any, values: Any) -> None:
        return None


def sampler(plan: Plan, seed: int) -> optuna.samplers.BaseSampler:
    """The grid of a sweep, or TPE (Bergstra et al. 2011; with a constant liar for
    running trials, so parallel workers spread out) or random search for a tune."""
    if plan.mode == "grid":
        return QueuedGridSampler(grid_space(plan.axes), seed=seed)
    if plan.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.samplers.TPESampler(seed=seed, constant_liar=True)


def pruner(plan: Plan) -> optuna.pruners.BasePruner:
    """None, the median rule (a trial stops when its validation NLL is worse than the
    median of earlier trials at the same step, after 5 trials and a quarter of the steps)
    or successive halving (Li et al. 2018, ASHA), read from the first seed's validations."""
    if plan.pruner == "median":
        steps = plan.settings.get("steps") or 0
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=steps // 4)
    if plan.pruner == "halving":
        return optuna.pruners.SuccessiveHalvingPruner()
    return optuna.pruners.NopPruner()
