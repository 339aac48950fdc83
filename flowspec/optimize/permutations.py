"""Pass: fold fixed permutations (``reverse``, ``shuffle``) into the index sets of the
operations that read their output.

Profile (realnvp_moons, train step): each ``reverse`` is a ``flip`` copy forward and
another in backward, plus a zero contribution allocated and dropped; the best
hand-written RealNVP swaps which half it keeps instead. A permutation only renames
feature positions, so the emitter tracks the new positions and the next coupling, split or
layer reads its features by them: no data moves unless a layer needs the whole tensor in
order (then one gather, as the literal code did).
"""

from __future__ import annotations

from flowspec.nodes.permutations import ReverseSpec, ShuffleSpec
from flowspec.optimize.program import Permute, Program

__all__ = ["fold_permutations"]


def fold_permutations(program: Program) -> None:
    for op in program.calls_of(ReverseSpec, ShuffleSpec):
        node = op.first
        spec = node.spec
        assert isinstance(spec, ReverseSpec | ShuffleSpec)
        features = node.known_inputs[0].shape[0]
        program.replace(
            op,
            Permute(
                [node],
                note=f"{node.kind} folded: no data moves; later nodes read its features "
                "by their new positions",
                order=spec.order(features),
            ),
        )
