"""Expand block uses into chains of nodes and resolve every ``in`` and ``context`` reference.

A block use ``body: {block: step, repeat: 8, in: x}`` becomes nodes ``body_0_0``,
``body_0_1``, ..., ``body_7_1`` (use, repetition, position in the block), chained in
order; a reference to ``body`` means the output of its last node.
"""

from __future__ import annotations

import math

import networkx as nx

from flowspec.core.node import NodeSpec
from flowspec.core.ports import PortInfo, Support
from flowspec.diagnostics import Reporter, SpecPath, did_you_mean
from flowspec.graph.model import INPUT_PORT, FlowGraph, GraphNode, PortRef
from flowspec.spec.document import BlockUse, Header, InputSpec
from flowspec.spec.validate import SpecModel

__all__ = ["build_graph", "input_port_info"]


def input_port_info(spec: InputSpec) -> PortInfo:
    """What the compiler knows about the values of a spec input."""
    if spec.levels is not None:
        support = Support(0, spec.levels - 1, levels=spec.levels)
    else:
        low = -math.inf if spec.low is None else spec.low
        high = math.inf if spec.high is None else spec.high
        support = Support(low, high)
    return PortInfo(tuple(spec.shape), support)


class _Builder:
    def __init__(self, spec: SpecModel, reporter: Reporter):
        self.spec = spec
        self.reporter = reporter
        self.nodes: dict[str, GraphNode] = {}
        #: Block use name -> id of its last node.
        self.block_outputs: dict[str, str] = {}
        self.broken = set(spec.broken)

    def expand(self) -> None:
        for name, input_spec in self.spec.inputs.items():
            node = GraphNode(name, ("inputs", name), input_spec=input_spec)
            node.output_info = (input_port_info(input_spec),)
            self.nodes[name] = node
        for name, entry in self.spec.nodes.items():
            if isinstance(entry, BlockUse):
                self._expand_block(name, entry)
            else:
                self._add(GraphNode(name, ("nodes", name), spec=entry))

    def _add(self, node: GraphNode) -> None:
        if node.id in self.nodes:
            self.reporter.error(
                "E210",
                f"node id '{node.id}' is used twice (a block expansion produces this id)",
                node.path,
                node=node.id,
                hint="rename the node or the block use",
            )
            return
        self.nodes[node.id] = node

    def _expand_block(self, name: str, use: BlockUse) -> None:
        chain = self.spec.blocks.get(use.block, [])
        if not chain:
            self.broken.add(name)
            return
        last: PortRef | None = None
        for repetition in range(use.repeat):
            for index, spec in enumerate(chain):
                node_id = f"{name}_{repetition}_{index}"
                path: SpecPath = ("blocks", use.block, index)
                if use.context is not None and spec.accepts_context:
                    spec = spec.model_copy(update={"context": use.context})
                node = GraphNode(node_id, path, spec=spec, group=name, repetition=repetition)
                node.inputs = [last] if last else []
                self._add(node)
                last = PortRef(node_id, spec.output_ports()[0])
        self.block_outputs[name] = last.node

    def wire(self) -> None:
        for name, entry in self.spec.nodes.items():
            if isinstance(entry, BlockUse):
                if name not in self.broken:
                    first = self.nodes[f"{name}_0_0"]
                    first.inputs = self._refs(entry.in_, ("nodes", name, "in"), name)[:1]
                    context = self._context(entry.context, ("nodes", name, "context"), name)
                    for node in self.nodes.values():
                        if node.group == name and node.spec.accepts_context:
                            node.context = context
                continue
            node = self.nodes[name]
            refs = [] if entry.in_ is None else self._refs(entry.in_, ("nodes", name, "in"), name)
            node.inputs = refs
            node.context = self._context(entry.context, ("nodes", name, "context"), name)
            self._check_arity(node, entry)

    def _check_arity(self, node: GraphNode, spec: NodeSpec) -> None:
        expected = spec.input_ports()
        if spec.in_ is None:
            self.reporter.error(
                "E211", f"missing 'in': where the input of '{spec.kind}' comes from",
                node.path, node=node.id,
            )
        elif len(node.inputs) != len(expected):
            self.reporter.error(
                "E212",
                f"'{spec.kind}' takes {len(expected)} input(s) ({', '.join(expected)}), "
                f"got {len(node.inputs)}",
                node.path + ("in",),
                node=node.id,
            )
        if spec.context is not None and not spec.accepts_context:
            self.reporter.error(
                "E213",
                f"'{spec.kind}' does not take a context",
                node.path + ("context",),
                node=node.id,
                hint="remove 'context', or condition a node kind that accepts one",
            )

    def _refs(self, value: str | list[str], path: SpecPath, node: str) -> list[PortRef | None]:
        items = [value] if isinstance(value, str) else value
        many = not isinstance(value, str)
        return [self._resolve(item, path + ((i,) if many else ()), node) for i, item in enumerate(items)]

    def _context(self, value: str | None, path: SpecPath, node: str) -> PortRef | None:
        return None if value is None else self._resolve(value, path, node)

    def _resolve(self, text: str, path: SpecPath, node: str) -> PortRef | None:
        name, _, port = text.partition(".")
        if name in self.broken:
            return None
        if name in self.block_outputs:
            name = self.block_outputs[name]
        target = self.nodes.get(name)
        if target is None:
            candidates = list(self.nodes) + list(self.block_outputs)
            self.reporter.error(
                "E201",
                f"unknown reference '{text}': no input or node named '{name}'",
                path,
                node=node,
                hint=did_you_mean(name, candidates),
            )
            return None
        ports = target.output_ports
        if target.spec is not None and target.spec.terminal:
            self.reporter.error(
                "E201", f"'{name}' is a distribution: it has no output to use", path, node=node
            )
            return None
        if not port:
            if len(ports) == 1:
                return PortRef(target.id, ports[0])
            self.reporter.error(
                "E202",
                f"'{name}' has {len(ports)} outputs ({', '.join(ports)}): say which one",
                path,
                node=node,
                hint=f"e.g. '{name}.{ports[0]}'",
            )
            return None
        if target.is_input or port not in ports:
            self.reporter.error(
                "E202",
                f"'{name}' has no output port '{port}'",
                path,
                node=node,
                hint=did_you_mean(port, ports) or f"its outputs: {', '.join(ports)}",
            )
            return None
        return PortRef(target.id, port)

    def edges(self) -> nx.MultiDiGraph:
        graph = nx.MultiDiGraph()
        graph.add_nodes_from(self.nodes)
        for node in self.nodes.values():
            for index, ref in enumerate(node.inputs):
                if ref is not None:
                    graph.add_edge(ref.node, node.id, kind="data", port=ref.port, slot=index)
            if node.context is not None:
                graph.add_edge(node.context.node, node.id, kind="context", port=node.context.port)
        return graph


def build_graph(spec: SpecModel, header: Header, file: str, reporter: Reporter) -> FlowGraph:
    """Expand blocks and wire references; problems go to ``reporter``."""
    builder = _Builder(spec, reporter)
    builder.expand()
    builder.wire()
    return FlowGraph(header, file, builder.nodes, builder.edges(), broken=builder.broken)
