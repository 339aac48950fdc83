"""Matching data to a model: which data a spec can be trained on, and loading it.

A model trained by ``flowspec train`` has one data input and at most one context input.
:func:`check_compatible` lists every way a data set does not fit the spec's inputs (shape,
discrete or continuous, levels, integer values, declared range, context), and
:func:`resolve_data` loads a bundled data set by name or a user's file for a model.

Example::

    >>> import flowspec
    >>> model = flowspec.compile("specs/realnvp_moons.yaml")
    >>> data = resolve_data(model, "moons", seed=0)
    >>> check_compatible(model, data)
    []
    >>> check_compatible(model, resolve_data(model, "digits"))[0]
    "shape mismatch: input 'x' has shape [2] but data set 'digits' has events of shape [64]"
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import torch

from flowspec.emit.runtime import FlowModel
from flowspec.spec.document import InputSpec
from flowspec.train.data import DATASETS, Dataset, load_dataset
from flowspec.train.files import FILE_SUFFIXES, DataError, load_data_file

__all__ = ["check_compatible", "data_inputs", "drop_unused_context", "resolve_data"]


def data_inputs(model: FlowModel) -> tuple[str, str | None, list[str]]:
    """The model's data input, its context input (or None) and the problems that keep it
    from being trained by flowspec (several data or context inputs)."""
    problems = []
    data, context = list(model.DATA_INPUTS), list(model.CONTEXT_INPUTS)
    if len(data) != 1:
        names = ", ".join(f"'{n}'" for n in data) or "none"
        problems.append(
            f"training needs a model with exactly one data input, this one has {len(data)} "
            f"({names})"
        )
    if len(context) > 1:
        problems.append(
            f"training takes at most one context input, this model has {len(context)} "
            f"({', '.join(context)}); concatenate them into one input"
        )
    return (data[0] if data else ""), (context[0] if context else None), problems


def _shape(shape: tuple[int, ...]) -> str:
    return f"[{', '.join(map(str, shape))}]"


def _input_spec(model: FlowModel, name: str) -> InputSpec:
    spec = model.checked.graph.nodes[name].input_spec
    assert spec is not None, f"'{name}' is one of the model's inputs"
    return spec


def check_compatible(model: FlowModel, dataset: Dataset) -> list[str]:
    """Why ``dataset`` cannot train ``model`` (empty when it can)."""
    if getattr(model, "checked", None) is None:
        return ["the model carries no checked spec; build it with flowspec.compile"]
    name, context_name, problems = data_inputs(model)
    if problems:
        return problems
    problems += _context_problems(model, context_name, dataset)
    spec = _input_spec(model, name)
    where, data = f"input '{name}'", f"data set '{dataset.name}'"
    if tuple(spec.shape) != tuple(dataset.shape):
        problems.append(
            f"shape mismatch: {where} has shape {_shape(tuple(spec.shape))} but {data} has "
            f"events of shape {_shape(dataset.shape)}"
        )
    if dataset.levels is not None and spec.levels is None:
        problems.append(
            f"{data} is discrete (integers 0..{dataset.levels - 1}) but {where} is continuous; "
            f"declare levels: {dataset.levels} on it and dequantize (e.g. "
            "{kind: uniform_dequantization})"
        )
    elif dataset.levels is None and spec.levels is not None and dataset.name in DATASETS:
        problems.append(
            f"{data} is continuous but {where} declares discrete values (levels: "
            f"{spec.levels}); remove levels from the input"
        )
    elif dataset.levels is not None and spec.levels != dataset.levels:
        problems.append(
            f"levels mismatch: {where} declares levels: {spec.levels} but {data} has "
            f"{dataset.levels} levels (0..{dataset.levels - 1})"
        )
    parts = (dataset.train, dataset.val, dataset.test)
    values = torch.cat([part.flatten() for part in parts if part is not None])
    if spec.levels is not None and values.numel():
        if (
            not torch.equal(values, values.round())
            or values.min() < 0
            or values.max() >= spec.levels
        ):
            problems.append(
                f"{where} declares levels: {spec.levels}, so values must be the integers "
                f"0..{spec.levels - 1}, but {data} has values in "
                f"[{float(values.min()):.4g}, {float(values.max()):.4g}]"
                + ("" if torch.equal(values, values.round()) else ", not all integers")
            )
    if spec.levels is None and dataset.levels is None and values.numel():
        low, high = float(values.min()), float(values.max())
        bottom = -math.inf if spec.low is None else spec.low
        top = math.inf if spec.high is None else spec.high
        if low < bottom or high > top:
            problems.append(
                f"{data} has values in [{low:.3g}, {high:.3g}], outside the range "
                f"[{bottom:g}, {top:g}] declared on {where}"
            )
    return problems


def drop_unused_context(model: FlowModel, dataset: Dataset) -> Dataset:
    """``dataset`` without its context when ``model`` is unconditional (e.g. moons' labels
    for an unconditional spec), else unchanged."""
    if model.CONTEXT_INPUTS or not dataset.context:
        return dataset
    return replace(dataset, context={}, context_shape=None)


def _context_problems(model: FlowModel, context_name: str | None, dataset: Dataset) -> list[str]:
    data = f"data set '{dataset.name}'"
    if context_name is None:
        return []
    if "train" not in dataset.context:
        return [
            f"the model is conditional (context input '{context_name}'), but {data} has no "
            "context values; give a data file with context columns or arrays (or use moons, "
            "whose context is the half-moon label, shape [1])"
        ]
    spec = _input_spec(model, context_name)
    found = tuple(dataset.context["train"].shape[1:])
    if tuple(spec.shape) != found:
        return [
            f"context shape mismatch: input '{context_name}' has shape "
            f"{_shape(tuple(spec.shape))} but {data} has context of shape {_shape(found)}"
        ]
    return []


def resolve_data(model: FlowModel, data: str, *, seed: int = 0) -> Dataset:
    """A bundled data set by name, or a data file (see :mod:`flowspec.train.files`) read
    for ``model``'s inputs. Raises :class:`DataError` for unknown names and bad files."""
    if data in DATASETS:
        return load_dataset(data, seed=seed)
    if Path(data).suffix.lower() not in FILE_SUFFIXES:
        try:
            load_dataset(data)
        except ValueError as error:  # lists the names, with a suggestion
            raise DataError(f"{error}; or give a data file ({', '.join(FILE_SUFFIXES)})") from None
    name, context_name, problems = data_inputs(model)
    if problems:
        raise DataError("; ".join(problems))
    spec = _input_spec(model, name)
    context_shape = None
    if context_name is not None:
        context_shape = tuple(_input_spec(model, context_name).shape)
    return load_data_file(
        data,
        names=(name, context_name),
        shape=tuple(spec.shape),
        context_shape=context_shape,
        levels=spec.levels,
        seed=seed,
    )
