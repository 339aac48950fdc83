"""A user's own data: ``.npy``, ``.npz``, ``.csv`` or ``.pt`` files, split by a seed.

Files are read without executing anything: ``np.load(allow_pickle=False)`` and
``torch.load(weights_only=True)``. What the file holds is matched to the spec's inputs:

- one array (``.npy``, ``.csv``, a ``.pt`` tensor, a one-array ``.npz``): either examples of
  the data input's shape ``[n, *shape]``, or a table ``[n, D + C]`` whose first ``D`` columns
  are the data (flattened) and last ``C`` the context (flattened), for a conditional spec;
- named arrays (``.npz``, a ``.pt`` dict of tensors): one per input, named as in the spec
  (``x`` and ``c`` below), or ``data`` and ``context``.

A ``.csv`` may start with a header row. Rows are shuffled with ``seed`` and split into
test, validation and training parts (``val_fraction`` and ``test_fraction`` of the rows).

Example::

    inputs: {x: {shape: [2]}, c: {shape: [1], context: true}}
    $ python -c "import numpy as np; np.savez('d.npz', x=np.random.randn(500, 2), c=np.ones((500, 1)))"
    $ flowspec train spec.yaml --data d.npz --steps 500
"""

from __future__ import annotations

import math
import pickle
import zipfile
from pathlib import Path

import numpy as np
import torch

from flowspec.spec.training import DATA_FILE_SUFFIXES as FILE_SUFFIXES
from flowspec.train.data import Dataset, Split

__all__ = ["DataError", "FILE_SUFFIXES", "load_data_file"]


class DataError(ValueError):
    """A data file is missing, unreadable, or does not hold what the spec's inputs need."""


def _read(path: Path) -> dict[str, np.ndarray] | np.ndarray:
    """The arrays in ``path``: one array, or named arrays."""
    suffix = path.suffix.lower()
    if suffix not in FILE_SUFFIXES:
        raise DataError(
            f"'{path}': unsupported data file type '{suffix or '(none)'}'; use one of "
            f"{', '.join(FILE_SUFFIXES)} or a bundled data set name"
        )
    if not path.is_file():
        raise DataError(f"data file '{path}' does not exist")
    try:
        if suffix == ".npy":
            return np.load(path, allow_pickle=False)
        if suffix == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                return {key: archive[key] for key in archive.files}
        if suffix == ".csv":
            return _read_csv(path)
    except (ValueError, OSError, EOFError, RuntimeError, zipfile.BadZipFile) as error:
        raise DataError(f"cannot read data file '{path}': {error}") from None
    loaded = _load_pt(path)
    if isinstance(loaded, torch.Tensor):
        return _tensor_array(loaded, path)
    if isinstance(loaded, dict) and all(isinstance(v, torch.Tensor) for v in loaded.values()):
        return {str(k): _tensor_array(v, path) for k, v in loaded.items()}
    raise DataError(
        f"'{path}' holds a {type(loaded).__name__}; a .pt data file must hold a tensor or a "
        "dict of tensors named after the spec's inputs"
    )


def _load_pt(path: Path) -> object:
    """A ``.pt`` file's contents, loaded with ``weights_only=True``: pickled objects other
    than tensors and containers are refused, never run. Any file the loader cannot parse (a
    torch archive or not) is a :class:`DataError`: the loader raises many exception types
    (``UnpicklingError``, ``KeyError``, ...) for foreign or damaged files."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise DataError(
            f"cannot read data file '{path}': it holds pickled Python objects other than "
            "tensors, which are never loaded (they could run code); save a tensor or a dict "
            "of tensors with torch.save"
        ) from None
    except Exception as error:  # noqa: BLE001 - a foreign or damaged file
        raise DataError(
            f"cannot read data file '{path}': not a readable torch.save file "
            f"({type(error).__name__}: {error})"
        ) from None


def _tensor_array(tensor: torch.Tensor, path: Path) -> np.ndarray:
    """A loaded tensor as a numpy array: sparse tensors made dense, floating types numpy
    lacks (bfloat16, float8) widened to float32; dtypes left unconvertible are a
    :class:`DataError` naming them."""
    try:
        tensor = tensor.detach()
        if tensor.layout != torch.strided:
            tensor = tensor.to_dense()
        if tensor.is_floating_point() and tensor.dtype not in (
            torch.float16,
            torch.float32,
            torch.float64,
        ):
            tensor = tensor.to(torch.float32)
        return tensor.numpy()
    except (TypeError, RuntimeError) as error:
        raise DataError(
            f"data file '{path}' holds a tensor of dtype {tensor.dtype} that cannot be read "
            f"as numbers ({error})"
        ) from None


def _read_csv(path: Path) -> np.ndarray:
    text = path.read_text(encoding="utf-8").splitlines()
    rows = [line for line in text if line.strip()]
    if rows and not _numeric(rows[0]):
        rows = rows[1:]  # a header
    if not rows:
        raise DataError(f"data file '{path}' has no rows")
    try:
        return np.loadtxt(rows, delimiter=",", ndmin=2, dtype=np.float64)
    except ValueError as error:
        raise DataError(
            f"'{path}': every row must hold numbers separated by commas ({error})"
        ) from None


def _numeric(line: str) -> bool:
    try:
        [float(cell) for cell in line.split(",")]
    except ValueError:
        return False
    return True


def _as_float(array: np.ndarray, what: str) -> np.ndarray:
    if array.dtype.kind not in "biuf":
        raise DataError(f"{what} must be numbers, found an array of dtype {array.dtype}")
    values = array.astype(np.float64)
    if not np.isfinite(values).all():
        raise DataError(f"{what} holds NaN or infinite values")
    return values


def _from_arrays(
    arrays: dict[str, np.ndarray] | np.ndarray,
    names: tuple[str, str | None],
    shape: tuple[int, ...],
    context_shape: tuple[int, ...] | None,
    where: str,
) -> tuple[np.ndarray, np.ndarray | None]:
    """The data and context arrays, matched to the inputs' names and shapes."""
    data_name, context_name = names
    if isinstance(arrays, dict):
        if len(arrays) == 1 and context_shape is None:
            arrays = next(iter(arrays.values()))
        else:
            found = ", ".join(sorted(arrays)) or "none"
            data_key = next((k for k in (data_name, "data") if k in arrays), None)
            if data_key is None:
                raise DataError(
                    f"{where} has arrays {found}; expected one named '{data_name}' (the "
                    "spec's data input) or 'data'"
                )
            if context_shape is None:
                return arrays[data_key], None
            context_key = next((k for k in (context_name, "context") if k in arrays), None)
            if context_key is None:
                raise DataError(
                    f"{where} has arrays {found}; the spec is conditional, so one named "
                    f"'{context_name}' (its context input) or 'context' is needed too"
                )
            return arrays[data_key], arrays[context_key]
    if arrays.ndim >= 1 and tuple(arrays.shape[1:]) == shape and context_shape is None:
        return arrays, None
    data_columns = math.prod(shape)
    context_columns = math.prod(context_shape) if context_shape is not None else 0
    if arrays.ndim == 2 and arrays.shape[1] == data_columns + context_columns:
        context = arrays[:, data_columns:] if context_shape is not None else None
        return arrays[:, :data_columns], context
    layout = f"[n, {', '.join(map(str, shape))}]" if context_shape is None else "none"
    raise DataError(
        f"{where} holds an array of shape {list(arrays.shape)}; expected "
        + (f"examples of shape {layout} or " if context_shape is None else "")
        + f"a table of {data_columns + context_columns} columns ({data_columns} data"
        + (f" then {context_columns} context" if context_shape is not None else "")
        + " values per row)"
    )


def load_data_file(
    path: str | Path,
    *,
    names: tuple[str, str | None],
    shape: tuple[int, ...],
    context_shape: tuple[int, ...] | None = None,
    levels: int | None = None,
    seed: int = 0,
    val_fraction: float = 0.1,
    test_fraction: float = 0.1,
) -> Dataset:
    """Read ``path`` for a spec whose data input ``names[0]`` has event ``shape`` (and
    context input ``names[1]`` of ``context_shape``), shuffle it with ``seed`` and split it.
    Raises :class:`DataError` with what was found and what was expected."""
    path = Path(path)
    where = f"data file '{path}'"
    data, context = _from_arrays(_read(path), names, tuple(shape), context_shape, where)
    data = _as_float(np.asarray(data), f"the data in {where}")
    n = len(data)
    if context is not None:
        context = _as_float(np.asarray(context), f"the context in {where}")
        if len(context) != n:
            raise DataError(f"{where} has {n} data rows but {len(context)} context rows")
    test_n = max(1, round(n * test_fraction))
    val_n = max(1, round(n * val_fraction))
    if n - test_n - val_n < 1:
        raise DataError(f"{where} has {n} rows: too few for training, validation and test parts")
    order = np.random.default_rng(seed).permutation(n)
    parts = (order[test_n + val_n :], order[test_n : test_n + val_n], order[:test_n])
    splits = []
    for part in parts:
        try:
            x = torch.as_tensor(data[part], dtype=torch.float32).reshape(-1, *shape)
            c = None
            if context is not None and context_shape is not None:
                c = torch.as_tensor(context[part], dtype=torch.float32).reshape(-1, *context_shape)
        except RuntimeError:
            raise DataError(
                f"{where}: rows of {data[0].size} data values do not make events of shape "
                f"{list(shape)}"
                + (f" and context of shape {list(context_shape)}" if context_shape else "")
            ) from None
        splits.append(Split(x, c))
    train, val, test = splits
    return Dataset.from_splits(path.name, (train, val, test), tuple(shape), levels, context_shape)
