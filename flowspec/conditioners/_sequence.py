"""What the sequence conditioners (rnn, causal_transformer) share: they read the flattened
features as a sequence, in natural or reversed order, and take a flat context."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from flowspec.conditioners.base import ConditionerSpec
from flowspec.core.ports import PortInfo

if TYPE_CHECKING:
    from flowspec.core.node import NodeCheck

__all__ = ["SequenceConditionerSpec"]


class SequenceConditionerSpec(ConditionerSpec):
    """An autoregressive conditioner over the flattened features in a fixed order."""

    order: Literal["natural", "reversed"] = Field(
        default="natural",
        description="The autoregressive order over the flattened features: natural (feature "
        "0 first) or reversed (the last feature first).",
    )
    roles = frozenset({"autoregressive"})

    def autoregressive_ranks(self, shape: tuple[int, ...]) -> list[int]:
        features = PortInfo(shape).numel
        ranks = list(range(features))
        return ranks[::-1] if self.order == "reversed" else ranks

    def check_autoregressive(
        self, x: PortInfo, context: PortInfo | None, check: NodeCheck, *field: str | int
    ) -> bool:
        return self.check_flat_context(context, check)

    @staticmethod
    def context_features(context_shape: tuple[int, ...] | None) -> int:
        return PortInfo(context_shape).numel if context_shape else 0
