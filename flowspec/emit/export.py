"""``torch.export`` programs of a compiled flow, and which node kinds graph-capture whole.

:func:`export_programs` writes two self-contained programs (``torch.export.save`` files,
loaded with ``torch.export.load`` and run through ``.module()``, no flowspec needed):

- ``<stem>.log_prob.pt2`` takes a data batch ``(batch, *event_shape)`` and returns
  ``log p(x)``, shape ``(batch,)``. The batch dimension is dynamic: any batch size works,
  whatever the size of the example batch used for tracing.
- ``<stem>.sample.pt2`` takes one tensor whose first dimension is the number of draws (its
  values are ignored, e.g. ``torch.empty(n)``) and returns ``n`` samples. That count is
  dynamic too.

Randomness stays inside the programs: the noise of stochastic nodes (dequantization,
augmentation encoders, slice decoders) and of the base distributions is drawn with
``aten.rand``/``aten.randn`` from torch's global generator on every call, so
``torch.manual_seed`` makes a program reproduce the eager model draw for draw.

The programs capture the model as it is, in eval mode. A layer with data-dependent
initialisation (actnorm) that has not seen data yet is exported with its current
parameters and never initialises itself inside the program (tracing the initialisation
would re-normalise every batch by its own statistics): export a trained model, or one
loaded from a checkpoint, or run ``log_prob`` on a data batch first.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import torch
from torch import nn
from torch.export import Dim

from flowspec.core.ports import PortInfo
from flowspec.core.registry import node_kinds
from flowspec.emit.runtime import FlowModel

__all__ = [
    "NOT_FULLGRAPH",
    "ExportError",
    "export_programs",
    "example_batch",
    "program_paths",
    "LogProbProgram",
    "SampleProgram",
]

#: Node kinds that ``torch.compile(model.log_prob, fullgraph=True)`` cannot capture as one
#: graph, with the reason each states (``NodeSpec.not_fullgraph``): they iterate to a
#: tolerance (bisection, fixed-point or ODE solvers), so their loop count depends on the
#: data, or have no log_prob. Every other kind compiles to a single graph and exports.
NOT_FULLGRAPH: dict[str, str] = {
    name: cls.not_fullgraph for name, cls in node_kinds().items() if cls.not_fullgraph
}


class ExportError(Exception):
    """The model cannot be exported as ``torch.export`` programs (the message says why)."""


class LogProbProgram(nn.Module):
    """``forward(x) = model.log_prob(x)``: the module traced for the log_prob program."""

    def __init__(self, model: FlowModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.log_prob(x)


class SampleProgram(nn.Module):
    """``forward(count) = model.sample(count.shape[0])``: only the first dimension of
    ``count`` is read, so the number of draws can stay symbolic in the exported program."""

    def __init__(self, model: FlowModel) -> None:
        super().__init__()
        self.model = model

    def forward(self, count: torch.Tensor) -> torch.Tensor:
        return self.model.sample(count.shape[0])


def program_paths(output: Path) -> tuple[Path, Path]:
    """Where :func:`export_programs` writes: ``<stem>.log_prob.pt2`` and
    ``<stem>.sample.pt2`` in the directory of ``output``."""
    output = Path(output)
    return (
        output.with_name(f"{output.stem}.log_prob.pt2"),
        output.with_name(f"{output.stem}.sample.pt2"),
    )


def example_batch(model: FlowModel, batch: int) -> torch.Tensor:
    """A batch of valid data for the model's single data input, in the dtype and on the
    device of its parameters: integers ``0..levels-1`` for discrete inputs, values inside
    ``[low, high]`` for bounded ones, standard normal draws otherwise. The draws come from
    a generator with a fixed seed, so torch's global generator is left alone.

    Raises :class:`ExportError` unless the model has exactly one data input and no context
    inputs."""
    info = _data_input(model)
    tensors = [*model.parameters(), *model.buffers()]
    reference = next((t for t in tensors if t.is_floating_point()), None)
    dtype = torch.get_default_dtype() if reference is None else reference.dtype
    device = torch.device("cpu") if reference is None else reference.device
    generator = torch.Generator(device).manual_seed(0)
    shape = (batch, *info.shape)
    support = info.support
    if support.levels is not None:
        levels = torch.randint(0, support.levels, shape, generator=generator, device=device)
        return levels.to(dtype)
    unit = torch.rand(shape, generator=generator, dtype=dtype, device=device)
    low, high = support.low, support.high
    if math.isfinite(low) and math.isfinite(high):
        return low + (high - low) * (0.05 + 0.9 * unit)  # inside, off the endpoints
    if math.isfinite(low):
        return low - torch.log1p(-unit)  # low + Exponential(1)
    if math.isfinite(high):
        return high + torch.log1p(-unit)
    return torch.randn(shape, generator=generator, dtype=dtype, device=device)


def export_programs(model: FlowModel, output: Path, *, batch: int = 256) -> list[Path]:
    """Export ``model.log_prob`` and ``model.sample`` as ``torch.export`` programs next to
    ``output`` (see :func:`program_paths`) and return their paths, log_prob first.

    ``batch`` is the size of the example batch (and draw count) used for tracing; the
    programs accept any batch size. The model is traced in eval mode and left as it was
    (mode and parameters). Raises :class:`ExportError` for models with context inputs or
    several data inputs, and for models not built by flowspec.
    """
    x = example_batch(model, batch)
    log_prob_path, sample_path = program_paths(output)
    was_training = model.training
    model.eval()
    try:
        with _frozen_initialisation(model):
            log_prob = _export(model, LogProbProgram(model), x, "batch")
            count = torch.empty(batch, device=x.device)
            sample = _export(model, SampleProgram(model), count, "count")
    finally:
        model.train(was_training)
    log_prob_path.parent.mkdir(parents=True, exist_ok=True)
    staged = []
    try:  # both programs or neither: write them beside their targets, then move them in
        for program, path in ((log_prob, log_prob_path), (sample, sample_path)):
            # Ends in .pt2 as torch expects (any other name makes it log a warning).
            temporary = path.with_name(f".{path.stem}.partial{path.suffix}")
            torch.export.save(program, temporary)
            staged.append((temporary, path))
        for temporary, path in staged:
            os.replace(temporary, path)
    finally:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
    return [log_prob_path, sample_path]


def _data_input(model: FlowModel) -> PortInfo:
    """The port info of the model's only data input, or an :class:`ExportError`."""
    checked = getattr(model, "checked", None)
    if checked is None:
        raise ExportError(
            "the model carries no checked spec, so its input shape is unknown; build it "
            "with flowspec.compile or load it with flowspec's load_checkpoint"
        )
    graph = checked.graph
    name = graph.header.name
    if graph.context_inputs:
        raise ExportError(
            f"spec '{name}' has context inputs ({', '.join(graph.context_inputs)}): export "
            "supports unconditional models only (one data input, no context inputs)"
        )
    if len(graph.data_inputs) != 1:
        raise ExportError(
            f"spec '{name}' has {len(graph.data_inputs)} data inputs "
            f"({', '.join(graph.data_inputs)}): export supports models with one data input"
        )
    iterating = [n for n in graph.layers if n.spec is not None and n.kind in NOT_FULLGRAPH]
    if iterating:
        node = iterating[0]
        raise ExportError(
            f"spec '{name}' cannot be exported as one graph: node '{node.id}' ({node.kind}): "
            f"{NOT_FULLGRAPH[node.kind]}"
        )
    return graph.nodes[graph.data_inputs[0]].output_info[0]


def _export(
    model: FlowModel, program: nn.Module, example: torch.Tensor, dim: str
) -> torch.export.ExportedProgram:
    """Trace ``program`` with a dynamic first dimension; tracing failures become
    :class:`ExportError`."""
    try:
        return torch.export.export(program, (example,), dynamic_shapes=({0: Dim(dim)},))
    except Exception as error:  # torch raises many types; the CLI reports one
        raise ExportError(
            f"torch.export could not trace {type(program).__name__} of spec "
            f"'{model.checked.graph.header.name}': {error}"
        ) from error


@contextmanager
def _frozen_initialisation(model: FlowModel) -> Iterator[None]:
    """Mark uninitialised data-dependent layers (a boolean ``is_initialized`` attribute
    that is False, as on actnorm) initialised while tracing, so that their current
    parameters are exported instead of their initialisation code; warn naming them, and
    restore the flags afterwards."""
    layers = [
        (f"{node}.{path}".rstrip("."), module)
        for node, layer in model.nodes.items()
        for path, module in layer.named_modules()
        if getattr(module, "is_initialized", True) is False
    ]
    units = [name for name, module in layers if not getattr(module, "GENERATES_UNSET", True)]
    if units:
        raise ExportError(
            f"node(s) {', '.join(units)} have no statistics yet (standardize: the data's "
            "mean and std, which fix the units of log p(x)); export a trained checkpoint "
            "(--weights) or call model.initialize(x) on the training data first"
        )
    if layers:
        warnings.warn(
            "exporting layers not yet initialised from data "
            f"({', '.join(name for name, _ in layers)}): they are exported with their "
            "current parameters; train the model, load a checkpoint, or run log_prob on a "
            "data batch before exporting",
            UserWarning,
            stacklevel=4,
        )
    for _, module in layers:
        module.is_initialized = True
    try:
        yield
    finally:
        for _, module in layers:
            module.is_initialized = False
