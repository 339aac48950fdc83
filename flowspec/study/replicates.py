"""One configuration of a study, trained once per seed: the replicates of a trial.

Replicate ``i`` trains the configuration's spec with the study's settings and seed
``S + i`` (weights, data splits and batch order all follow the seed), on one thread unless
the settings say otherwise, writing its best checkpoint and metrics to
``FOLDER/trialNNN.seedI.safetensors``. The first replicate's validation NLLs go to
``report(step, val_nll)`` (the pruner's input); when it returns True, that replicate stops
and the others are not trained.

Example::

    >>> outcome = train_replicates(space, values, settings, seeds=3, folder=..., number=4)  # doctest: +SKIP
    >>> [r.val_nll for r in outcome.replicates]                                             # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from flowspec.spec.loader import load_spec_text
from flowspec.study.configs import Space

__all__ = ["Outcome", "Replicate", "train_replicates"]


@dataclass
class Replicate:
    """One seed's run: NLLs in nats per example of its best weights (lowest validation
    NLL), bits per dimension for discrete data, its steps, best step and seconds, and what
    its NLLs are (:func:`flowspec.graph.verdict.figure`)."""

    seed: int
    val_nll: float
    test_nll: float
    bits_per_dim: float | None
    steps: int
    best_step: int
    seconds: float
    stop_reason: str
    checkpoint: str
    #: What its NLLs are, by the class of what scored them: "NLL", "-ELBO" or "NLL upper
    #: bound", and in words
    #: ("an upper bound on the NLL; 1 draw per example, evaluation seed 0").
    figure: str = "NLL"
    figure_is: str = "exact"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Outcome:
    """What a trial's replicates gave: the model's parameter count, each seed's run, and
    whether the pruner stopped the first one."""

    parameters: int
    replicates: list[Replicate] = field(default_factory=list)
    pruned: bool = False


def train_replicates(
    space: Space,
    values: dict[str, Any],
    settings: dict[str, Any],
    seeds: int,
    folder: Path,
    number: int,
    report: Callable[[int, float], bool] | None = None,
) -> Outcome:
    """Train the configuration ``values`` once per seed (see the module doc). Raises what
    training raises: :class:`~flowspec.diagnostics.SpecError`, ``DataError``,
    ``TrainingDiverged``, ``ValueError``, ``TrainingInterrupted`` (Ctrl-C)."""
    import torch

    import flowspec
    from flowspec.train.loop import RunFiles, fit
    from flowspec.train.prepare import prepare
    from flowspec.train.settings import merge_settings

    text = space.spec_text(values)
    checked = flowspec.check(
        load_spec_text(text, file=f"{space.loaded.source.file} (trial {number})")
    )
    base = merge_settings(settings, space.training(values))
    torch.set_num_threads(base.threads)
    outcome = Outcome(parameters=0)
    for index in range(seeds):
        run_settings = merge_settings(base, {"seed": base.seed + index})
        model, dataset = prepare(checked, run_settings)
        outcome.parameters = sum(p.numel() for p in model.parameters())
        checkpoint = folder / f"trial{number:03d}.seed{run_settings.seed}.safetensors"
        pruned = False

        def prune(step: int, val_nll: float) -> bool:
            nonlocal pruned
            pruned = report is not None and report(step, val_nll)
            return pruned

        result = fit(
            model,
            dataset,
            run_settings,
            files=RunFiles.beside(checkpoint),
            meta={"data": str(run_settings.data), "settings": run_settings.model_dump_json()},
            progress=False,
            log=lambda _: None,
            on_validation=prune if index == 0 else None,
        )
        outcome.replicates.append(
            Replicate(
                seed=run_settings.seed,
                val_nll=result.val_nll,
                test_nll=result.test_nll,
                bits_per_dim=result.bits_per_dim,
                steps=result.steps,
                best_step=result.best_step,
                seconds=result.seconds,
                stop_reason="pruned" if pruned else result.stop_reason,
                checkpoint=str(checkpoint),
                figure=result.figure_name,
                figure_is=result.figure,
            )
        )
        if pruned:
            outcome.pruned = True
            break
    return outcome
