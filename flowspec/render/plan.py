"""What a drawing holds before it is drawn: boxes, block-use clusters and wires.

By default a block used with ``repeat: N`` is folded: its chain is drawn once, each box
standing for the same position in every repetition, inside one cluster labelled ``× N``;
the wires between repetitions are left out and wires to and from the block use meet the
folded boxes. Unrolled (``expand=True``), every repetition is its own sub-cluster.

DOT names are the node ids when those are plain identifiers and ``_<n>`` otherwise, so
nothing a user writes ever has to survive DOT quoting as a name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from flowspec.graph.model import FlowGraph, GraphNode

__all__ = ["PLAIN", "Box", "Cluster", "Wire", "Plan", "plan"]

#: Ids used as DOT names as they are.
PLAIN = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


@dataclass
class Box:
    """One drawn node: a graph node, or the same block position in every repetition."""

    name: str
    nodes: list[GraphNode] = field(default_factory=list)

    @property
    def first(self) -> GraphNode:
        return self.nodes[0]


@dataclass
class Cluster:
    """A block use: its repetitions (one row of boxes each, a single row when folded)."""

    group: str
    block: str
    repeat: int
    rows: list[list[Box]] = field(default_factory=list)


@dataclass(frozen=True)
class Wire:
    """A drawn edge from ``source``'s ``port`` to ``target``'s input ``slot``."""

    source: str
    target: str
    port: str
    slot: int
    context: bool


@dataclass
class Plan:
    boxes: dict[str, Box]
    loose: list[Box]
    clusters: list[Cluster]
    wires: list[Wire]


def _block_name(node: GraphNode) -> str:
    """The block a grouped node was expanded from (its path is ``blocks.<name>.<index>``)."""
    return str(node.path[1]) if node.path[:1] == ("blocks",) else str(node.group)


def _position(node: GraphNode) -> object:
    """Where ``node`` sits in its block's chain (the same in every repetition)."""
    return node.path[-1] if node.path else node.id


def plan(graph: FlowGraph, expand: bool = False) -> Plan:
    """The boxes, clusters and wires that draw ``graph`` (block uses folded unless
    ``expand``)."""
    order = list(graph.inference_order) or list(graph.nodes)
    ordered = set(order)
    order += [node_id for node_id in graph.nodes if node_id not in ordered]
    ids = set(graph.nodes)
    boxes: dict[str, Box] = {}
    box_of: dict[str, Box] = {}
    loose: list[Box] = []
    clusters: dict[str, Cluster] = {}
    folded: dict[tuple[str, object], Box] = {}

    def new_box(node: GraphNode) -> Box:
        plain = PLAIN.fullmatch(node.id)
        name = node.id if plain else f"_{len(boxes)}"
        while name in boxes or (name != node.id and name in ids):
            name = f"_{name}"
        boxes[name] = box = Box(name)
        return box

    for node_id in order:
        node = graph.nodes[node_id]
        if node.group is None:
            box = new_box(node)
            loose.append(box)
        else:
            cluster = clusters.get(node.group)
            if cluster is None:
                cluster = clusters[node.group] = Cluster(node.group, _block_name(node), 0)
            cluster.repeat = max(cluster.repeat, (node.repetition or 0) + 1)
            key = (node.group, _position(node))
            if expand or key not in folded:
                box = new_box(node)
                folded[key] = box
                row = (node.repetition or 0) if expand else 0
                while len(cluster.rows) <= row:
                    cluster.rows.append([])
                cluster.rows[row].append(box)
            box = folded[key]
        box.nodes.append(node)
        box_of[node_id] = box

    wires: dict[Wire, None] = {}
    for source, target, data in graph.edges.edges(data=True):
        first, second = graph.nodes[source], graph.nodes[target]
        same_use = first.group is not None and first.group == second.group
        if not expand and same_use and first.repetition != second.repetition:
            continue
        wire = Wire(
            box_of[source].name,
            box_of[target].name,
            data["port"],
            data.get("slot", 0),
            data["kind"] == "context",
        )
        wires[wire] = None
    return Plan(boxes, loose, list(clusters.values()), list(wires))
