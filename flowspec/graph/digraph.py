"""A small directed multigraph with the two algorithms the compiler needs.

flowspec's graphs are wiring diagrams: nodes (ids) in spec order, edges that carry a data dict
(``kind``, ``port``, ``slot``). The methods keep networkx's names and shapes
(``edges(data=True)``, ``out_edges(node, data=True)``, ``in_edges``) so code reads the same,
but importing this module costs nothing, where networkx takes a tenth of a second and
more: ``flowspec validate`` is meant to answer at once. Both algorithms are linear in the
size of the graph.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Iterator
from typing import Any

__all__ = ["Digraph", "CycleError", "topological_order", "find_cycle"]

Edge = tuple[str, str, dict[str, Any]]


class CycleError(Exception):
    """The graph has a cycle; ``cycle`` lists its nodes in order (the first not repeated)."""

    def __init__(self, cycle: list[str]) -> None:
        super().__init__(" -> ".join(map(str, [*cycle, cycle[0]])))
        self.cycle = cycle


class Digraph:
    """Nodes in insertion order; parallel edges allowed, each with its own data dict."""

    def __init__(self, nodes: Iterable[str] = ()) -> None:
        self._out: dict[str, list[Edge]] = {}
        self._in: dict[str, list[Edge]] = {}
        for node in nodes:
            self.add_node(node)

    def add_node(self, node: str) -> None:
        if node not in self._out:
            self._out[node] = []
            self._in[node] = []

    def add_edge(self, source: str, target: str, **data: Any) -> None:
        self.add_node(source)
        self.add_node(target)
        edge = (source, target, data)
        self._out[source].append(edge)
        self._in[target].append(edge)

    @property
    def nodes(self) -> list[str]:
        return list(self._out)

    def __contains__(self, node: object) -> bool:
        return node in self._out

    def __len__(self) -> int:
        return len(self._out)

    def out_edges(self, node: str, data: bool = False) -> Iterator[Any]:
        for source, target, attributes in self._out.get(node, ()):
            yield (source, target, attributes) if data else (source, target)

    def in_edges(self, node: str, data: bool = False) -> Iterator[Any]:
        for source, target, attributes in self._in.get(node, ()):
            yield (source, target, attributes) if data else (source, target)

    def edges(self, data: bool = False) -> Iterator[Any]:
        for node in self._out:
            yield from self.out_edges(node, data=data)

    def successors(self, node: str) -> list[str]:
        return list(dict.fromkeys(target for _, target, _ in self._out.get(node, ())))

    def predecessors(self, node: str) -> list[str]:
        return list(dict.fromkeys(source for source, _, _ in self._in.get(node, ())))


def find_cycle(graph: Digraph) -> list[str] | None:
    """The nodes of one cycle in order (a self-loop is a cycle of one), or None."""
    state: dict[str, int] = {}  # 1: on the current path, 2: finished
    for root in graph.nodes:
        if root in state:
            continue
        path = [root]
        state[root] = 1
        stack = [iter(graph.successors(root))]
        while stack:
            child = next(stack[-1], None)
            if child is None:
                stack.pop()
                state[path.pop()] = 2
            elif state.get(child) == 1:
                return path[path.index(child) :]
            elif child not in state:
                state[child] = 1
                path.append(child)
                stack.append(iter(graph.successors(child)))
    return None


def topological_order(graph: Digraph, key: Callable[[Any], Any]) -> list[str]:
    """Every node after all its predecessors; among the nodes ready at each step, the one
    with the smallest ``key`` first (so the order is deterministic). Raises
    :class:`CycleError` when there is no such order."""
    waiting = {node: len(graph.predecessors(node)) for node in graph.nodes}
    ready = [
        (key(node), index, node) for index, node in enumerate(graph.nodes) if not waiting[node]
    ]
    heapq.heapify(ready)
    index = {node: i for i, node in enumerate(graph.nodes)}
    order = []
    while ready:
        _, _, node = heapq.heappop(ready)
        order.append(node)
        for child in graph.successors(node):
            waiting[child] -= 1
            if not waiting[child]:
                heapq.heappush(ready, (key(child), index[child], child))
    if len(order) != len(graph):
        cycle = find_cycle(graph)
        assert cycle is not None
        raise CycleError(cycle)
    return order
