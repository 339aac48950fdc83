"""Conditional categorical density over ``{0..K-1}`` per element, ``K`` logits each.

The pmf of discrete flows (Tran et al. 2019, "Discrete Flows: Invertible Generative Models
of Discrete Data", arXiv:1905.10347) and of Argmax Flows' data (Hoogeboom et al. 2021,
arXiv:2102.05379). ``K`` is the number of levels of the values it models.

Example::

    decoder: {kind: categorical, net: {kind: mlp, hidden: [64]}}
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

    from flowspec.layers.densities.categorical import Categorical

__all__ = ["CategoricalSpec"]


class CategoricalSpec(DensitySpec):
    """Independent categorical per element over the values' K levels (starts uniform)."""

    kind: Literal["categorical"] = "categorical"
    summary = "categorical softmax(l(c)) over K levels per element"
    reference = "Tran et al. 2019, Discrete Flows, arXiv:1905.10347"
    models = "integers 0..K-1 (K levels)"
    examples = (
        Example({}, (PortInfo((2,), Support(levels=3)),), label="learned"),
        Example(
            {"net": {"hidden": [4]}},
            (PortInfo((2,), Support(levels=3)),),
            PortInfo((2,)),
            label="context",
        ),
    )

    def check_event(self, event: PortInfo, check: NodeCheck, *field: str | int) -> bool:
        if not check_discrete_event(self.kind, event, check, *field):
            return False
        if event.support.levels is None:
            check.error(
                "E803",
                "the categorical density needs a finite number of levels, but the values "
                "are unbounded integers",
                *field,
                hint="use {kind: discretized_logistic}, which covers all integers",
            )
            return False
        return True

    def param_count(self, event: PortInfo) -> int:
        assert event.support.levels is not None
        return event.numel * event.support.levels

    def _build(self, event: PortInfo, net: nn.Module | None) -> Categorical:
        from flowspec.layers.densities.categorical import Categorical

        assert event.support.levels is not None
        return Categorical(event.shape, event.support.levels, net)
