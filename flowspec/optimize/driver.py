"""The optimizer's driver: the checked graph -> a :class:`Program`, pass by pass."""

from __future__ import annotations

from collections.abc import Callable

from flowspec.graph.model import FlowGraph
from flowspec.optimize.affine import compose_affine_chains
from flowspec.optimize.couplings import split_couplings
from flowspec.optimize.permutations import fold_permutations
from flowspec.optimize.program import Call, Program
from flowspec.optimize.splits import fold_splits

__all__ = ["PASSES", "literal_program", "optimize"]

#: Every pass, in the order it runs.
PASSES: tuple[Callable[[Program], None], ...] = (
    fold_permutations,
    fold_splits,
    split_couplings,
    compose_affine_chains,
)


def literal_program(graph: FlowGraph) -> Program:
    """One plain call per node, in inference order."""
    return Program(graph, [Call([node]) for node in graph.layers])


def optimize(graph: FlowGraph, passes: tuple[Callable[[Program], None], ...] = PASSES) -> Program:
    """The program of a checked graph after ``passes``."""
    program = literal_program(graph)
    for run in passes:
        run(program)
    return program
