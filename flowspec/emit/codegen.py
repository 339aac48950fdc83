"""Emit the checked graph as readable PyTorch source: a FlowModel subclass with the model's
facts, its graph as a table, and straight-line code in topological order for each direction.

The in-memory model *is* this source, executed (as torch.fx does), so the file written by
``flowspec compile`` and the model returned by ``flowspec.compile`` cannot disagree.

Nothing from a spec is pasted into the source unescaped: node ids and input names are
validated identifiers (see :func:`flowspec.spec.document.is_identifier`), kinds come from
the registry, and every other string (names, file paths, the spec text) goes through
``repr``.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterable

from flowspec.diagnostics import Locator
from flowspec.emit.straight_line import INDENT, emit_generate, emit_log_prob
from flowspec.graph.model import FlowGraph, PortRef
from flowspec.graph.verdict import verdict
from flowspec.optimize.program import Program

__all__ = ["class_name", "emit_class", "emit_source", "header", "source_class_name"]


def class_name(spec_name: str, taken: Iterable[str] = ("FlowModel", "torch")) -> str:
    """A CamelCase class name from a spec name (``realnvp-moons`` -> ``RealnvpMoons``),
    never one of the ``taken`` names the emitted module defines or imports."""
    words = [w for w in re.split(r"[^A-Za-z0-9]+", spec_name) if w]
    name = "".join(w[:1].upper() + w[1:] for w in words)
    if not name or not name[0].isalpha() or not name.isidentifier() or keyword.iskeyword(name):
        name = "Flow" + name
    if not name.isidentifier():
        name = "Flow"
    taken = set(taken)
    while name in taken:
        name += "Model"
    return name


def _graph_table(graph: FlowGraph) -> list[str]:
    """``GRAPH``: every node in inference order as ``(node, inputs, context, outputs)``,
    values named as the spec names them (``node``, ``node.port``, inputs by name); a
    distribution has no outputs. ``trace`` and ``sample_and_log_prob`` run it node by node
    (:mod:`flowspec.emit.interpreter`)."""

    def shown(ref: PortRef) -> str:
        node = graph.nodes[ref.node]
        return node.id if len(node.output_ports) == 1 else f"{node.id}.{ref.port}"

    rows = []
    for node in graph.layers:
        inputs = tuple(shown(ref) for ref in node.input_refs)
        context = shown(node.context) if node.context is not None else None
        outputs = (
            ()
            if node.node_spec.terminal
            else tuple(shown(PortRef(node.id, p)) for p in node.output_ports)
        )
        rows.append(f"        {(node.id, inputs, context, outputs)!r},")
    return ["    GRAPH = (", *rows, "    )"]


def _wrapped(opening: str, items: list[str], closing: str) -> list[str]:
    """``opening``, the items filled into lines of at most 100 characters, ``closing``."""
    lines, line = [], ""
    for item in items:
        if line and len(INDENT) + len(line) + 1 + len(item) > 100:
            lines.append(INDENT + line)
            line = ""
        line = f"{line} {item}" if line else item
    return [opening, *lines, INDENT + line, f"    {closing}"]


def emit_class(program: Program, locator: Locator | None, name: str) -> list[str]:
    """The lines of the generated :class:`~flowspec.emit.runtime.FlowModel` subclass: the
    model's facts, its graph, and one straight-line method per direction
    (:mod:`flowspec.emit.straight_line`)."""
    graph = program.graph
    shapes = {n.id: tuple(n.known_outputs[0].shape) for n in graph.nodes.values() if n.is_input}
    data, context = graph.data_inputs, graph.context_inputs
    latent_shapes = {
        n.id: tuple(n.known_inputs[0].shape) for n in graph.layers if n.node_spec.terminal
    }
    tables: dict[str, list[int]] = {}
    log_prob = emit_log_prob(program, locator, tables)
    generate = emit_generate(program, locator, tables)
    said = verdict(graph)
    lines = [
        f"class {name}(FlowModel):",
        f"    SPEC_NAME = {graph.header.name!r}",
        f"    LIKELIHOOD = {graph.likelihood.label!r}",
        f"    VERDICT = {said.sentence!r}",
        f"    DRAWS_NOISE = {said.draws_noise!r}",
        f"    FIGURE = {(said.figure.name, said.figure.meaning)!r}",
        f"    LOG_PROB_COST = {graph.costs.inference.label!r}",
        f"    SAMPLE_COST = {graph.costs.generation.label!r}",
        f"    LOG_PROB_UNAVAILABLE = {graph.unavailable_log_prob()!r}",
        f"    DATA_INPUTS = {tuple(data)!r}",
        f"    CONTEXT_INPUTS = {tuple(context)!r}",
        f"    INPUT_SHAPES = {shapes!r}",
        f"    LATENT_SHAPES = {latent_shapes!r}",
        *_graph_table(graph),
        *_wrapped("    GENERATION_ORDER = (", [f"{n!r}," for n in graph.generation_order], ")"),
    ]
    if tables:
        lines.append(f"    INDEX_TABLES = {tables!r}")
    lines += [
        "",
        f"    def _log_prob({', '.join(['self', *data, *context])}):",
        f'{INDENT}"""Inference, data -> latents: log p(x), the sum of every contribution."""',
        f"{INDENT}nodes = self.nodes",
        *log_prob,
        "",
        f"    def _generate({', '.join(['self', 'n', *context, 'latents=None'])}):",
        f'{INDENT}"""Generation, latents -> data: n draws (the distributions named in',
        f'{INDENT}latents give their value instead of drawing one)."""',
        f"{INDENT}nodes = self.nodes",
        f"{INDENT}latents = {{}} if latents is None else latents",
        *generate,
    ]
    return lines


def header(graph: FlowGraph, how: str) -> list[str]:
    """The comment lines that open a generated file."""
    return [
        f"# Generated by flowspec from spec {graph.header.name!r} ({graph.file!r}).",
        "# Straight-line code in topological order, one method per direction; each node's",
        f"# comment points back to the spec. {how}",
    ]


#: The names the module written by :func:`emit_source` defines besides the model class.
SOURCE_GLOBALS = ("FlowModel", "torch", "SPEC_TEXT", "build_model")


def source_class_name(graph: FlowGraph) -> str:
    """The model class's name in the module written by :func:`emit_source`."""
    return class_name(graph.header.name, SOURCE_GLOBALS)


def emit_source(program: Program, locator: Locator | None = None, spec_text: str = "") -> str:
    """Python source of a :class:`~flowspec.emit.runtime.FlowModel` subclass running
    ``program`` (the literal or the optimized graph), with a ``build_model()`` that rebuilds
    it from the embedded spec (needs flowspec)."""
    graph = program.graph
    name = source_class_name(graph)
    lines = [
        *header(graph, "Rebuild the module with build_model()."),
        "import torch",
        "",
        "from flowspec.emit.runtime import FlowModel",
        "",
        "",
        *emit_class(program, locator, name),
        "",
        "",
        f"SPEC_TEXT = {spec_text!r}",
        "",
        "",
        f"def build_model() -> {name}:",
        '    """A fresh, untrained instance of this model (needs flowspec installed)."""',
        "    from flowspec.api import build_nodes",
        "",
        f"    return {name}(build_nodes(SPEC_TEXT))",
        "",
    ]
    return "\n".join(lines)
