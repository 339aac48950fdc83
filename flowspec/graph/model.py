"""The graph the compiler works on: one :class:`GraphNode` per node after block expansion."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from flowspec.core.node import NodeSpec, Unnormalized
from flowspec.core.ports import PortInfo
from flowspec.core.properties import Cost, Costs, Likelihood
from flowspec.diagnostics import SpecPath
from flowspec.graph.digraph import Digraph
from flowspec.spec.document import Header, InputSpec

if TYPE_CHECKING:
    import networkx

__all__ = ["PortRef", "GraphNode", "FlowGraph", "INPUT_PORT", "Scope"]

#: The single output port of a spec input.
INPUT_PORT = "value"


@dataclass(frozen=True)
class PortRef:
    """One output port of one node: the source of an edge."""

    node: str
    port: str

    def __str__(self) -> str:
        return self.node if self.port == INPUT_PORT else f"{self.node}.{self.port}"


@dataclass(frozen=True)
class Scope:
    """One level of the block uses a node was expanded from: repetition ``repetition`` of
    use ``group`` of block ``block``, at position ``index`` of that block's chain (the node
    itself, or the nested block use it lies in)."""

    group: str
    block: str
    repetition: int
    index: int


@dataclass
class GraphNode:
    """A node of the expanded graph (a spec input is a node with ``spec`` None)."""

    id: str
    path: SpecPath
    spec: NodeSpec | None = None
    input_spec: InputSpec | None = None
    inputs: list[PortRef | None] = field(default_factory=list)
    context: PortRef | None = None
    #: The block use this node was expanded from (the innermost one, for a block used
    #: inside a block), and which repetition of it.
    group: str | None = None
    repetition: int | None = None
    #: The block use under 'nodes' this node was expanded from (its group, unless nested).
    use: str | None = None
    #: Every block use level around this node, outermost (``use``) first, innermost
    #: (``group``, ``repetition``) last; empty outside block uses.
    scopes: tuple[Scope, ...] = ()
    input_info: tuple[PortInfo, ...] | None = None
    context_info: PortInfo | None = None
    output_info: tuple[PortInfo, ...] | None = None
    #: The node's densities that receive values not filling their support (W501, W800):
    #: the model's total mass is then below 1, so log_prob is a lower bound on the
    #: log-likelihood of the normalized model, never the exact one.
    unnormalized: list[Unnormalized] = field(default_factory=list)

    @property
    def is_input(self) -> bool:
        return self.spec is None

    @property
    def node_spec(self) -> NodeSpec:
        """The spec of a node that is not an input."""
        assert self.spec is not None, f"'{self.id}' is an input, not a node"
        return self.spec

    @property
    def input_refs(self) -> list[PortRef]:
        """Where the node's inputs come from, every reference resolved (after the checks)."""
        refs = [ref for ref in self.inputs if ref is not None]
        assert len(refs) == len(self.inputs), f"'{self.id}' has an unresolved input"
        return refs

    @property
    def known_outputs(self) -> tuple[PortInfo, ...]:
        """What flows out of the node (or input), once the shape pass has inferred it."""
        assert self.output_info is not None, f"'{self.id}' has no inferred outputs"
        return self.output_info

    @property
    def known_inputs(self) -> tuple[PortInfo, ...]:
        """What flows into the node, once the shape pass has inferred it."""
        assert self.input_info is not None, f"'{self.id}' has no inferred inputs"
        return self.input_info

    @property
    def is_context_input(self) -> bool:
        return self.input_spec is not None and self.input_spec.context

    @property
    def output_ports(self) -> tuple[str, ...]:
        return (INPUT_PORT,) if self.spec is None else self.spec.output_ports()

    @property
    def kind(self) -> str:
        return "input" if self.spec is None else self.spec.kind

    def parameter_count(self) -> int:
        """The learned parameters the node's module will have (its kind's formula, no
        torch), once the shape pass has inferred its inputs; 0 for inputs."""
        if self.spec is None:
            return 0
        return self.spec.parameter_count(self.known_inputs, self.context_info)


@dataclass
class FlowGraph:
    """The expanded, wired graph and, once the passes ran, its orders and port infos
    (what ``log_prob`` is: :func:`flowspec.graph.verdict.verdict`)."""

    header: Header
    file: str
    nodes: dict[str, GraphNode]
    #: Data and context edges, source node -> consumer node, with port attributes.
    edges: Digraph
    #: Names that failed validation; references to them are not reported again.
    broken: set[str] = field(default_factory=set)
    #: Names a dropped entry or a failed reference points to; their unused outputs are
    #: not reported, since the user may well have meant to use them there.
    loose: set[str] = field(default_factory=set)
    #: False when the spec has no usable inputs or nodes: graph-wide checks are skipped.
    complete: bool = True
    inference_order: list[str] = field(default_factory=list)
    generation_order: list[str] = field(default_factory=list)
    #: The warnings the spec accepts (``accept:``), by code: the reason given. They are
    #: not printed, but what they imply still holds (:mod:`flowspec.graph.verdict`).
    accepted: dict[str, str] = field(default_factory=dict)

    @property
    def data_inputs(self) -> list[str]:
        return [n.id for n in self.nodes.values() if n.is_input and not n.is_context_input]

    @property
    def context_inputs(self) -> list[str]:
        return [n.id for n in self.nodes.values() if n.is_context_input]

    @property
    def layers(self) -> list[GraphNode]:
        """The non-input nodes, in inference order."""
        return [self.nodes[i] for i in self.inference_order if not self.nodes[i].is_input]

    @property
    def terminals(self) -> list[GraphNode]:
        return [n for n in self.layers if n.spec is not None and n.spec.terminal]

    @property
    def likelihood(self) -> Likelihood:
        """What ``log_prob`` is: the weakest class of any node (the order of
        :class:`~flowspec.core.properties.Likelihood`), and at best a lower bound when a
        density gets values that do not fill its support (W501, W800)."""
        classes = [n.spec.likelihood() for n in self.layers if n.spec is not None]
        if self.unnormalized:
            classes.append(Likelihood.BOUND)
        return max(classes, default=Likelihood.EXACT)

    @property
    def draws_noise(self) -> bool:
        """Whether ``log_prob`` draws random numbers (any node's contribution does,
        :meth:`~flowspec.core.node.NodeSpec.draws_noise`): its figures then depend on the
        draws and their seed, and a bound is tightened by the IWBO. False for a bound that
        comes only from a density's support (W501, W800): the same number every call."""
        return any(n.spec.draws_noise() for n in self.layers if n.spec is not None)

    @property
    def unnormalized(self) -> list[str]:
        """The nodes whose density gets values that do not fill its support (W501, W800)."""
        return [n.id for n in self.layers if n.unnormalized]

    @property
    def costs(self) -> Costs:
        """What ``log_prob`` (inference) and ``sample`` (generation) cost: the most
        expensive node in each direction."""
        costs = [n.spec.costs() for n in self.layers if n.spec is not None]
        return Costs(
            max((c.inference for c in costs), default=Cost.ONE_PASS),
            max((c.generation for c in costs), default=Cost.ONE_PASS),
        )

    def unavailable_log_prob(self) -> dict[str, str]:
        """The nodes whose inference direction is not available, so ``log_prob`` of data
        cannot be computed (``sample`` and the density of the model's own samples can),
        each with what would give it one (its kind's words)."""
        return {
            n.id: n.spec.inference_remedy()
            for n in self.layers
            if n.spec is not None and n.spec.costs().inference is Cost.UNAVAILABLE
        }

    def to_networkx(self) -> networkx.MultiDiGraph:
        """The checked graph as a networkx multigraph, for your own analysis (paths,
        GraphML export, ...). Nodes carry ``kind``, ``category``, ``shapes`` (of their
        outputs), ``likelihood`` and ``block``; edges carry ``kind`` (data or context),
        ``port`` and ``slot``. networkx is imported here only: checking a spec does not
        need it (:mod:`flowspec.graph.digraph` is what the passes use)."""
        import networkx

        graph = networkx.MultiDiGraph(name=self.header.name)
        for node in self.nodes.values():
            graph.add_node(
                node.id,
                kind=node.kind,
                category="input" if node.spec is None else node.spec.category().value,
                shapes=[list(info.shape) for info in node.output_info or ()],
                likelihood=None if node.spec is None else node.spec.likelihood().label,
                block=node.group,
            )
        for source, target, data in self.edges.edges(data=True):
            graph.add_edge(source, target, **data)
        return graph

    def consumer(self, ref: PortRef) -> GraphNode | None:
        """The node whose data input is ``ref`` (after the passes, there is exactly one)."""
        for _, target, data in self.edges.out_edges(ref.node, data=True):
            if data["kind"] == "data" and data["port"] == ref.port:
                return self.nodes[target]
        return None
