"""Emit the checked graph as readable PyTorch source: straight-line code in topological order.

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
from dataclasses import dataclass

from flowspec.diagnostics import Locator
from flowspec.graph.model import FlowGraph, GraphNode, PortRef
from flowspec.graph.verdict import verdict
from flowspec.optimize.program import Program

__all__ = ["emit_source", "emit_class", "header", "class_name", "source_class_name"]

_INDENT = "        "


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


@dataclass
class _Names:
    graph: FlowGraph

    def value(self, ref: PortRef) -> str:
        """The variable holding the value of one output port."""
        node = self.graph.nodes[ref.node]
        return node.id if len(node.output_ports) == 1 else f"{node.id}__{ref.port}"

    def outputs(self, node: GraphNode) -> list[str]:
        return [self.value(PortRef(node.id, port)) for port in node.output_ports]

    def inputs(self, node: GraphNode) -> list[str]:
        return [self.value(ref) for ref in node.input_refs]

    def context(self, node: GraphNode) -> str:
        return f", context={self.value(node.context)}" if node.context is not None else ""


def _comment(node: GraphNode, locator: Locator | None) -> str:
    location = locator.locate(node.path) if locator else None
    where = f" at {location.file!r}:{location.line}:{location.col}" if location else ""
    group = f" (block use {node.group!r}, repetition {node.repetition})" if node.group else ""
    return f"{_INDENT}# {node.id}: {node.kind}{group}{where}"


def _call(node: GraphNode) -> str:
    return f"nodes[{node.id!r}]"


def _release_after(steps: list[list[str]], keep: set[str]) -> list[list[str]]:
    """For each step (the variables it reads), the variables read for the last time there,
    so straight-line code can ``del`` them and free each intermediate as soon as it is used
    (inference without gradients then holds O(1) activations, not one per node)."""
    last_use = {name: index for index, used in enumerate(steps) for name in used}
    released: list[list[str]] = [[] for _ in steps]
    for name, index in last_use.items():
        if name not in keep:
            released[index].append(name)
    return [sorted(names) for names in released]


def _del(names: list[str]) -> list[str]:
    return [f"{_INDENT}del {', '.join(names)}"] if names else []


def _reads(names: _Names, node: GraphNode, values: list[str]) -> list[str]:
    context = [names.value(node.context)] if node.context is not None else []
    return values + context


def _shown(node: GraphNode, port: str) -> str:
    """The name of an output as a spec writes it: ``node`` or ``node.port``."""
    return node.id if len(node.output_ports) == 1 else f"{node.id}.{port}"


def _inference_lines(
    graph: FlowGraph, names: _Names, locator: Locator | None, *, traced: bool
) -> list[str]:
    """The lines of each node in inference order, adding its contribution to ``logp``.

    ``traced`` keeps every contribution and latent in dicts. Otherwise only the running
    sum is kept: volume-preserving nodes (contribution always zero) are left out of it and
    every intermediate is released after its last use. The code calls no builtins, so no
    node id can shadow one."""
    layers = graph.layers
    inputs = set(graph.data_inputs) | set(graph.context_inputs)
    released = _release_after([_reads(names, n, names.inputs(n)) for n in layers], inputs)
    lines: list[str] = []
    started = False
    for node, free in zip(layers, released, strict=True):
        lines.append(_comment(node, locator))
        args = ", ".join(names.inputs(node)) + names.context(node)
        skipped = node.node_spec.preserves_volume() and not traced
        sink = f"contributions[{node.id!r}]" if traced else ("_" if skipped else "contribution")
        if node.node_spec.terminal:
            if traced:
                lines.append(f"{_INDENT}latents[{node.id!r}] = {names.inputs(node)[0]}")
            lines.append(f"{_INDENT}{sink} = {_call(node)}({args})")
        else:
            targets = ", ".join(names.outputs(node))
            if len(node.output_ports) > 1:
                targets = f"({targets})"
            lines.append(f"{_INDENT}{targets}, {sink} = {_call(node)}({args})")
            if traced:
                lines += [
                    f"{_INDENT}values[{_shown(node, port)!r}] = {value}"
                    for port, value in zip(node.output_ports, names.outputs(node), strict=True)
                ]
        if not skipped:
            lines.append(f"{_INDENT}logp = logp + {sink}" if started else f"{_INDENT}logp = {sink}")
            started = True
        if not traced:
            lines += _del(free)
    return lines


def emit_class(
    graph: FlowGraph, locator: Locator | None, name: str, program: Program | None = None
) -> list[str]:
    """The lines of the generated :class:`~flowspec.emit.runtime.FlowModel` subclass:
    the literal graph, or with an optimized ``program`` (:mod:`flowspec.optimize`) its
    ``_log_prob`` and ``_generate`` (``trace`` and hooks keep the literal code)."""
    lines = _literal_class(graph, locator, name)
    return lines if program is None else _with_optimized(lines, program, locator)


def _with_optimized(literal: list[str], program: Program, locator: Locator | None) -> list[str]:
    """The literal class with optimized ``_log_prob`` and ``_generate`` in place of the
    literal ones, which are kept as ``_literal_log_prob`` and ``_literal_generate``."""
    from flowspec.emit.optimized import emit_generate, emit_log_prob

    graph = program.graph
    tables: dict[str, list[int]] = {}
    log_prob = emit_log_prob(program, locator, tables)
    generate = emit_generate(program, locator, tables)
    start = literal.index(next(line for line in literal if line.startswith("    def _log_prob(")))
    signature = literal[start]
    arguments = ", ".join([*graph.data_inputs, *graph.context_inputs])
    begin_generate = next(
        i for i, line in enumerate(literal) if line.startswith("    def _generate(")
    )
    end_generate = next(
        (i for i, line in enumerate(literal) if i > begin_generate and line.startswith("    def ")),
        len(literal),
    )
    # The literal _generate's opening (signature, docstring, set-up) up to its first node.
    preamble = next(
        i for i in range(begin_generate, end_generate) if literal[i].startswith(f"{_INDENT}# ")
    )
    after = literal[end_generate:]
    generate_signature = literal[begin_generate]
    generate_arguments = ", ".join(["n", *graph.context_inputs, "latents=latents"])
    return [
        *literal[:start],
        f"    INDEX_TABLES = {tables!r}",
        "",
        signature,
        f'{_INDENT}"""Inference, data -> latents, keeping only the running log p(x); optimized',
        f'{_INDENT}(see the comments), or the literal code while hooks or initialisations need it."""',
        f"{_INDENT}if self._use_literal():",
        f"{_INDENT}    return self._literal_log_prob({arguments})",
        f"{_INDENT}nodes = self.nodes",
        *log_prob,
        "",
        signature.replace("def _log_prob(", "def _literal_log_prob("),
        *literal[start + 1 : begin_generate],
        generate_signature,
        f'{_INDENT}"""Generation, latents -> data; optimized (see the comments), or the literal',
        f'{_INDENT}code while hooks are registered on layers it calls directly."""',
        f"{_INDENT}if self._hooks_registered():",
        f"{_INDENT}    return self._literal_generate({generate_arguments})",
        *literal[begin_generate + 2 : preamble],  # after the signature and one-line docstring
        *generate,
        "",
        generate_signature.replace("def _generate(", "def _literal_generate("),
        *literal[begin_generate + 1 : end_generate],
        *after,
    ]


def _literal_class(graph: FlowGraph, locator: Locator | None, name: str) -> list[str]:
    names = _Names(graph)
    shapes = {n.id: tuple(n.known_outputs[0].shape) for n in graph.nodes.values() if n.is_input}
    data, context = graph.data_inputs, graph.context_inputs
    latent_shapes = {
        n.id: tuple(n.known_inputs[0].shape) for n in graph.layers if n.node_spec.terminal
    }
    signature = ", ".join(["self", *data, *context])
    lines = [
        f"class {name}(FlowModel):",
        f"    SPEC_NAME = {graph.header.name!r}",
        f"    LIKELIHOOD = {graph.likelihood.label!r}",
        f"    VERDICT = {verdict(graph).sentence!r}",
        f"    LOG_PROB_COST = {graph.costs.inference.label!r}",
        f"    SAMPLE_COST = {graph.costs.generation.label!r}",
        f"    LOG_PROB_UNAVAILABLE = {graph.unavailable_log_prob()!r}",
        f"    DATA_INPUTS = {tuple(data)!r}",
        f"    CONTEXT_INPUTS = {tuple(context)!r}",
        f"    INPUT_SHAPES = {shapes!r}",
        f"    LATENT_SHAPES = {latent_shapes!r}",
        "",
        f"    def _log_prob({signature}):",
        f'{_INDENT}"""Inference, data -> latents, keeping only the running log p(x)."""',
        f"{_INDENT}nodes = self.nodes",
        *_inference_lines(graph, names, locator, traced=False),
        f"{_INDENT}return logp",
        "",
        f"    def _inference({signature}):",
        f'{_INDENT}"""Inference, data -> latents: (log p(x), contributions, latents)."""',
        f"{_INDENT}nodes = self.nodes",
        f"{_INDENT}contributions = {{}}",
        f"{_INDENT}latents = {{}}",
        f"{_INDENT}values = {{{', '.join(f'{d!r}: {d}' for d in [*data, *context])}}}",
        *_inference_lines(graph, names, locator, traced=True),
    ]
    lines += [f"{_INDENT}return logp, contributions, latents, values", ""]
    lines += _generation_lines(graph, names, locator, scored=False)
    lines += ["", *_generation_lines(graph, names, locator, scored=True)]
    return lines


def _generation_lines(
    graph: FlowGraph, names: _Names, locator: Locator | None, *, scored: bool
) -> list[str]:
    """``_generate`` (latents -> data: n draws) or, ``scored``, ``_generate_scored`` (the
    draws and their log-density, each node's contribution taken where it generated). The
    distributions named in ``latents`` give their value instead of drawing one."""
    context = graph.context_inputs
    method = "_generate_scored" if scored else "_generate"
    what = "n draws and their log p(x)" if scored else "n draws"
    lines = [
        f"    def {method}({', '.join(['self', 'n', *context, 'latents=None'])}):",
        f'{_INDENT}"""Generation, latents -> data: {what}; the distributions named in '
        'latents give their value instead of drawing one."""',
        f"{_INDENT}nodes = self.nodes",
        f"{_INDENT}latents = {{}} if latents is None else latents",
    ]
    order = [graph.nodes[node_id] for node_id in graph.generation_order]
    reads = [_reads(names, n, [] if n.node_spec.terminal else names.outputs(n)) for n in order]
    released = _release_after(reads, set(graph.data_inputs) | set(context))
    started = False
    for node, free in zip(order, released, strict=True):
        lines.append(_comment(node, locator))
        if node.node_spec.terminal:
            latent = names.inputs(node)[0]
            lines.append(
                f"{_INDENT}{latent} = latents[{node.id!r}] if {node.id!r} in "
                f"latents else {_call(node)}.sample(n{names.context(node)})"
            )
            if scored:
                lines.append(
                    f"{_INDENT}contribution = {_call(node)}({latent}{names.context(node)})"
                )
        else:
            targets = ", ".join(names.inputs(node))
            if len(node.input_refs) > 1:
                targets = f"({targets})"
            args = ", ".join(names.outputs(node)) + names.context(node)
            if scored:
                lines.append(
                    f"{_INDENT}{targets}, contribution = self._scored_inverse({_call(node)}, {args})"
                )
            else:
                lines.append(f"{_INDENT}{targets} = {_call(node)}.inverse({args})")
        if scored:
            lines.append(
                f"{_INDENT}logp = logp + contribution"
                if started
                else f"{_INDENT}logp = contribution"
            )
            started = True
        lines += _del(free)
    data = graph.data_inputs
    result = data[0] if len(data) == 1 else f"{{{', '.join(f'{d!r}: {d}' for d in data)}}}"
    lines.append(f"{_INDENT}return {result}, logp" if scored else f"{_INDENT}return {result}")
    return lines


def header(graph: FlowGraph, how: str) -> list[str]:
    """The comment lines that open a generated file."""
    return [
        f"# Generated by flowspec from spec {graph.header.name!r} ({graph.file!r}).",
        "# Straight-line code in topological order; each node's comment points back to",
        f"# the spec. {how}",
    ]


#: The names the module written by :func:`emit_source` defines besides the model class.
SOURCE_GLOBALS = ("FlowModel", "torch", "SPEC_TEXT", "build_model")


def source_class_name(graph: FlowGraph) -> str:
    """The model class's name in the module written by :func:`emit_source`."""
    return class_name(graph.header.name, SOURCE_GLOBALS)


def emit_source(
    graph: FlowGraph,
    locator: Locator | None = None,
    spec_text: str = "",
    program: Program | None = None,
) -> str:
    """Python source of a :class:`~flowspec.emit.runtime.FlowModel` subclass for ``graph``
    (optimized when a ``program`` is given), with a ``build_model()`` that rebuilds it from
    the embedded spec (needs flowspec)."""
    name = source_class_name(graph)
    lines = [
        *header(graph, "Rebuild the module with build_model()."),
        "import torch",
        "",
        "from flowspec.emit.runtime import FlowModel",
        "",
        "",
        *emit_class(graph, locator, name, program),
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
