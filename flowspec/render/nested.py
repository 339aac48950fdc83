"""Flows nested in a node's density parts, drawn as nodes beside it.

A ``flow`` density (an encoder, dequantizer or decoder: a conditional Gaussian pushed
through bijective layers; Rezende and Mohamed 2015, arXiv:1505.05770) is a small flow of
its own. It is drawn as a cluster beside the node that holds it: its Gaussian base, then
its layers in generation order (each with its settings, as top-level nodes show them),
marked ``× R`` when the layers repeat, with a dotted edge into the host node named by the
field (``encoder``), and a dashed edge from the base to each layer conditioned on the
context (labelled ``h`` when the layers see the base network's hidden features). The host's box then names the part in a few words instead of listing
the layers.
"""

from __future__ import annotations

from typing import Any

import graphviz

from flowspec.core.node import NodeSpec
from flowspec.render.settings import is_flow_density, settings, value_text
from flowspec.render.text import BREAK, html_text

__all__ = ["nested_flows", "add_nested_flows"]

_SMALL = '<FONT POINT-SIZE="9">{}</FONT>'
_FILL = "#dde9f2"  # a lighter tone of the bijective category's fill


def nested_flows(spec: NodeSpec) -> list[tuple[str, Any]]:
    """The node's fields that hold a flow density (``flowspec.densities.flow``), by name."""
    fields = type(spec).model_fields
    return [(name, getattr(spec, name)) for name in fields if is_flow_density(getattr(spec, name))]


def _label(kind: str, rows: list[tuple[str, str]]) -> str:
    lines = [f"<I>{html_text(kind)}</I>"]
    lines += [_SMALL.format(html_text(f"{key}: {value}")) for key, value in rows]
    return "<" + BREAK.join(lines) + ">"


def _reads_context(layer: NodeSpec) -> bool:
    """Whether a layer of a flow density is conditioned on its context: kinds that take
    one, except amortized maps without a ``net`` (their parameters stay global)."""
    return type(layer).accepts_context and getattr(layer, "net", True) is not None


def add_nested_flows(graph: graphviz.Digraph, host: str, spec: NodeSpec) -> None:
    """A cluster per flow density of ``spec`` (drawn as box ``host``), wired into it."""
    for field, flow in nested_flows(spec):
        layers: list[NodeSpec] = flow.chain(None) or []
        name = f"{host}__{field}"
        times = f" × {flow.repeat}" if flow.repeat > 1 else ""
        with graph.subgraph(name=f"cluster_{name}") as cluster:
            cluster.attr(
                label=f"<{html_text(f'{field}: flow, layers{times}')}>",
                style="rounded,dotted",
                color="#777777",
                fontsize="10",
            )
            base = f"{name}__base"
            net = [("net", value_text(flow.net))]
            if flow.layer_context == "hidden":
                net.append(("h", "its last hidden layer, to the layers"))
            cluster.node(
                base, _label("gaussian base", net), fillcolor=_FILL, style="rounded,filled"
            )
            previous = base
            for index, layer in enumerate(layers[: len(flow.layers)]):
                box = f"{name}__{index}"
                cluster.node(
                    box,
                    _label(layer.kind, settings(layer, None)),
                    fillcolor=_FILL,
                    style="rounded,filled",
                )
                cluster.edge(previous, box)
                if _reads_context(layer):
                    given = "h" if flow.layer_context == "hidden" else "context"
                    cluster.edge(base, box, style="dashed", label=f"<{_SMALL.format(given)}>")
                previous = box
        graph.edge(previous, host, style="dotted", label=f"<{html_text(field)}>")
