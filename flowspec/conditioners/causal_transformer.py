"""A small transformer with a causal attention mask as an autoregressive conditioner.

Vaswani et al. 2017, "Attention Is All You Need", arXiv:1706.03762 (the decoder's causal
self-attention); used as a flow conditioner e.g. by Patacchiola et al. 2024, "Transformer
Neural Autoregressive Flows", arXiv:2401.01855.

Each flattened feature is a token: the value embedding of the previous feature (a learned
start token for the first) plus a learned position embedding, plus the projected context.
Pre-norm blocks of causal self-attention and an MLP follow; a linear read-out that starts at
zero gives every feature's parameters in one pass.

Example::

    conditioner: {kind: causal_transformer, dim: 32, heads: 2, layers: 2}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from flowspec.conditioners._sequence import SequenceConditionerSpec
from flowspec.conditioners.mlp import MAX_WIDTH, dense_parameter_count
from flowspec.core.example import Example
from flowspec.core.ports import PortInfo

if TYPE_CHECKING:
    from flowspec.core.node import NodeCheck
    from flowspec.layers.conditioners.causal_transformer import CausalTransformer

__all__ = ["CausalTransformerSpec", "check_heads"]


def check_heads(
    dim: int, heads: int, check: NodeCheck, *field: str | int, width: str = "dim"
) -> None:
    """Multi-head attention splits the width (the field named ``width``) evenly over the
    heads (E712)."""
    if dim % heads:
        check.error(
            "E712",
            f"{width} ({dim}) must be a multiple of heads ({heads})",
            *field,
            "heads",
            hint=f"choose heads dividing {width}",
        )


class CausalTransformerSpec(SequenceConditionerSpec):
    """Causal self-attention over the features in order."""

    kind: Literal["causal_transformer"] = "causal_transformer"
    dim: int = Field(default=32, gt=0, le=MAX_WIDTH, description="Token width.")
    heads: int = Field(default=2, ge=1, le=64, description="Attention heads (dividing dim).")
    layers: int = Field(default=2, ge=1, le=32, description="Transformer blocks (1 .. 32).")
    summary = "causal self-attention over the features in order, one token per feature"
    reference = "Vaswani et al. 2017, Attention Is All You Need, arXiv:1706.03762"
    examples = (
        Example({"dim": 8, "heads": 2}, (PortInfo((5,)),), role="autoregressive", label="flat"),
        Example(
            {"dim": 8, "heads": 1, "layers": 1, "order": "reversed"},
            (PortInfo((2, 3)),),
            PortInfo((2,)),
            role="autoregressive",
            label="reversed",
        ),
    )

    def autoregressive_parameter_count(
        self, shape: tuple[int, ...], params: int, context_shape: tuple[int, ...] | None
    ) -> int:
        """The value embedding, start token and position embedding, the context's
        projection, the blocks (two layer norms, attention and a 2x MLP each), the final
        norm and the read-out."""
        dim, context = self.dim, self.context_features(context_shape)
        tokens = dense_parameter_count([1, dim]) + dim + PortInfo(shape).numel * dim
        block = (
            2 * 2 * dim
            + dense_parameter_count([dim, 3 * dim])
            + dense_parameter_count([dim, dim])
            + dense_parameter_count([dim, 2 * dim, dim])
        )
        projection = dense_parameter_count([context, dim]) if context else 0
        return (
            tokens
            + projection
            + self.layers * block
            + 2 * dim
            + dense_parameter_count([dim, params])
        )

    def check_static(self, check: NodeCheck, *field: str | int) -> None:
        check_heads(self.dim, self.heads, check, *field)

    def build_autoregressive(
        self, shape: tuple[int, ...], params: int, context_shape: tuple[int, ...] | None
    ) -> CausalTransformer:
        from flowspec.layers.conditioners.causal_transformer import CausalTransformer

        return CausalTransformer(
            list(shape),
            self.order == "reversed",
            self.dim,
            self.heads,
            self.layers,
            params,
            self.context_features(context_shape),
        )

    def describe(self) -> str:
        return (
            f"causal_transformer {self.layers}x{self.dim} ({self.heads} heads), {self.order} order"
        )
