"""Checkpoints: a model's weights and the spec that builds it, in one safetensors file.

The tensors are the model's ``state_dict``, plus, in checkpoints that training can resume
from, the training state's tensors under ``_state.`` (optimizer moments, random number
generator states; see :mod:`flowspec.train.state`). The safetensors metadata (plain
strings) holds the spec text and file name, the flowspec and torch versions that wrote it,
any user metadata (stored under ``meta.<key>``) and the rest of the training state as JSON
(step, epoch, position in the epoch, best validation NLL, optimizer settings, and the
number of processes whose random states it holds). Loading recompiles the stored spec, so a
checkpoint needs no spec file beside it, and safetensors never executes code on load.
Files are written to a temporary file in the same directory, flushed to disk and moved
into place with ``os.replace``, so a crash leaves either the old file or the new one.

Example::

    >>> import flowspec, tempfile, torch
    >>> from pathlib import Path
    >>> model = flowspec.compile("specs/realnvp_moons.yaml")
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = Path(folder) / "moons.safetensors"
    ...     _ = save_checkpoint(path, model, meta={"data": "moons"})
    ...     again, meta = load_checkpoint(path)
    >>> meta["data"], torch.equal(again.log_prob(torch.ones(1, 2)), model.log_prob(torch.ones(1, 2)))
    ('moons', True)
"""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import replace
from pathlib import Path
from typing import NamedTuple

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save

import flowspec
from flowspec.diagnostics import SpecError
from flowspec.emit.runtime import FlowModel
from flowspec.spec.loader import load_spec_text
from flowspec.train.compiled import without_compiled_prefix

__all__ = [
    "CheckpointError",
    "FORMAT",
    "load_checkpoint",
    "load_training_state",
    "load_weights",
    "read_meta",
    "read_weights",
    "save_checkpoint",
    "SavedRun",
]

FORMAT = "flowspec-checkpoint-1"
"""The value of the ``format`` metadata key; files without it are not checkpoints."""
_FORMAT, _SPEC, _FILE, _VERSION, _TORCH, _META, _STATE_JSON, _STATE = (
    "format",
    "spec_text",
    "spec_file",
    "flowspec_version",
    "torch_version",
    "meta.",
    "training_state",
    "_state.",
)


class CheckpointError(Exception):
    """A checkpoint is missing, unreadable, not written by flowspec or does not match its
    spec; the message says which and names the file."""


def save_checkpoint(
    path: str | os.PathLike[str],
    model: FlowModel,
    *,
    meta: dict[str, str] | None = None,
    state: tuple[dict[str, torch.Tensor], dict] | None = None,
) -> Path:
    """Write ``model``'s weights and spec to ``path`` atomically; returns the path.
    ``meta`` is extra string metadata (e.g. the data set and the number of steps);
    ``state`` is the training state, as tensors and JSON-ready data, for ``--resume``."""
    checked = getattr(model, "checked", None)
    if checked is None:
        raise ValueError("the model carries no spec to save; build it with flowspec.compile")
    meta = dict(meta or {})
    bad = [k for k, v in meta.items() if not (isinstance(k, str) and isinstance(v, str))]
    if bad:
        raise TypeError(f"checkpoint metadata must map strings to strings; bad entries: {bad}")
    metadata = {
        _FORMAT: FORMAT,
        _SPEC: checked.loaded.text,
        _FILE: checked.loaded.source.file,
        _VERSION: flowspec.__version__,
        _TORCH: torch.__version__,
        **{_META + key: value for key, value in meta.items()},
    }
    tensors = {
        name: tensor.detach().cpu().contiguous().clone()
        for name, tensor in model.state_dict().items()
    }
    if state is not None:
        state_tensors, state_info = state
        metadata[_STATE_JSON] = json.dumps(state_info)
        tensors |= {_STATE + k: v.detach().cpu().contiguous() for k, v in state_tensors.items()}
    payload = save(tensors, metadata=metadata)

    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    # A hidden sibling, created exclusively (with the umask's usual permissions).
    temporary = target.parent / f".{target.name}.{secrets.token_hex(6)}.tmp"
    try:
        with open(temporary, "xb") as file:
            file.write(payload)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, target)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return target


def _read(path: Path) -> tuple[dict[str, torch.Tensor], dict[str, str]]:
    """The tensors and metadata of a safetensors file, or a :class:`CheckpointError`."""
    if not path.is_file():
        reason = "is a directory" if path.is_dir() else "does not exist"
        raise CheckpointError(f"checkpoint '{path}' {reason}")
    try:
        with safe_open(str(path), framework="pt", device="cpu") as file:
            metadata = file.metadata() or {}
            tensors = {name: file.get_tensor(name) for name in file.keys()}
    except (SafetensorError, OSError, ValueError, RuntimeError) as error:
        raise CheckpointError(
            f"checkpoint '{path}' is corrupt or not a safetensors file: {error}"
        ) from None
    if metadata.get(_FORMAT) != FORMAT or _SPEC not in metadata:
        raise CheckpointError(
            f"'{path}' is a safetensors file but not a flowspec checkpoint (it holds no "
            "spec); write checkpoints with flowspec's save_checkpoint"
        )
    return tensors, metadata


def _float_dtype(tensors: dict[str, torch.Tensor]) -> torch.dtype | None:
    """The one floating dtype of the stored tensors, if they share one."""
    dtypes = {t.dtype for t in tensors.values() if t.is_floating_point()}
    return dtypes.pop() if len(dtypes) == 1 else None


def load_weights(model: torch.nn.Module, tensors: dict[str, torch.Tensor], what: str) -> None:
    """``model.load_state_dict(tensors)``, strict, with a short message when they don't fit:
    how many weights are missing or unexpected (a few named), which shapes differ, or
    which hold another kind of number than the model's (integers for float weights).
    Weights saved from a compiled module (names prefixed ``_orig_mod.``) load as they are
    without the prefix (:func:`flowspec.train.compiled.without_compiled_prefix`)."""
    tensors = without_compiled_prefix(tensors)
    expected, found = set(model.state_dict()), set(tensors)
    missing, unexpected = sorted(expected - found), sorted(found - expected)
    if missing or unexpected:
        parts = [
            f"{len(names)} {label} (e.g. {', '.join(names[:3])})"
            for label, names in (("missing", missing), ("unexpected", unexpected))
            if names
        ]
        raise CheckpointError(f"{what} do not fit the model: {'; '.join(parts)}")
    # Shapes, then kinds of number: load_state_dict would copy integers into float weights
    # (or truncate floats into integer buffers) silently, a model the file never held.
    for differ, what_differs, remedy in (
        (lambda t: tuple(t.shape), "shapes differ", ""),
        (
            lambda t: _dtype_kind(t.dtype),
            "tensor(s) of another kind of number",
            "; flowspec writes float weights, so convert the file's tensors (or write it with "
            "save_checkpoint)",
        ),
    ):
        wrong = [
            f"{key} is {_describe(tensors[key])} where the model holds {_describe(value)}"
            for key, value in model.state_dict().items()
            if differ(tensors[key]) != differ(value)
        ]
        if wrong:
            raise CheckpointError(
                f"{what} do not fit the model: {len(wrong)} {what_differs} "
                f"(e.g. {'; '.join(wrong[:3])}){remedy}"
            )
    model.load_state_dict(tensors, strict=True)


def _describe(tensor: torch.Tensor) -> str:
    """``float32 (16, 2)``: a tensor's dtype and shape."""
    return f"{str(tensor.dtype).removeprefix('torch.')} {tuple(tensor.shape)}"


def _dtype_kind(dtype: torch.dtype) -> str:
    """``floating``, ``complex``, ``bool`` or ``integer``: dtypes of one kind convert into
    each other without changing what the numbers mean."""
    if dtype.is_floating_point:
        return "floating"
    if dtype.is_complex:
        return "complex"
    return "bool" if dtype == torch.bool else "integer"


def _stored_copy(error: SpecError, file: str) -> SpecError:
    """``error`` with its diagnostics located in ``file`` (the checkpoint's stored copy of
    the spec) instead of the spec file the copy came from."""
    return SpecError(
        replace(d, location=replace(d.location, file=file)) if d.location else d
        for d in error.diagnostics
    )


def load_checkpoint(path: str | os.PathLike[str]) -> tuple[FlowModel, dict[str, str]]:
    """Rebuild the model stored at ``path`` from its spec, load its weights, and return it
    in eval mode with the user metadata given to :func:`save_checkpoint`."""
    path = Path(path)
    tensors, metadata = _read(path)
    saved_with = metadata.get(_VERSION, "an unknown version")
    versions = f"saved with flowspec {saved_with}, this is {flowspec.__version__}"
    original = metadata.get(_FILE, "<checkpoint>")
    try:
        loaded = load_spec_text(metadata[_SPEC], file=original)
        model = flowspec.compile(loaded)
    except SpecError as error:
        raise CheckpointError(
            f"the spec stored in checkpoint '{path}' does not compile ({versions}); it was "
            f"copied from {original} when the checkpoint was written, and the lines below "
            f"are those of the stored copy, not of {original} as it is now:\n"
            f"{_stored_copy(error, f'{path} (stored {original})').format()}"
        ) from None
    weights = {k: v for k, v in tensors.items() if not k.startswith(_STATE)}
    learned = {name for name, _ in model.named_parameters()}  # buffers may hold inf (errors)
    broken = [
        k
        for k, v in weights.items()
        if k in learned and v.is_floating_point() and not torch.isfinite(v).all()
    ]
    if broken:
        raise CheckpointError(
            f"checkpoint '{path}' holds NaN or infinite weights in {len(broken)} tensor(s) "
            f"(e.g. {', '.join(broken[:3])}): every log_prob and sample would be NaN; use "
            "the checkpoint of an earlier step (flowspec train keeps the best one)"
        )
    dtype = _float_dtype(weights)
    if dtype is not None:
        model.to(dtype)
    load_weights(model, weights, f"the weights in checkpoint '{path}' ({versions})")
    model.eval()
    return model, _user_meta(metadata)


def read_meta(path: str | os.PathLike[str]) -> dict[str, str]:
    """The user metadata given to :func:`save_checkpoint` (e.g. the data set or target a
    run fitted), without building the model."""
    return _user_meta(_read(Path(path))[1])


def _user_meta(metadata: dict[str, str]) -> dict[str, str]:
    return {k[len(_META) :]: v for k, v in metadata.items() if k.startswith(_META)}


class SavedRun(NamedTuple):
    """What a last checkpoint holds for resuming: the model weights, the training state's
    tensors and JSON data, and the spec text it was trained from."""

    weights: dict[str, torch.Tensor]
    tensors: dict[str, torch.Tensor]
    info: dict
    spec_text: str


def read_weights(path: str | os.PathLike[str]) -> dict[str, torch.Tensor]:
    """The model weights stored in a checkpoint (without any training state)."""
    tensors, _ = _read(Path(path))
    return {k: v for k, v in tensors.items() if not k.startswith(_STATE)}


def load_training_state(path: str | os.PathLike[str]) -> SavedRun:
    """The weights, training state and spec text of a checkpoint written with ``state=``;
    a :class:`CheckpointError` when it holds no training state (e.g. a best checkpoint)."""
    path = Path(path)
    tensors, metadata = _read(path)
    if _STATE_JSON not in metadata:
        raise CheckpointError(
            f"checkpoint '{path}' holds no training state to resume from (best checkpoints "
            "hold weights only; resume from the '.last' checkpoint beside it)"
        )
    state = {k[len(_STATE) :]: v for k, v in tensors.items() if k.startswith(_STATE)}
    weights = {k: v for k, v in tensors.items() if not k.startswith(_STATE)}
    try:
        info = json.loads(metadata[_STATE_JSON])
    except ValueError:
        info = None
    if not isinstance(info, dict):
        raise CheckpointError(
            f"checkpoint '{path}' holds a damaged training state (expected a JSON object, "
            f"found {metadata[_STATE_JSON][:60]!r}); start a new run with another --output"
        )
    return SavedRun(weights, state, info, metadata[_SPEC])
