"""Conditional discretized logistic (mixture) density over integers.

PixelCNN++ (Salimans et al. 2017, arXiv:1701.05517) and the base of integer discrete flows
(Hoogeboom et al. 2019, arXiv:1905.07376). Each element ``v`` gets the mass a mixture of
logistics puts on ``[v - 1/2, v + 1/2]``; with ``K`` levels the first and last bins take
the tails (``(-inf, 1/2]`` and ``[K - 3/2, inf)``), so the pmf sums to one over
``0..K-1``; for unbounded integers every bin has width one and it sums to one over Z.

Example::

    decoder: {kind: discretized_logistic, mixtures: 3}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field

from flowspec.core.example import Example
from flowspec.core.node import NodeCheck
from flowspec.core.ports import PortInfo, Support
from flowspec.densities._checks import check_discrete_event
from flowspec.densities.base import DensitySpec

if TYPE_CHECKING:
    from torch import nn

    from flowspec.layers.densities.discretized_logistic import DiscretizedLogistic

__all__ = ["DiscretizedLogisticSpec"]


class DiscretizedLogisticSpec(DensitySpec):
    """Mixture of discretized logistics per element (weights, means, log scales from c)."""

    kind: Literal["discretized_logistic"] = "discretized_logistic"
    mixtures: int = Field(default=1, ge=1, le=64, description="Number of logistic components.")
    summary = "discretized logistic mixture over integers"
    reference = "Salimans et al. 2017, PixelCNN++, arXiv:1701.05517"
    models = "integers (0..K-1, or all integers)"
    examples: ClassVar[tuple[Example, ...]] = (
        Example({"mixtures": 2}, (PortInfo((2,), Support(levels=4)),), label="levels"),
        Example(
            {"net": {"hidden": [4]}},
            (PortInfo((1,), Support(integers=True)),),
            PortInfo((2,)),
            label="integers",
        ),
    )

    def check_event(self, event: PortInfo, check: NodeCheck, *field: str | int) -> bool:
        return check_discrete_event(self.kind, event, check, *field)

    def param_count(self, event: PortInfo) -> int:
        return 3 * self.mixtures * event.numel

    def _build(self, event: PortInfo, net: nn.Module | None) -> DiscretizedLogistic:
        from flowspec.layers.densities.discretized_logistic import DiscretizedLogistic

        return DiscretizedLogistic(event.shape, self.mixtures, event.support.levels, net)
