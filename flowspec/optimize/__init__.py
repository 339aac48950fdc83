"""The optimizing stage: rewrites of the checked graph that leave the density unchanged,
run between the checks (:mod:`flowspec.graph.passes`) and code generation
(:mod:`flowspec.emit.straight_line`). One file per pass; :mod:`.driver` runs them."""

from flowspec.optimize.driver import PASSES, literal_program, optimize
from flowspec.optimize.program import Program

__all__ = ["PASSES", "Program", "literal_program", "optimize"]
