"""What a drawing holds before it is drawn: boxes, block-use clusters and wires.

By default a block used with ``repeat: N`` is folded: its chain is drawn once, each box
standing for the same position in every repetition, inside one cluster labelled ``× N``;
the wires between repetitions are left out and wires to and from the block use meet the
folded boxes. Unrolled (``expand=True``), every repetition is its own sub-cluster.

A block that uses another block (a scale of Glow: a squeeze, then a block of steps) is a
cluster inside its parent's cluster, at its place in the parent's chain, to any depth.
Folded, the nested uses of every repetition of the parent are one cluster; unrolled,
each repetition of the parent holds its own nested use.

DOT names are the node ids when those are plain identifiers and ``_<n>`` otherwise, so
nothing a user writes ever has to survive DOT quoting as a name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from flowspec.graph.model import FlowGraph, GraphNode, Scope

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
    """A block use: its repetitions (one row each, a single row when folded), each row
    holding boxes and nested block uses in chain order. ``groups`` are the uses it draws
    (folded, a nested use of every repetition of its parent); ``group`` is the first."""

    group: str
    block: str
    repeat: int
    rows: list[list[Box | Cluster]] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)

    def row(self, index: int) -> list[Box | Cluster]:
        """Row ``index``, made (with any before it) when missing."""
        while len(self.rows) <= index:
            self.rows.append([])
        return self.rows[index]

    def walk(self) -> Iterator[Cluster]:
        """This cluster and every cluster nested in it."""
        yield self
        for row in self.rows:
            for item in row:
                if isinstance(item, Cluster):
                    yield from item.walk()


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
    #: The outermost clusters (block uses under 'nodes'); nested ones are inside them.
    clusters: list[Cluster]
    wires: list[Wire]

    def every_cluster(self) -> Iterator[Cluster]:
        for cluster in self.clusters:
            yield from cluster.walk()


def _scopes(node: GraphNode) -> tuple[Scope, ...]:
    """The levels of block uses around ``node`` (one level for a node that only knows its
    group, e.g. one made by a later pass)."""
    if node.scopes or node.group is None:
        return node.scopes
    block = str(node.path[1]) if node.path[:1] == ("blocks",) else str(node.group)
    index = node.path[-1] if node.path and isinstance(node.path[-1], int) else 0
    return (Scope(node.group, block, node.repetition or 0, index),)


def _across_repetitions(first: GraphNode, second: GraphNode) -> bool:
    """Whether an edge joins two repetitions of one block use (at any level)."""
    for one, other in zip(_scopes(first), _scopes(second), strict=False):
        if one.group != other.group:
            return False
        if one.repetition != other.repetition:
            return True
    return False


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
    clusters: dict[object, Cluster] = {}
    outermost: list[Cluster] = []
    folded: dict[object, Box] = {}

    def new_box(node: GraphNode) -> Box:
        plain = PLAIN.fullmatch(node.id)
        name = node.id if plain else f"_{len(boxes)}"
        while name in boxes or (name != node.id and name in ids):
            name = f"_{name}"
        boxes[name] = box = Box(name)
        return box

    def place(scopes: tuple[Scope, ...]) -> list[Box | Cluster]:
        """The row a node with these levels of uses is drawn in, making its clusters."""
        parent: Cluster | None = None
        for depth, scope in enumerate(scopes):
            # Folded, the nested uses of every repetition of the parent are one cluster.
            key = scope.group if expand else (scopes[0].group, *(s.index for s in scopes[:depth]))
            cluster = clusters.get(key)
            if cluster is None:
                cluster = clusters[key] = Cluster(scope.group, scope.block, 0)
                if parent is None:
                    outermost.append(cluster)
                else:
                    parent.row(scopes[depth - 1].repetition if expand else 0).append(cluster)
            if scope.group not in cluster.groups:
                cluster.groups.append(scope.group)
            cluster.repeat = max(cluster.repeat, scope.repetition + 1)
            parent = cluster
        assert parent is not None, "only nodes inside block uses are placed in clusters"
        return parent.row(scopes[-1].repetition if expand else 0)

    for node_id in order:
        node = graph.nodes[node_id]
        scopes = _scopes(node)
        if not scopes:
            box = new_box(node)
            loose.append(box)
        else:
            row = place(scopes)
            # Folded, a box stands for one position at every level, in every repetition.
            key = node.id if expand else (scopes[0].group, *(s.index for s in scopes))
            if key not in folded:
                folded[key] = new_box(node)
                row.append(folded[key])
            box = folded[key]
        box.nodes.append(node)
        box_of[node_id] = box

    wires: dict[Wire, None] = {}
    for source, target, data in graph.edges.edges(data=True):
        if not expand and _across_repetitions(graph.nodes[source], graph.nodes[target]):
            continue
        wire = Wire(
            box_of[source].name,
            box_of[target].name,
            data["port"],
            data.get("slot", 0),
            data["kind"] == "context",
        )
        wires[wire] = None
    return Plan(boxes, loose, outermost, list(wires))
