"""The optimized program: the checked graph's nodes grouped into operations, in inference
order, each saying how the emitter writes it (:mod:`flowspec.emit.straight_line`).

A pass rewrites some :class:`Call` operations into cheaper ones; the density never changes.
The graph itself is left alone: drawings, bookkeeping and the literal code still see the
spec, and every node keeps its module (and ``state_dict`` keys) whatever was folded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flowspec.graph.model import FlowGraph, GraphNode

__all__ = ["Op", "Call", "Permute", "Regroup", "Couple", "AffineChain", "Program"]


@dataclass
class Op:
    """One step of the program: the spec nodes it covers (in inference order) and, for a
    rewrite, what it did (written as a comment in the emitted source)."""

    nodes: list[GraphNode]
    note: str = ""

    @property
    def first(self) -> GraphNode:
        return self.nodes[0]

    @property
    def last(self) -> GraphNode:
        return self.nodes[-1]


@dataclass
class Call(Op):
    """One node's layer called as it is (through ``nn.Module.__call__``)."""


@dataclass
class Permute(Op):
    """A fixed permutation of event axis 0, ``z[:, i] = x[:, order[i]]``, folded: no data
    moves, later operations read the features at their new positions."""

    order: list[int] = field(default_factory=list)


@dataclass
class Regroup(Op):
    """A split or concat of event axis 0, folded: the parts are renamed, not copied."""

    sizes: list[int] = field(default_factory=list)
    splits: bool = True


@dataclass
class Couple(Op):
    """A coupling layer whose kept and transformed parts are taken by index sets from
    wherever the features are, and left where they are afterwards (no merge)."""

    keep: list[int] = field(default_factory=list)
    change: list[int] = field(default_factory=list)


@dataclass
class AffineChain(Op):
    """Adjacent elementwise affine maps (scale_shift, actnorm) composed into one."""


@dataclass
class Program:
    """The operations of a checked graph, in inference order."""

    graph: FlowGraph
    ops: list[Op]

    def op_of(self) -> dict[str, Op]:
        """Each node id -> the operation covering it."""
        return {node.id: op for op in self.ops for node in op.nodes}

    def calls_of(self, *spec_types: type) -> list[Call]:
        """The plain calls (not yet rewritten) of nodes whose spec is one of ``spec_types``."""
        return [
            op for op in self.ops if isinstance(op, Call) and isinstance(op.first.spec, spec_types)
        ]

    def replace(self, op: Op, *new: Op) -> None:
        """Put ``new`` in place of ``op``."""
        index = self.ops.index(op)
        self.ops[index : index + 1] = list(new)
