"""Draw a checked flow graph with Graphviz: DOT source, and SVG, PNG or PDF files.

Nodes are filled by category (what the likelihood sees: bijective, surjective,
stochastic, distribution) and show their id, kind, the settings that matter and their
output shapes; context edges are dashed, and edges are labelled where the port or slot is
not obvious (several outputs, several inputs, context). A block used with ``repeat: N``
is one cluster showing its chain once, labelled ``× N`` (``expand=True`` draws every
repetition, as ``flowspec render --unroll`` does); a block used inside a block is a
cluster inside the outer use's cluster. The layout runs top to bottom, from the
data to the latents. All spec text is escaped in :mod:`flowspec.render.text`.

Example::

    from flowspec.render import render
    render(flowspec.check("specs/realnvp_moons.yaml").graph, "arch.svg")
"""

from __future__ import annotations

import itertools
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import graphviz

from flowspec.core.node import Category
from flowspec.graph.memory import memory_plan
from flowspec.graph.model import INPUT_PORT, FlowGraph, GraphNode
from flowspec.graph.verdict import verdict, with_article
from flowspec.render.formats import FORMATS
from flowspec.render.nested import add_nested_flows
from flowspec.render.plan import PLAIN, Box, Cluster, Plan, Wire, plan
from flowspec.render.settings import settings
from flowspec.render.shading import UNITS, Shading
from flowspec.render.text import BREAK, attribute, html_text, shorten, two_lines

__all__ = ["RenderResult", "FORMATS", "PALETTE", "to_dot", "render"]

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
_SMALL = '<FONT POINT-SIZE="9">{}</FONT>'
#: Settings longer than this go on two lines in boxes, and are shortened beyond that (the
#: tooltip holds them whole).
MAX_SETTING = 48


@dataclass(frozen=True)
class RenderResult:
    """What :func:`render` wrote: the requested file, or the DOT source when ``dot`` is missing."""

    written: Path
    fallback: bool = False
    message: str | None = None


def _category(node: GraphNode) -> str:
    return "input" if node.spec is None else node.spec.category().value


def _shape(node: GraphNode, port: str) -> str:
    """The shape (and restricted support) on one output port of ``node``, if known."""
    if node.output_info is None or port not in node.output_ports:
        return "?"
    info = node.output_info[node.output_ports.index(port)]
    # Values moved by learned layers lie somewhere on the line: nothing worth drawing.
    plain = info.support.is_real_line or info.support.partial
    return str(info) if plain else f"{info} {info.support}"


def _span(values: list[str]) -> str:
    """One value, or the first and last when the repetitions differ."""
    return values[0] if len(set(values)) == 1 else f"{values[0]} … {values[-1]}"


def _label(box: Box, shading: Shading | None = None) -> str:
    """Id (first and last when folded), kind with what comes out, then the settings; a
    node with several outputs lists them one per line; with ``shading``, the node's term
    of log p(x)."""
    node, nodes = box.first, box.nodes
    ids = [shorten(n.id) for n in nodes]
    kind = f"<I>{html_text('context input' if node.is_context_input else node.kind)}</I>"
    rows = [f"<B>{html_text(ids[0] if len(ids) == 1 else f'{ids[0]} … {ids[-1]}')}</B>"]
    ports = node.output_ports
    if node.is_input:
        rows.append(f"{kind} {html_text(_span([_shape(n, INPUT_PORT) for n in nodes]))}")
    elif node.spec is not None and node.spec.terminal:
        density = "log p(z | context)" if node.context is not None else "log p(z)"
        rows.append(f"{kind} · {html_text(density)}")
    elif len(ports) == 1:
        rows.append(f"{kind} → {html_text(_span([_shape(n, ports[0]) for n in nodes]))}")
    else:
        rows.append(kind)
    if node.spec is not None and node.spec.has_parameters and node.input_info is not None:
        rows.append(_SMALL.format(html_text(_parameters(box))))
    if node.spec is not None:
        per_node = [dict(settings(n.node_spec, n.input_info)) for n in nodes]
        for key in per_node[0]:
            value = _span([s.get(key, "?") for s in per_node])
            rows += [
                _SMALL.format(html_text(line)) for line in two_lines(f"{key}: {value}", MAX_SETTING)
            ]
        if len(ports) > 1:
            rows += [html_text(f"{p}: {_span([_shape(n, p) for n in nodes])}") for p in ports]
        if shading is not None:
            rows.append(f"<B>{html_text(shading.text([n.id for n in nodes]))}</B>")
    return "<" + BREAK.join(rows) + ">"


def _count(count: int) -> str:
    return f"{count:,} parameter{'' if count == 1 else 's'}"


def _parameters(box: Box) -> str:
    """A box's learned parameters: its node's, or each repetition's when folded."""
    counts = [node.parameter_count() for node in box.nodes]
    if len(counts) == 1:
        return _count(counts[0])
    if len(set(counts)) == 1:
        return f"{_count(counts[0])} each, {sum(counts):,} in all"
    return f"{_count(sum(counts))} in all"


def _total(nodes: list[GraphNode]) -> int | None:
    """The nodes' parameters, or None when the shape pass left some inputs unknown."""
    if any(node.input_info is None for node in nodes):
        return None
    return sum(node.parameter_count() for node in nodes)


def _cluster_nodes(cluster: Cluster) -> list[GraphNode]:
    """Every node of a block use, all repetitions and nested uses included."""
    return [
        node
        for row in cluster.rows
        for item in row
        for node in (_cluster_nodes(item) if isinstance(item, Cluster) else item.nodes)
    ]


def _tooltip(box: Box) -> str:
    node = box.first
    lines = [", ".join(n.id for n in box.nodes)]
    if node.spec is None:
        lines.append("context input" if node.is_context_input else "input")
    else:
        lines += [f"{node.kind}: {node.spec.summary}", f"contribution: {node.spec.contribution}"]
        described = node.spec.describe().items()
        lines += [f"{key}: {json.dumps(value, default=str)}" for key, value in described]
    return attribute("\n".join(lines))


def _add_box(graph: graphviz.Digraph, box: Box, shading: Shading | None) -> None:
    node = box.first
    fill = PALETTE[_category(node)]
    if shading is not None and not node.is_input:
        fill = shading.fill([n.id for n in box.nodes])
    graph.node(
        box.name,
        _label(box, shading),
        fillcolor=fill,
        style="rounded,filled,dashed" if node.is_context_input else "rounded,filled",
        tooltip=_tooltip(box),
    )
    if node.spec is not None:
        add_nested_flows(graph, box.name, node.spec)


def _title(graph: FlowGraph) -> str:
    said = verdict(graph)
    total = _total(graph.layers)
    what = f"log_prob is {with_article(said.label)}"
    what += f" · {_count(total)}" if total is not None else ""
    if not said.log_prob_available:
        what = "log_prob of data: not available (sample_and_log_prob: " + said.label + ")"
    return f"<<B>{html_text(graph.header.name)}</B><BR/>{html_text(what)}>"


def _has_mask(box: Box) -> bool:
    spec = box.first.spec
    return spec is not None and "mask" in dict(settings(spec, box.first.input_info))


def _scale_cells(shading: Shading) -> tuple[str, int, list[str]]:
    """The colour scale's swatches (nats, and bits/dim below), and what they mean."""
    cells = "".join(
        f'<TD BGCOLOR="{colour}">{html_text(f"{value:+.3g} nats")}<BR/>'
        f"{_SMALL.format(html_text(f'{shading.bits(value):+.3g} bits/dim'))}</TD>"
        for value, colour in shading.ticks()
    )
    notes = [
        f"fill: {UNITS}, D = {shading.dims}",
        "blue raises the likelihood, red lowers it; a folded box sums its repetitions",
    ]
    return cells, len(shading.ticks()), notes


def _legend(
    drawing: Plan, shading: Shading | None = None, marked: tuple[str, ...] = ()
) -> graphviz.Digraph:
    """Only the categories and edge styles the drawing uses; with ``shading``, its colour
    scale in units instead of the categories; ``marked``, the memory treatments drawn."""
    present = {_category(box.first) for box in drawing.boxes.values()}
    cells = "".join(
        f'<TD BGCOLOR="{colour}">{html_text(name)}</TD>'
        for name, colour in PALETTE.items()
        if name in present
    )
    width = len(present)
    notes: list[str] = []
    if shading is not None:
        cells, width, notes = _scale_cells(shading)
    if any(box.first.is_context_input for box in drawing.boxes.values()):
        notes.append("dashed box: context input")
    if any(wire.context for wire in drawing.wires):
        notes.append("dashed edge: context")
    if any(cluster.repeat > 1 for cluster in drawing.every_cluster()):
        notes.append("× N: block repeated N times")
    if any(_has_mask(box) for box in drawing.boxes.values()):
        notes.append("mask: 1 kept (conditions), 0 transformed")
    notes += [_MEMORY_NOTES[treatment] for treatment in marked]
    rows = f"<TR>{cells}</TR>" + "".join(
        f'<TR><TD COLSPAN="{width}" BORDER="0">{_SMALL.format(html_text(note))}</TD></TR>'
        for note in notes
    )
    table = f'<<TABLE BORDER="0" CELLBORDER="1" CELLSPACING="2" CELLPADDING="2">{rows}</TABLE>>'
    legend = graphviz.Digraph(name="cluster__legend")
    legend.attr(label="legend", style="rounded", color="#999999", fontsize="10")
    legend.node("_legend", table, shape="plain", fontsize="10")
    return legend


def _edge_label(drawing: Plan, wire: Wire) -> str | None:
    """Port and shape where they are not obvious: a context edge, one of several outputs,
    or one of several inputs (the box itself shows a single output's shape)."""
    source = drawing.boxes[wire.source].first
    consumer = drawing.boxes[wire.target].first
    shape = _span([_shape(n, wire.port) for n in drawing.boxes[wire.source].nodes])
    several = len(source.output_ports) > 1
    label = f"{wire.port} {shape}" if several else None
    if wire.context:
        return f"context: {label}" if label else "context"
    if consumer.spec is not None and len(consumer.spec.input_ports()) > 1:
        slot = consumer.spec.input_ports()[wire.slot]
        return f"{label or shape} → {slot}"
    return label


def _style_frame(frame: graphviz.Digraph, text: str, style: str, size: str) -> None:
    """Label and line of a cluster: solid for a block use, dashed for a repetition."""
    frame.attr(
        label=f"<{html_text(text)}>",
        style=style,
        color="#555555" if style == "rounded" else "#999999",
        fontsize=size,
    )


def _add_items(
    graph: graphviz.Digraph,
    items: list[Box | Cluster],
    names: Iterator[int],
    shading: Shading | None,
) -> None:
    for item in items:
        if isinstance(item, Cluster):
            _cluster(graph, next(names), item, names, shading)
        else:
            _add_box(graph, item, shading)


def _cluster(
    dot: graphviz.Digraph,
    index: int,
    cluster: Cluster,
    names: Iterator[int],
    shading: Shading | None,
) -> None:
    """A block use as a cluster, with the uses nested in it as clusters inside it;
    ``names`` numbers the clusters whose use ids are not plain DOT names."""
    times = f" × {cluster.repeat}" if cluster.repeat > 1 else ""
    name = f"cluster_{cluster.group if PLAIN.fullmatch(cluster.group) else f'_{index}'}"
    uses = _span(cluster.groups)
    count = _total(_cluster_nodes(cluster))
    learned = f" · {_count(count)}" if count else ""
    with dot.subgraph(name=name) as use:
        _style_frame(use, f"{uses}: block {cluster.block}{times}{learned}", "rounded", "12")
        if len(cluster.rows) == 1:
            _add_items(use, cluster.rows[0], names, shading)
            return
        for repetition, items in enumerate(cluster.rows):
            with use.subgraph(name=f"{name}__{repetition}") as rep:
                _style_frame(rep, f"repetition {repetition}", "dashed", "10")
                _add_items(rep, items, names, shading)


def to_dot(
    graph: FlowGraph, expand: bool = False, shading: Shading | None = None
) -> graphviz.Digraph:
    """The Graphviz drawing of ``graph`` (call ``.source`` for DOT text); block uses are
    drawn once with ``× N`` unless ``expand``; with ``shading``, nodes are filled by their
    term of log p(x) (:mod:`flowspec.render.shading`)."""
    drawing = plan(graph, expand)
    dot = graphviz.Digraph(name="flowspec")
    dot.attr(
        rankdir="TB",
        label=_title(graph),
        labelloc="t",
        fontname="Helvetica",
        fontsize="14",
        ranksep="0.3",
        nodesep="0.3",
    )
    dot.attr("node", shape="box", fontname="Helvetica", fontsize="11", margin="0.08,0.04")
    dot.attr("edge", fontname="Helvetica", fontsize="9", arrowsize="0.7")
    for box in drawing.loose:
        _add_box(dot, box, shading)
    names = itertools.count()
    for cluster in drawing.clusters:
        _cluster(dot, next(names), cluster, names, shading)
    for wire in drawing.wires:
        label = _edge_label(drawing, wire)
        attrs = {"style": "dashed"} if wire.context else {}
        if label is not None:
            attrs["label"] = f"<{html_text(label)}>"
        dot.edge(wire.source, wire.target, **attrs)
    dot.subgraph(_legend(drawing, shading, _mark_memory(dot, graph, drawing)))
    return dot


#: How a node's treatment under ``train: {memory: ...}`` is drawn, and its legend line.
_MEMORY_MARKS = {
    "rebuilt": {"color": "#1a9850", "penwidth": "3"},
    "checkpointed": {"color": "#d95f02", "penwidth": "3", "peripheries": "2"},
}
_MEMORY_NOTES = {
    "rebuilt": "green border: input rebuilt by the inverse in training (memory option)",
    "checkpointed": "double orange border: recomputed in training (memory: checkpoint)",
}


def _mark_memory(dot: graphviz.Digraph, graph: FlowGraph, drawing: Plan) -> tuple[str, ...]:
    """Under ``train: {memory: invertible | checkpoint}``, border each box by what training
    keeps of it (:func:`flowspec.graph.memory.memory_plan`); the treatments drawn."""
    train = graph.header.train
    if train is None or train.memory == "stored":
        return ()
    treatment = {
        node: segment.treatment
        for segment in memory_plan(graph, train.memory)
        for node in segment.nodes
    }
    drawn = []
    for box in drawing.boxes.values():
        kinds = {treatment.get(node.id) for node in box.nodes}
        if len(kinds) == 1 and (kind := kinds.pop()) in _MEMORY_MARKS:
            dot.node(box.name, **_MEMORY_MARKS[kind])
            drawn.append(kind)
    return tuple(sorted(set(drawn), reverse=True))


def render(
    graph: FlowGraph, output: str | Path, expand: bool = False, shading: Shading | None = None
) -> RenderResult:
    """Draw ``graph`` to ``output`` (.svg, .png, .pdf, or .gv/.dot for DOT source); block
    uses are drawn once with ``× N`` unless ``expand``; ``shading`` fills nodes by their
    term of log p(x).

    When Graphviz's ``dot`` program is missing, the DOT source is written next to
    ``output`` (same stem, ``.gv``) and the result says how to install Graphviz.
    """
    output = Path(output)
    suffix = output.suffix.lower()
    if suffix not in FORMATS:
        raise ValueError(
            f"cannot draw to '{output}': the suffix must be one of {', '.join(FORMATS)}"
        )
    dot = to_dot(graph, expand, shading)
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
