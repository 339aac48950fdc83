"""Draw a checked flow graph with Graphviz: DOT source, and SVG, PNG or PDF files.

Nodes are filled by category (what the likelihood sees: bijective, surjective,
stochastic, distribution) and carry their id, kind and output shapes; edges carry the
port and shape of the tensor they move, context edges are dashed, and the nodes of a
block use are drawn inside one cluster, with one sub-cluster per repetition. The layout
runs top to bottom, from the data to the latents.

Everything that comes from a spec goes through :func:`html.escape` (labels are
HTML-like) or :func:`graphviz.escape` (plain attributes), so names holding quotes,
angle brackets, ampersands or newlines draw as written.
"""

from __future__ import annotations

import html
import json
import shutil
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import graphviz

from flowspec.core.node import Category
from flowspec.graph.model import INPUT_PORT, FlowGraph, GraphNode

__all__ = ["RenderResult", "FORMATS", "PALETTE", "to_dot", "render"]

#: Output suffixes :func:`render` accepts, and the Graphviz format each one asks for
#: (None: write the DOT source itself).
FORMATS: dict[str, str | None] = {
    ".svg": "svg",
    ".png": "png",
    ".pdf": "pdf",
    ".gv": None,
    ".dot": None,
}

#: Fill colour per node category (light ColorBrewer "Paired" tones, dark text stays legible).
PALETTE: dict[str, str] = {
    "input": "#e8e8e8",
    Category.BIJECTIVE.value: "#a6cee3",
    Category.SURJECTIVE.value: "#fdbf6f",
    Category.STOCHASTIC.value: "#cab2d6",
    Category.DISTRIBUTION.value: "#b2df8a",
}

_INSTALL_HINT = (
    "Install Graphviz (apt-get install graphviz, brew install graphviz, or see "
    "https://graphviz.org/download/) and run again"
)


@dataclass(frozen=True)
class RenderResult:
    """What :func:`render` wrote: the requested file, or the DOT source when ``dot`` is missing."""

    written: Path
    fallback: bool = False
    message: str | None = None


def _text(value: object) -> str:
    """Spec text for an HTML-like label: escaped, with newlines as line breaks."""
    return html.escape(str(value), quote=True).replace("\n", '<BR ALIGN="CENTER"/>')


def _category(node: GraphNode) -> str:
    return "input" if node.spec is None else node.spec.category().value


def _shape(node: GraphNode, port: str) -> str:
    """The shape (and restricted support) on one output port of ``node``, if known."""
    if node.output_info is None or port not in node.output_ports:
        return "?"
    info = node.output_info[node.output_ports.index(port)]
    return str(info) if info.support.is_real_line else f"{info} {info.support}"


def _node_label(node: GraphNode) -> str:
    kind = "context input" if node.is_context_input else node.kind
    rows = [f"<B>{_text(node.id)}</B>", f"<I>{_text(kind)}</I>"]
    if node.is_input:
        rows.append(_text(_shape(node, INPUT_PORT)))
    elif node.spec is not None and node.spec.terminal:
        rows.append(_text("log p(z | context)" if node.context is not None else "log p(z)"))
    else:
        rows.extend(_text(f"{port}: {_shape(node, port)}") for port in node.output_ports)
    return "<" + '<BR ALIGN="CENTER"/>'.join(rows) + ">"


def _tooltip(node: GraphNode) -> str:
    if node.spec is None:
        return graphviz.escape(f"input {node.id}")
    lines = [f"{node.kind}: {node.spec.summary}", f"contribution: {node.spec.contribution}"]
    settings = node.spec.describe().items()
    lines += [f"{key}: {json.dumps(value, default=str)}" for key, value in settings]
    return graphviz.escape("\n".join(lines))


def _add_node(graph: graphviz.Digraph, node: GraphNode) -> None:
    style = "rounded,filled,dashed" if node.is_context_input else "rounded,filled"
    graph.node(
        node.id,
        _node_label(node),
        fillcolor=PALETTE[_category(node)],
        style=style,
        tooltip=_tooltip(node),
    )


def _title(graph: FlowGraph) -> str:
    bound = "exact" if graph.exact else "a lower bound (ELBO)"
    return f"<<B>{_text(graph.header.name)}</B><BR/>{_text(f'log_prob is {bound}')}>"


def _legend() -> graphviz.Digraph:
    cells = "".join(
        f'<TD BGCOLOR="{colour}">{_text(name)}</TD>' for name, colour in PALETTE.items()
    )
    table = (
        '<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="4" CELLPADDING="4">'
        f"<TR>{cells}</TR>"
        f'<TR><TD COLSPAN="{len(PALETTE)}" BORDER="0">'
        "solid edge: data   dashed edge: context</TD></TR></TABLE>>"
    )
    legend = graphviz.Digraph(name="cluster__legend")
    legend.attr(label="legend", style="rounded", color="#999999", fontsize="10")
    legend.node("_legend", table, shape="plain")
    return legend


def _block_name(node: GraphNode) -> str:
    """The block a grouped node was expanded from (its path is ``blocks.<name>.<index>``)."""
    return str(node.path[1]) if node.path[:1] == ("blocks",) else str(node.group)


def _edge_label(graph: FlowGraph, source: str, target: str, data: dict) -> str:
    node = graph.nodes[source]
    shape = _shape(node, data["port"])
    label = shape if data["port"] == INPUT_PORT else f"{data['port']} {shape}"
    consumer = graph.nodes[target]
    if data["kind"] == "context":
        return f"context: {label}"
    if consumer.spec is not None and len(consumer.spec.input_ports()) > 1:
        return f"{label} → {consumer.spec.input_ports()[data['slot']]}"
    return label


def to_dot(graph: FlowGraph) -> graphviz.Digraph:
    """The Graphviz drawing of ``graph`` (call ``.source`` for DOT text)."""
    dot = graphviz.Digraph(name="flowspec")
    dot.attr(
        rankdir="TB",
        label=_title(graph),
        labelloc="t",
        fontname="Helvetica",
        fontsize="14",
    )
    dot.attr("node", shape="box", fontname="Helvetica", fontsize="11")
    dot.attr("edge", fontname="Helvetica", fontsize="9")

    order = graph.inference_order or list(graph.nodes)
    groups: dict[str, dict[int, list[GraphNode]]] = defaultdict(lambda: defaultdict(list))
    for node_id in order:
        node = graph.nodes[node_id]
        if node.group is None:
            _add_node(dot, node)
        else:
            groups[node.group][node.repetition or 0].append(node)

    for group, repetitions in groups.items():
        block = _block_name(next(iter(repetitions.values()))[0])
        with dot.subgraph(name=f"cluster_{group}") as use:
            use.attr(
                label=f"<{_text(f'{group} (block {block}) ×{len(repetitions)}')}>",
                style="rounded",
                color="#555555",
                fontsize="12",
            )
            for repetition, nodes in repetitions.items():
                with use.subgraph(name=f"cluster_{group}__{repetition}") as rep:
                    rep.attr(
                        label=f"<{_text(f'repetition {repetition}')}>",
                        style="dashed",
                        color="#999999",
                        fontsize="10",
                    )
                    for node in nodes:
                        _add_node(rep, node)

    for source, target, data in graph.edges.edges(data=True):
        label = f"<{_text(_edge_label(graph, source, target, data))}>"
        if data["kind"] == "context":
            dot.edge(source, target, label=label, style="dashed")
        else:
            dot.edge(source, target, label=label)

    dot.subgraph(_legend())
    return dot


def render(graph: FlowGraph, output: str | Path) -> RenderResult:
    """Draw ``graph`` to ``output`` (.svg, .png, .pdf, or .gv/.dot for DOT source).

    When Graphviz's ``dot`` program is missing, the DOT source is written next to
    ``output`` (same stem, ``.gv``) and the result says how to install Graphviz.
    """
    output = Path(output)
    suffix = output.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(
            f"cannot draw to '{output}': the suffix must be one of {', '.join(FORMATS)}"
        )
    dot = to_dot(graph)
    output.parent.mkdir(parents=True, exist_ok=True)
    fmt = FORMATS[suffix]
    if fmt is None:
        output.write_text(dot.source, encoding="utf-8")
        return RenderResult(output)
    if shutil.which("dot") is not None:
        try:
            output.write_bytes(dot.pipe(format=fmt))
            return RenderResult(output)
        except graphviz.ExecutableNotFound:
            pass
    fallback = output.with_suffix(".gv")
    fallback.write_text(dot.source, encoding="utf-8")
    message = (
        f"Graphviz's 'dot' program was not found, so the DOT source was written to "
        f"{fallback} instead of {output}. {_INSTALL_HINT}, or convert it yourself: "
        f"dot -T{fmt} {fallback} -o {output}"
    )
    return RenderResult(fallback, fallback=True, message=message)
