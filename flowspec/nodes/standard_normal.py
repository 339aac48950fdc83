"""Standard normal base distribution, the usual terminal node of a flow.

``p(z) = N(z; 0, I)`` over the whole event, with no parameters: the base density that
normalizing flows push through their layers (Rezende and Mohamed 2015, "Variational
Inference with Normalizing Flows", arXiv:1505.05770; Dinh et al. 2014, NICE,
arXiv:1410.8516).

Example::

    prior: {kind: standard_normal, in: body}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from flowspec.core.example import Example
from flowspec.core.ports import PortInfo
from flowspec.nodes._unconditional_base import UnconditionalDistributionSpec

if TYPE_CHECKING:
    from flowspec.layers.standard_normal import StandardNormal

__all__ = ["StandardNormalSpec"]


class StandardNormalSpec(UnconditionalDistributionSpec):
    """Standard normal N(0, I) over the whole event shape."""

    kind: Literal["standard_normal"] = "standard_normal"
    summary = "standard normal base distribution N(0, I)"
    reference = (
        "Rezende and Mohamed 2015, Variational Inference with Normalizing Flows, arXiv:1505.05770"
    )
    contribution = "log N(z; 0, I)"
    has_parameters = False

    examples = (
        Example({}, (PortInfo((2,)),), label="flat"),
        Example({}, (PortInfo((1, 2, 2)),), label="image"),
    )

    def build(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> StandardNormal:
        from flowspec.layers.standard_normal import StandardNormal

        return StandardNormal(inputs[0].shape)
