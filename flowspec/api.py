"""The Python API: load, check, compile.

>>> import flowspec, torch
>>> model = flowspec.compile("specs/realnvp_moons.yaml")   # a path (here from the repository root)
>>> model.log_prob(torch.zeros(5, 2)).shape, model.sample(64).shape, model.likelihood
(torch.Size([5]), torch.Size([64, 2]), 'exact')
"""

from __future__ import annotations

import builtins
import gc
import linecache
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowspec.diagnostics import Diagnostic, Reporter, SpecError
from flowspec.graph.build import build_graph
from flowspec.graph.model import FlowGraph
from flowspec.graph.passes import run_passes
from flowspec.spec.accept import split_accepted
from flowspec.spec.loader import LoadedSpec, load_spec_file, load_spec_text
from flowspec.spec.validate import SpecModel, validate_document

if TYPE_CHECKING:  # torch is imported where models are built: checking stays instant
    from torch import nn

    from flowspec.emit.runtime import FlowModel
    from flowspec.optimize import Program

__all__ = [
    "CheckedSpec",
    "Diagnosis",
    "Overrides",
    "load",
    "diagnose",
    "check",
    "compile",
    "source",
    "build_nodes",
]

Source = str | Path


@dataclass
class CheckedSpec:
    """A spec that passed every check: its graph, its source, its warnings and the
    warnings it accepts (``accept:``, not printed; reasons in ``graph.accepted``)."""

    graph: FlowGraph
    loaded: LoadedSpec
    warnings: list[Diagnostic]
    accepted: list[Diagnostic] = field(default_factory=list)

    def program(self, optimize: bool = True) -> Program:
        """What the generated code runs: the graph after the optimizing passes
        (:mod:`flowspec.optimize`), or with ``optimize=False`` the literal graph, every
        node's layer called once."""
        from flowspec.optimize import literal_program  # only for emitting
        from flowspec.optimize import optimize as run_optimizer

        return run_optimizer(self.graph) if optimize else literal_program(self.graph)

    def source(self, optimize: bool = True) -> str:
        """The generated PyTorch source of this spec's model (``optimize=False``: the
        literal graph, one call per node)."""
        from flowspec.emit.codegen import emit_source  # checking alone needs no emitter

        return emit_source(self.program(optimize), self.loaded.source, self.loaded.text)

    def standalone_source(self, optimize: bool = True) -> str:
        """A torch-only module: the layers' source, the generated model, ``build_model()``.
        Only the layers' constructor arguments are needed, so they are built on the meta
        device: nothing is allocated and torch's random state is left alone."""
        import torch

        from flowspec.emit.standalone import emit_standalone

        with torch.device("meta"):
            nodes = self.build_nodes()
        return emit_standalone(self.program(optimize), nodes, self.loaded.source)

    def build_nodes(self) -> dict[str, nn.Module]:
        """A fresh torch module for every node, in inference order."""
        return {
            node.id: node.node_spec.build(node.known_inputs, node.context_info)
            for node in self.graph.layers
        }

    def model_class(self, optimize: bool = True) -> type[FlowModel]:
        """The generated FlowModel subclass, defined by executing the generated source."""
        from flowspec.emit.codegen import source_class_name

        source = self.source(optimize)
        filename = f"<flowspec {self.graph.header.name!r}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        namespace: dict = {"__name__": "flowspec.generated"}
        exec(builtins.compile(source, filename, "exec"), namespace)  # noqa: S102 - our own generated code
        return namespace[source_class_name(self.graph)]

    def build_model(self, optimize: bool = True) -> FlowModel:
        model = self.model_class(optimize)(self.build_nodes())
        model.checked = self
        return model


Overrides = Mapping[str, Any]
"""Settings put into a spec before it is checked, ``{PATH: value}`` with ``PATH`` read as
``flowspec sweep --set`` reads it: a node id (``body.repeat``), a block name
(``step.conditioner.channels``: every entry of the block that has it), ``train``
(``train.lr``) or a field path set in every node and block entry that has it
(``net.hidden``, ``conditioner.channels``)."""


def load(source: Source | LoadedSpec, overrides: Overrides | None = None) -> LoadedSpec:
    """Read a spec from a path, or from YAML text (a string with a line break), with
    ``overrides`` put in (:data:`Overrides`; a path that matches nothing raises
    :class:`SpecError` E940, located in the spec).

    >>> import flowspec
    >>> small = flowspec.load("specs/realnvp_moons.yaml", overrides={"net.hidden": [8]})
    >>> small.data["blocks"]["step"][0]["net"]
    {'kind': 'mlp', 'hidden': [8]}
    """
    if isinstance(source, LoadedSpec):
        loaded = source
    elif isinstance(source, Path) or "\n" not in source:
        loaded = load_spec_file(source)
    else:
        loaded = load_spec_text(source)
    if not overrides:
        return loaded
    from flowspec.study.configs import Space  # the paths of studies' --set

    return Space.override(loaded, overrides)


@contextmanager
def _without_cyclic_gc() -> Iterator[None]:
    """Python's cyclic collector, left on, makes full passes over the whole heap while a
    big spec is checked, which grows faster than the spec (exponent 1.3 to 1.7 between
    1,000 and 3,000 nodes). Checking creates no garbage cycles worth collecting midway,
    so the collector is paused (and restored as it was)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass
class Diagnosis:
    """Everything the checks of a loaded spec produced, errors or not: the typed spec, its
    graph as far as the checks got (None when the header is invalid; nodes past an error
    lack their shapes) and every diagnostic, errors and warnings; without errors, the
    warnings the spec accepts (``accept:``) are set apart in ``accepted``, as
    :func:`check` reports them."""

    spec: SpecModel
    graph: FlowGraph | None
    diagnostics: list[Diagnostic]
    accepted: list[Diagnostic] = field(default_factory=list)

    @property
    def errors(self) -> int:
        return sum(d.severity == "error" for d in self.diagnostics)


def diagnose(loaded: LoadedSpec) -> Diagnosis:
    """Run every check of a loaded spec and keep what they found, raising nothing (what
    ``flowspec lsp`` shows while a spec is typed; :func:`check` raises on errors)."""
    with _without_cyclic_gc():
        reporter = Reporter(loaded.source)
        spec = validate_document(loaded.data, reporter)
        if spec.header is None:
            return Diagnosis(spec, None, reporter.diagnostics)
        graph = build_graph(spec, spec.header, loaded.source.file, reporter)
        run_passes(graph, reporter)
        if reporter.has_errors:
            return Diagnosis(spec, graph, reporter.diagnostics)
        graph.accepted = dict(spec.header.accept)
        shown, accepted = split_accepted(reporter.warnings, graph.accepted, reporter)
        return Diagnosis(spec, graph, shown, accepted)


def check(source: Source | LoadedSpec, overrides: Overrides | None = None) -> CheckedSpec:
    """Run every check (after ``overrides``, see :func:`load`); raise :class:`SpecError`
    with all the diagnostics if any fails."""
    with _without_cyclic_gc():
        loaded = load(source, overrides)
        diagnosis = diagnose(loaded)
    if diagnosis.errors:
        raise SpecError(diagnosis.diagnostics)
    assert diagnosis.graph is not None, "a spec without a header has errors"
    return CheckedSpec(diagnosis.graph, loaded, diagnosis.diagnostics, diagnosis.accepted)


def compile(  # noqa: A001 - the verb users expect
    source: Source | LoadedSpec, optimize: bool = True, overrides: Overrides | None = None
) -> FlowModel:
    """Compile a spec (a path or YAML text) into a torch module with ``log_prob``,
    ``sample``, ``trace``, ``iwbo``, ``likelihood`` and ``verdict``. ``optimize=False`` runs the literal
    graph (same density, same ``state_dict`` keys). ``overrides`` changes settings first
    (:func:`load`), e.g. ``{"conditioner.channels": 8}`` to run a published architecture at small
    widths."""
    return check(source, overrides).build_model(optimize)


def source(spec: Source | LoadedSpec, optimize: bool = True) -> str:
    """The generated PyTorch source for a spec (``flowspec.emit`` is the package that
    writes it, so the function has another name); ``optimize=False``: the literal graph."""
    return check(spec).source(optimize)


def build_nodes(source: Source | LoadedSpec) -> dict[str, nn.Module]:
    """Fresh node modules for a spec (used by generated files' ``build_model``)."""
    return check(source).build_nodes()
