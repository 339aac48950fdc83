"""Pass: compose adjacent elementwise affine maps (``elementwise`` with ``fn:
scale_shift`` or a linear transformer, ``affine`` or ``additive``, learned per feature; and
``actnorm``) into one ``z = S x + T``.

A chain of k such maps costs 2k passes over the data forward (and as many backward);
composed on their parameters (a scalar, or one value per channel or feature) it costs two.
Exact up to rounding. Actnorm's data-dependent initialisation sees its own input batch: the
composed map runs an actnorm that has not seen data once on its input first
(:func:`flowspec.emit.folds._compose`).
"""

from __future__ import annotations

from flowspec.graph.model import GraphNode, PortRef
from flowspec.nodes.actnorm import ActNormSpec
from flowspec.nodes.elementwise import ElementwiseSpec
from flowspec.optimize.program import AffineChain, Call, Program

__all__ = ["compose_affine_chains", "is_affine"]


def is_affine(node: GraphNode) -> bool:
    """Whether the node is an elementwise affine map this pass can compose."""
    spec = node.spec
    if isinstance(spec, ActNormSpec):
        return True
    # A linear transformer (scale_shift, affine, additive), fixed or learned per feature;
    # never a spline or any other map that is not z = a x + b.
    return isinstance(spec, ElementwiseSpec) and spec.map().linear


def _feeds_only(program: Program, node: GraphNode, nxt: GraphNode) -> bool:
    """Whether ``node``'s output goes to ``nxt``'s data input and nowhere else."""
    uses = list(program.graph.edges.out_edges(node.id, data=True))
    return (
        len(uses) == 1
        and uses[0][1] == nxt.id
        and uses[0][2]["kind"] == "data"
        and nxt.inputs == [PortRef(node.id, node.output_ports[0])]
    )


def compose_affine_chains(program: Program) -> None:
    chains: list[list[Call]] = []
    for op in program.ops:
        if not isinstance(op, Call) or not is_affine(op.first):
            continue
        last = chains[-1][-1].first if chains else None
        if last is not None and _feeds_only(program, last, op.first):
            chains[-1].append(op)
        else:
            chains.append([op])
    for chain in chains:
        if len(chain) < 2:
            continue
        nodes = [op.first for op in chain]
        names = ", ".join(f"{n.id} ({n.kind})" for n in nodes)
        index = program.ops.index(chain[0])
        for op in chain:
            program.ops.remove(op)
        program.ops.insert(index, AffineChain(nodes, note=f"composed into one affine map: {names}"))
