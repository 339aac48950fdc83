"""Pass: couplings take their kept and transformed parts by index sets and leave them
apart (no merge). Feature and channel masks qualify (a split of event axis 0);
checkerboard masks of images do not.

Profile (realnvp_moons, train step): each coupling slices its input, then ``cat``s the
kept and the transformed halves back (forward and backward), only for the next reverse
to copy them again. Emitted as ``z_b = couple(x[keep], x[change])`` on the feature
positions the emitter tracks, the parts stay separate tensors; the next coupling takes
its halves from them (a permutation in between only renames positions), and one ``cat``
joins them where a layer needs the whole tensor.
"""

from __future__ import annotations

from flowspec.nodes._coupling import CouplingBase
from flowspec.optimize.program import Couple, Program

__all__ = ["split_couplings"]


def split_couplings(program: Program) -> None:
    for op in program.calls_of(CouplingBase):
        node = op.first
        spec = node.spec
        assert isinstance(spec, CouplingBase)
        if spec.splits_pixels:  # pixels, not index sets along event axis 0
            continue
        mask = spec.mask_vector(node.known_inputs[0].shape[0])
        program.replace(
            op,
            Couple(
                [node],
                note="split and merge folded into index sets: the parts stay apart",
                keep=[i for i, m in enumerate(mask) if m],
                change=[i for i, m in enumerate(mask) if not m],
            ),
        )
