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
    """The model and metadata of a checkpoint, or a message and exit 1 (also when it holds
    layers that were never set from data: its numbers would not be the trained model's)."""
    from flowspec.train.checkpoint import CheckpointError, load_checkpoint

    try:
        model, meta = load_checkpoint(path)
    except CheckpointError as error:
        fail(str(error))
    unset = model.uninitialized()
    if unset:
        fail(
            f"checkpoint '{path}' holds layers never set from data ({', '.join(unset)}: "
            "standardize's statistics, actnorm's initialisation); write it after "
            "model.initialize(x) on the training data, or with flowspec train"
        )
    return model, meta


def _stored_seed(meta: dict[str, str], path: Path) -> int:
    """The seed the checkpoint's training split its data with (0 when it names none); exit
    1 when its stored settings are not what ``flowspec train`` writes (a damaged or
    hand-made checkpoint), rather than scoring other splits than it was trained on."""
    if "settings" not in meta:
        return 0
    try:
        settings = json.loads(meta["settings"])
    except ValueError as error:
        fail(f"checkpoint '{path}': its stored training settings are not valid JSON ({error})")
    seed = settings.get("seed", 0) if isinstance(settings, dict) else None
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        fail(
            f"checkpoint '{path}': its stored training settings hold no usable seed "
            f"(expected a JSON object with an integer seed >= 0, found {meta['settings'][:80]!r})"
        )
    return seed


def training_data(
    model: FlowModel, meta: dict[str, str], data: str | None, path: Path
) -> Dataset | None:
    """The data set ``data`` (a name or file), else the one the checkpoint was trained on
    (same seed, so the same splits), shaped for ``model``; None when neither is known.
    Exit 1 when the data cannot be read or does not fit the model."""
    from flowspec.train.compat import check_compatible, drop_unused_context, resolve_data
    from flowspec.train.files import DataError

    name = data if data is not None else meta.get("data")
    if not name:
        return None
    seed = _stored_seed(meta, path)
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
