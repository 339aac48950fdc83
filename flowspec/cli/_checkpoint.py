"""What ``eval`` and ``sample`` share: loading a checkpoint and the data it was trained on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from flowspec.cli._output import fail

if TYPE_CHECKING:
    from flowspec.emit.runtime import FlowModel
    from flowspec.train.data import Dataset

__all__ = ["open_checkpoint", "training_data"]


def open_checkpoint(path: Path) -> tuple[FlowModel, dict[str, str]]:
    """The model and metadata of a checkpoint, or a message and exit 1."""
    from flowspec.train.checkpoint import CheckpointError, load_checkpoint

    try:
        return load_checkpoint(path)
    except CheckpointError as error:
        fail(str(error))


def training_data(model: FlowModel, meta: dict[str, str], data: str | None) -> Dataset | None:
    """The data set ``data`` (a name or file), else the one the checkpoint was trained on
    (same seed, so the same splits), shaped for ``model``; None when neither is known.
    Exit 1 when the data cannot be read or does not fit the model."""
    from flowspec.train.compat import check_compatible, drop_unused_context, resolve_data
    from flowspec.train.files import DataError

    name = data if data is not None else meta.get("data")
    if not name:
        return None
    seed = json.loads(meta["settings"]).get("seed", 0) if "settings" in meta else 0
    try:
        dataset = drop_unused_context(model, resolve_data(model, name, seed=seed))
    except DataError as error:
        if data is None:  # the training data is gone (e.g. a moved file): no reference
            return None
        fail(str(error))
    problems = check_compatible(model, dataset)
    if problems:
        fail(f"data '{name}' does not fit the model: " + "; ".join(problems))
    return dataset
