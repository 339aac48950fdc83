"""The training settings of a run: the spec's ``train:`` section, a ``--config`` file and
command-line options, merged in that order of precedence (later wins), and the device.

A ``--config`` file holds the fields of :class:`~flowspec.spec.training.TrainSettings` at
its top level (or under ``train:``), and is read and checked like a spec: safe YAML,
located errors with did-you-mean hints (E900-E903). Giving ``steps`` at a later level drops
an earlier ``epochs`` and the other way round.

Example::

    $ cat fast.yaml
    lr: 3.0e-3
    batch_size: 512
    $ flowspec train spec.yaml --config fast.yaml --steps 500
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowspec.diagnostics import Reporter
from flowspec.spec.loader import load_spec_file
from flowspec.spec.training import DEFAULT_STEPS, TrainSettings
from flowspec.spec.validate import validate_train

if TYPE_CHECKING:
    import torch

__all__ = [
    "DeviceUnavailable",
    "learning_rate",
    "load_config",
    "merge_settings",
    "resolve_device",
    "total_steps",
]

_BUDGET = ("steps", "epochs")


class DeviceUnavailable(RuntimeError):
    """The device asked for is not available in this torch build or on this machine."""


def load_config(path: str | Path) -> dict[str, Any]:
    """The explicitly given fields of a settings file; raises :class:`SpecError` with
    located diagnostics when it is not valid."""
    loaded = load_spec_file(path)
    data = loaded.data
    where: tuple = ()
    if isinstance(data, dict) and set(data) == {"train"}:
        data, where = data["train"], ("train",)
    reporter = Reporter(loaded.source)
    settings = validate_train(data, where, reporter)
    reporter.raise_if_errors()
    return settings.model_dump(exclude_unset=True) if settings is not None else {}


def merge_settings(*layers: dict[str, Any] | TrainSettings | None) -> TrainSettings:
    """Settings from lowest to highest precedence; None layers and None values are skipped
    (a None on the command line means "not given")."""
    merged: dict[str, Any] = {}
    for layer in layers:
        if layer is None:
            continue
        given = (
            layer.model_dump(exclude_unset=True)
            if isinstance(layer, TrainSettings)
            else {k: v for k, v in layer.items() if v is not None}
        )
        if any(key in given for key in _BUDGET):
            for key in _BUDGET:
                merged.pop(key, None)
        merged |= given
    return TrainSettings.model_validate(merged)


def resolve_device(name: str) -> torch.device:
    """The torch device for ``cpu``, ``cuda`` or ``mps``; :class:`DeviceUnavailable`
    saying why when it cannot be used here."""
    import torch

    if name == "cuda" and not torch.cuda.is_available():
        reason = (
            "this torch build has no CUDA support"
            if torch.version.cuda is None
            else "no CUDA GPU is visible (check nvidia-smi and CUDA_VISIBLE_DEVICES)"
        )
        raise DeviceUnavailable(f"device 'cuda' is not available: {reason}; use --device cpu")
    if name == "mps" and not torch.backends.mps.is_available():
        raise DeviceUnavailable(
            "device 'mps' is not available: it needs an Apple-silicon Mac and a torch build "
            "with MPS support; use --device cpu"
        )
    if name == "cuda":
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return torch.device(name)


def total_steps(settings: TrainSettings, steps_per_epoch: int) -> int:
    """The run's length in steps: ``steps``, or ``epochs`` times the steps of an epoch."""
    if settings.epochs is not None:
        return settings.epochs * steps_per_epoch
    return settings.steps if settings.steps is not None else DEFAULT_STEPS


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
