"""What affine and additive coupling layers share: the mask, its checks, the shape rule
and the conditioner.

Coupling layers (Dinh et al. 2014, NICE, arXiv:1410.8516; Dinh et al. 2016, RealNVP,
arXiv:1605.08803) leave one part ``x_a`` of the input unchanged and transform the other
part ``x_b`` elementwise with parameters computed from ``x_a`` only, which is what makes
them invertible with a triangular Jacobian.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from flowspec.core.node import NodeCheck, NodeSpec
from flowspec.core.ports import REAL, PortInfo
from flowspec.conditioners.choice import NetChoice
from flowspec.nodes._checks import check_continuous

if TYPE_CHECKING:
    from torch import nn

    from flowspec.layers._coupling import MaskedSplit

__all__ = ["CouplingSpec", "ExplicitMask"]

#: An explicit mask: one 0/1 per feature (so at least two entries).
ExplicitMask = Annotated[list[Literal[0, 1]], Field(min_length=2)]


class CouplingSpec(NodeSpec):
    """Fields, checks and shape rule shared by coupling kinds."""

    net: NetChoice = Field(default_factory=NetChoice, description="Conditioner network.")
    mask: Literal["half", "alternate"] | ExplicitMask = Field(
        default="half",
        description="Which features pass through unchanged and condition the rest (1) and "
        "which are transformed (0): 'half' keeps the first half, 'alternate' every other "
        "feature, or an explicit list of 0/1 per feature.",
    )
    accepts_context = True

    def mask_vector(self, features: int) -> list[int]:
        """The mask as one 0/1 per feature of an input with ``features`` features."""
        if self.mask == "half":
            return [1] * (features // 2) + [0] * (features - features // 2)
        if self.mask == "alternate":
            return [1 - (i % 2) for i in range(features)]
        return list(self.mask)

    def check_static(self, check: NodeCheck) -> None:
        """An explicit mask must keep some features and transform the others ('half' and
        'alternate' do both for any input of at least 2 features)."""
        if not isinstance(self.mask, list):
            return
        if all(self.mask):
            check.error(
                "E404",
                "mask keeps every feature, so nothing is transformed",
                "mask",
                hint="mark the features to transform with 0",
            )
        if not any(self.mask):
            check.error(
                "E405",
                "mask transforms every feature, so the conditioner sees nothing it leaves "
                "unchanged and the layer cannot be inverted from its output",
                "mask",
                hint="mark at least one feature with 1 (kept and conditioned on)",
            )

    def check_coupling(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None, check: NodeCheck
    ) -> bool:
        """The shape, domain and invertibility checks of every coupling layer."""
        (x,) = inputs
        ok = True
        if len(x.shape) != 1:
            check.error(
                "E401",
                f"{self.kind} with an mlp conditioner needs a flat input [D], got {x}",
                "in",
                hint="add {kind: flatten} before it",
            )
            return False
        features = x.shape[0]
        if features < 2:
            check.error("E402", f"{self.kind} needs at least 2 features to split, got {x}", "in")
            return False
        if isinstance(self.mask, list) and len(self.mask) != features:
            check.error(
                "E403",
                f"mask has {len(self.mask)} entries but the input has {features} features",
                "mask",
            )
            ok = False
        if context is not None and len(context.shape) != 1:
            check.error(
                "E406", f"context for an mlp conditioner must be flat [C], got {context}", "context"
            )
            ok = False
        # A continuous map fed discrete values gives no likelihood of them (either kind).
        return check_continuous(x, self.kind, check) and ok

    def infer(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None, check: NodeCheck
    ) -> tuple[PortInfo, ...] | None:
        if not self.check_coupling(inputs, context, check):
            return None
        # The transformed features can be moved anywhere: only the real line is known.
        return (PortInfo(inputs[0].shape, REAL),)

    def _conditioner(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None, outputs_per_feature: int
    ) -> tuple["MaskedSplit", "nn.Module"]:
        """The mask's split of the features, and the conditioner network from the kept
        features (and the flat context) to ``outputs_per_feature`` values per transformed
        feature. Its last layer starts at zero, so the layer starts as the identity."""
        from flowspec.layers._coupling import MaskedSplit

        features = inputs[0].shape[0]
        mask = self.mask_vector(features)
        n_keep = sum(mask)
        n_context = context.numel if context is not None else 0
        net = self.net.build(
            n_keep + n_context, outputs_per_feature * (features - n_keep), zero_init=True
        )
        return MaskedSplit(mask), net


