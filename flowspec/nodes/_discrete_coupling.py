"""What the discrete couplings share (discrete flows, integer discrete flows): the checks,
the split into a kept first half and a transformed second half, and zero volume.

A bijection of integers moves probability mass without spreading it, so its
contribution is exactly zero and ``log_prob`` stays an exact log-pmf (Tran et al. 2019,
arXiv:1905.10347; Hoogeboom et al. 2019, arXiv:1905.07376). Gradients pass the rounding
by the straight-through estimator (Bengio et al. 2013, arXiv:1308.3432).
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from flowspec.conditioners.choice import NetChoice
from flowspec.conditioners.mlp import MLPSpec
from flowspec.core.node import NodeCheck, NodeSpec
from flowspec.core.ports import PortInfo

__all__ = ["DiscreteCouplingSpec"]


class DiscreteCouplingSpec(NodeSpec):
    """Kept half ``x[:D//2]`` conditions the transformation of ``x[D//2:]``."""

    net: NetChoice = Field(default_factory=MLPSpec, description="Conditioner network.")
    contribution = "0"
    volume_preserving = True

    #: The input ranks it splits: flat ``[D]`` (and images ``[C, H, W]`` on channels).
    ranks: ClassVar[tuple[int, ...]] = (1,)

    def check_discrete_input(self, x: PortInfo, check: NodeCheck, *, need_levels: bool) -> bool:
        if len(x.shape) not in self.ranks or x.shape[0] < 2:
            wanted = " or an image [C, H, W] with C >= 2" if 3 in self.ranks else ""
            check.error(
                "E816",
                f"{self.kind} needs a flat input [D] with D >= 2{wanted}, got {x}",
                "in",
                hint="add {kind: flatten} before it",
            )
            return False
        if not x.support.discrete or (need_levels and x.support.levels is None):
            wanted = "integers 0..K-1 (levels)" if need_levels else "integers"
            check.error(
                "E817",
                f"{self.kind} is a bijection of {wanted}, but its input lives in {x.support}",
                "in",
                hint="declare levels on the input, e.g. {shape: [8], levels: 4}",
            )
            return False
        return True

    @staticmethod
    def halves(x: PortInfo) -> tuple[int, int]:
        """The sizes of the kept and the transformed part."""
        keep = x.shape[0] // 2
        return keep, x.shape[0] - keep
