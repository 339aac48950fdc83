"""Expand block uses into chains of nodes and resolve every ``in`` and ``context`` reference.

A block use ``body: {block: step, repeat: 8, in: x}`` becomes nodes ``body_0_0``,
``body_0_1``, ..., ``body_7_1`` (use, repetition, position in the block), chained in
order; a reference to ``body`` means the output of its last node. Each repetition takes
the element's settings through ``NodeSpec.for_repetition`` (seeded kinds differ per
repetition).

A block may use other blocks (a scale of Glow is a squeeze followed by a block of steps):
an element ``{block: step, repeat: 4}`` at position ``i`` of repetition ``r`` of use
``body`` is itself a use named ``body_r_i``, whose nodes are ``body_r_i_<r2>_<i2>`` and
form their own group (drawn as a cluster inside the outer use's cluster; every node
records its levels of uses as :class:`~flowspec.graph.model.Scope`). Validation has already rejected
recursion (:mod:`flowspec.spec.validate`, E658).
"""

from __future__ import annotations

import difflib
import math

from flowspec.core.node import NodeSpec
from flowspec.core.ports import PortInfo, Support
from flowspec.diagnostics import Reporter, SpecPath, did_you_mean
from flowspec.graph.digraph import Digraph
from flowspec.graph.model import FlowGraph, GraphNode, PortRef, Scope
from flowspec.spec.document import BlockUse, Header, InputSpec, NestedBlockUse
from flowspec.spec.validate import SpecModel, referenced_names

__all__ = ["build_graph", "input_port_info", "MAX_GRAPH_NODES"]

MAX_GRAPH_NODES = 10_000
"""Most nodes a spec may expand to (block uses multiply their chains by ``repeat``)."""


def input_port_info(spec: InputSpec) -> PortInfo:
    """What the compiler knows about the values of a spec input."""
    if spec.levels is not None:
        support = Support(0, spec.levels - 1, levels=spec.levels)
    else:
        low = -math.inf if spec.low is None else spec.low
        high = math.inf if spec.high is None else spec.high
        closed = spec.bounds == "closed"
        support = Support(low, high, closed_low=closed, closed_high=closed)
    return PortInfo(tuple(spec.shape), support)


class _Builder:
    def __init__(self, spec: SpecModel, reporter: Reporter) -> None:
        self.spec = spec
        self.reporter = reporter
        self.nodes: dict[str, GraphNode] = {}
        #: Block use name -> id of its last node.
        self.block_outputs: dict[str, str] = {}
        #: Block use name -> ids of every node it expands to (nested uses included).
        self.use_nodes: dict[str, list[str]] = {}
        self.broken = set(spec.broken)
        self.loose = set(spec.loose)

    def expand(self) -> None:
        for name, input_spec in self.spec.inputs.items():
            node = GraphNode(name, ("inputs", name), input_spec=input_spec)
            node.output_info = (input_port_info(input_spec),)
            self.nodes[name] = node
        for name, entry in self.spec.nodes.items():
            if isinstance(entry, BlockUse):
                self._expand_block(name, entry)
            else:
                self.nodes[name] = GraphNode(name, ("nodes", name), spec=entry)

    def _drop(self, name: str, use: BlockUse) -> None:
        """Leave a block use out of the graph; references to it are not reported."""
        self.broken.add(name)
        self.loose |= referenced_names(use)

    def _complete(self, block: str) -> bool:
        """Whether ``block`` and every block it uses validated (a chain missing a node
        would only produce misleading shape errors where it is used)."""
        chain = self.spec.blocks.get(block, [])
        return bool(chain) and all(
            self._complete(e.block) for e in chain if isinstance(e, NestedBlockUse)
        )

    def _size(self, block: str) -> int:
        """How many nodes one repetition of ``block`` expands to."""
        return sum(
            e.repeat * self._size(e.block) if isinstance(e, NestedBlockUse) else 1
            for e in self.spec.blocks[block]
        )

    def _elements(
        self, name: str, block: str, repeat: int, first: int = 0, outer: tuple[Scope, ...] = ()
    ) -> list[tuple[str, NodeSpec, SpecPath, tuple[Scope, ...]]]:
        """``(id, settings, path, scopes)`` of every node a use named ``name`` of ``block``
        expands to, in chain order; ``first`` numbers its repetitions for
        ``for_repetition`` (a nested use counts on from its outer repetition), ``outer``
        are the levels of uses around this one."""
        found = []
        for repetition in range(repeat):
            for index, element in enumerate(self.spec.blocks[block]):
                node_id = f"{name}_{repetition}_{index}"
                scopes = (*outer, Scope(name, block, repetition, index))
                if isinstance(element, NestedBlockUse):
                    start = (first + repetition) * element.repeat
                    found += self._elements(node_id, element.block, element.repeat, start, scopes)
                else:
                    spec = element.for_repetition(first + repetition)
                    found.append((node_id, spec, ("blocks", block, index), scopes))
        return found

    def _expand_block(self, name: str, use: BlockUse) -> None:
        if not self._complete(use.block):
            self._drop(name, use)
            return
        size = use.repeat * self._size(use.block)
        if len(self.nodes) + size > MAX_GRAPH_NODES:
            self.reporter.error(
                "E214",
                f"block use '{name}' expands to {size} nodes ({use.repeat} x "
                f"{size // use.repeat}): a graph may have at most {MAX_GRAPH_NODES} nodes",
                ("nodes", name, "repeat"),
                node=name,
                hint="use fewer repetitions",
            )
            self._drop(name, use)
            return
        elements = self._elements(name, use.block, use.repeat)
        ids = [element[0] for element in elements]
        taken = [i for i in ids if i in self.nodes or i in self.spec.nodes or i in self.spec.inputs]
        if taken:
            what = "an input" if taken[0] in self.spec.inputs else "a node"
            self.reporter.error(
                "E210",
                f"block use '{name}' expands to node id '{taken[0]}', which is already "
                f"the id of {what}",
                ("nodes", name),
                node=name,
                hint=f"rename '{taken[0]}' or the block use '{name}' (its nodes are named "
                f"{name}_<repetition>_<position>)",
            )
            self._drop(name, use)
            return
        last: PortRef | None = None
        for node_id, spec, path, scopes in elements:
            if use.context is not None and spec.accepts_context:
                spec = spec.model_copy(update={"context": use.context})
            node = GraphNode(
                node_id,
                path,
                spec=spec,
                group=scopes[-1].group,
                repetition=scopes[-1].repetition,
                use=name,
                scopes=scopes,
            )
            node.inputs = [last] if last else []
            self.nodes[node_id] = node
            last = PortRef(node_id, spec.output_ports()[0])
        assert last is not None, "a block holds at least one node (E103 otherwise)"
        self.block_outputs[name] = last.node
        self.use_nodes[name] = ids

    def wire(self) -> None:
        for name, entry in self.spec.nodes.items():
            if name in self.broken:
                continue
            if isinstance(entry, BlockUse):
                self._wire_block(name, entry)
                continue
            node = self.nodes[name]
            refs = self._refs(entry.in_, ("nodes", name, "in"), name) if entry.in_ else []
            node.inputs = refs
            node.context = self._context(entry.context, ("nodes", name, "context"), name)
            self._check_arity(node, entry)

    def _reads_unknown(self) -> None:
        """A node whose inputs are not given may have meant any output: none is known to
        be unused."""
        self.loose |= set(self.nodes) | set(self.block_outputs)

    def _wire_block(self, name: str, use: BlockUse) -> None:
        path: SpecPath = ("nodes", name, "in")
        if isinstance(use.in_, list) and len(use.in_) != 1:
            self.reporter.error(
                "E212",
                f"a block use takes exactly 1 input ('in'), got {len(use.in_)}",
                path,
                node=name,
                hint="a block is a chain: give the one port its first node reads",
            )
            self._reads_unknown()
        else:
            self.nodes[self.use_nodes[name][0]].inputs = self._refs(use.in_, path, name)
        context = self._context(use.context, ("nodes", name, "context"), name)
        members = [self.nodes[node_id] for node_id in self.use_nodes[name]]
        if use.context is not None and not any(n.node_spec.accepts_context for n in members):
            kinds = ", ".join(dict.fromkeys(n.node_spec.kind for n in members))
            self.reporter.error(
                "E213",
                f"block '{use.block}' has no node that takes a context ({kinds}), so the "
                "context of this block use would be ignored",
                ("nodes", name, "context"),
                node=name,
                hint="remove 'context', or add a node that takes one (e.g. a coupling) "
                "to the block",
            )
            self.loose.add(use.context.split(".")[0])  # said once, here
        for node in members:
            if node.node_spec.accepts_context:
                node.context = context

    def _check_arity(self, node: GraphNode, spec: NodeSpec) -> None:
        expected = spec.input_ports()
        if not spec.in_:
            what = "missing 'in'" if spec.in_ is None else "'in' is empty"
            self.reporter.error(
                "E211",
                f"{what}: where the input of '{spec.kind}' comes from",
                node.path + (() if spec.in_ is None else ("in",)),
                node=node.id,
            )
            self._reads_unknown()
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
        return [
            self._resolve(item, path + ((i,) if many else ()), node) for i, item in enumerate(items)
        ]

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
            # The name the user probably meant: its outputs may well be used after all.
            self.loose.update(difflib.get_close_matches(name, candidates, n=1, cutoff=0.6))
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
            self.loose.add(target.id)
            self.reporter.error(
                "E202",
                f"'{name}' has {len(ports)} outputs ({', '.join(ports)}): say which one",
                path,
                node=node,
                hint=f"e.g. '{name}.{ports[0]}'",
            )
            return None
        if target.is_input:
            self.loose.add(target.id)
            self.reporter.error(
                "E202",
                f"'{name}' is an input: it has one value and no ports, got '{text}'",
                path,
                node=node,
                hint=f"write '{name}'",
            )
            return None
        if port not in ports:
            self.loose.add(target.id)
            self.reporter.error(
                "E202",
                f"'{name}' has no output port '{port}'; its outputs: {', '.join(ports)}",
                path,
                node=node,
                hint=did_you_mean(port, ports),
            )
            return None
        return PortRef(target.id, port)

    def edges(self) -> Digraph:
        graph = Digraph(self.nodes)
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
    if spec.complete:
        builder.wire()
    return FlowGraph(
        header,
        file,
        builder.nodes,
        builder.edges(),
        broken=builder.broken,
        loose=builder.loose,
        complete=spec.complete,
    )
