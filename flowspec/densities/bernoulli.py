"""Conditional Bernoulli density over binary values ``{0, 1}``, one logit per element.

The decoder of binarised-image VAEs (Kingma and Welling 2014, arXiv:1312.6114; Rezende and
Mohamed 2015, arXiv:1505.05770) and the sign classifier of the abs surjection (Nielsen et
al. 2020, arXiv:2007.02731).

Example::

    decoder: {kind: bernoulli, net: {kind: mlp, hidden: [256]}}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from flowspec.core.example import Example
from flowspec.core.node import NodeCheck
from flowspec.core.ports import PortInfo, Support
from flowspec.densities._checks import check_discrete_event
from flowspec.densities.base import DensitySpec

if TYPE_CHECKING:
    from torch import nn

    from flowspec.layers.densities.bernoulli import Bernoulli

__all__ = ["BernoulliSpec"]


class BernoulliSpec(DensitySpec):
    """Independent Bernoulli per element, logits from the context (start at p = 1/2)."""

    kind: Literal["bernoulli"] = "bernoulli"
    summary = "Bernoulli(sigmoid(l(c))) per element"
    reference = "Kingma and Welling 2014, Auto-Encoding Variational Bayes, arXiv:1312.6114"
    models = "binary values {0, 1}"
    examples = (
        Example({}, (PortInfo((3,), Support(levels=2)),), label="learned"),
        Example(
            {"net": {"hidden": [4]}},
            (PortInfo((2,), Support(levels=2)),),
            PortInfo((2,)),
            label="context",
        ),
    )

    def check_event(self, event: PortInfo, check: NodeCheck, *field: str | int) -> bool:
        return check_discrete_event(self.kind, event, check, *field, levels=2)

    def param_count(self, event: PortInfo) -> int:
        return event.numel

    def _build(self, event: PortInfo, net: nn.Module | None) -> Bernoulli:
        from flowspec.layers.densities.bernoulli import Bernoulli

        return Bernoulli(event.shape, net)
