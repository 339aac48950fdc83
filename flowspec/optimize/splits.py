"""Pass: fold ``split`` and ``concat`` into renamings of feature positions.

Profile (slice_multiscale, ports_checkerboard): a split is ``tensor.split`` views plus a
zero contribution, its inverse a ``cat``; a concat is a ``cat`` copy. When the parts are
already held as separate tensors (the halves a coupling left apart), splitting and
joining them is bookkeeping at compile time, not work at run time.
"""

from __future__ import annotations

from flowspec.nodes.concat import ConcatSpec
from flowspec.nodes.split import SplitSpec
from flowspec.optimize.program import Program, Regroup

__all__ = ["fold_splits"]


def fold_splits(program: Program) -> None:
    for op in program.calls_of(SplitSpec, ConcatSpec):
        node = op.first
        splits = isinstance(node.spec, SplitSpec)
        if isinstance(node.spec, SplitSpec):
            sizes = list(node.spec.sizes)
        else:
            sizes = [info.shape[0] for info in node.known_inputs]
        program.replace(
            op,
            Regroup(
                [node],
                note=f"{node.kind} folded: its parts are renamed feature positions, not copies",
                sizes=sizes,
                splits=splits,
            ),
        )
