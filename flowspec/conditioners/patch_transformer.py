"""TarFlow's transformer over image patches as an autoregressive conditioner (its torch
module: :mod:`flowspec.layers.conditioners.patch_transformer`).

Zhai et al. 2024, "Normalizing Flows are Capable Generative Models", arXiv:2412.06329, and
the official code (https://github.com/apple/ml-tarflow, ``transformer_flow.MetaBlock``): an
image ``[C, H, W]`` is cut into ``patch x patch`` tokens of ``C patch^2`` values (raster
order of the patches; ``reversed`` flips the sequence, as TarFlow's every other block does).
A linear map and a learned position embedding lift each token to ``dim``; ``layers``
pre-norm blocks of causal self-attention and an MLP (``expansion`` times wider) follow; a
linear read-out that starts at zero gives each token's parameters, shifted by one token so
token ``t`` depends on tokens before it only (the first token's parameters are zero). All
values of a token share its rank, so inverting takes one sweep per token (not per value).
With ``transformer: {kind: affine}`` in an ``autoregressive`` node this is one TarFlow block.

Example::

    conditioner: {kind: patch_transformer, patch: 2, dim: 768, heads: 12, layers: 8}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from flowspec.conditioners.base import ConditionerSpec
from flowspec.conditioners.causal_transformer import check_heads
from flowspec.conditioners.mlp import MAX_WIDTH, dense_parameter_count
from flowspec.core.example import Example
from flowspec.core.ports import PortInfo

if TYPE_CHECKING:
    from flowspec.core.node import NodeCheck
    from flowspec.layers.conditioners.patch_transformer import PatchTransformer

__all__ = ["PatchTransformerSpec"]


class PatchTransformerSpec(ConditionerSpec):
    """Causal self-attention over an image's patches, in raster or reversed order."""

    kind: Literal["patch_transformer"] = "patch_transformer"
    patch: int = Field(default=2, ge=1, le=64, description="Side of the square patches.")
    dim: int = Field(default=64, gt=0, le=MAX_WIDTH, description="Token width.")
    heads: int = Field(default=4, ge=1, le=64, description="Attention heads (dividing dim).")
    layers: int = Field(default=2, ge=1, le=64, description="Transformer blocks (1 .. 64).")
    expansion: int = Field(
        default=4, ge=1, le=16, description="Width of each block's MLP, in multiples of dim."
    )
    order: Literal["natural", "reversed"] = Field(
        default="natural",
        description="The order of the patches: natural (raster order, top-left first) or "
        "reversed (bottom-right first).",
    )
    roles = frozenset({"autoregressive"})
    summary = "causal transformer over image patches, one token per patch (TarFlow)"
    reference = (
        "Zhai et al. 2024, Normalizing Flows are Capable Generative Models, arXiv:2412.06329"
    )
    examples = (
        Example(
            {"patch": 2, "dim": 8, "heads": 2, "layers": 1},
            (PortInfo((2, 4, 4)),),
            role="autoregressive",
            label="natural",
        ),
        Example(
            {"patch": 1, "dim": 8, "heads": 1, "layers": 2, "expansion": 2, "order": "reversed"},
            (PortInfo((1, 2, 3)),),
            role="autoregressive",
            label="reversed",
        ),
    )

    def _tokens(self, shape: tuple[int, ...]) -> tuple[int, int]:
        """How many tokens an image of ``shape`` gives, and how many values each holds."""
        channels, height, width = shape
        return (height // self.patch) * (width // self.patch), channels * self.patch**2

    def check_static(self, check: NodeCheck, *field: str | int) -> None:
        check_heads(self.dim, self.heads, check, *field)

    def check_autoregressive(
        self, x: PortInfo, context: PortInfo | None, check: NodeCheck, *field: str | int
    ) -> bool:
        if context is not None:
            check.error(
                "E406",
                "a patch_transformer conditioner takes no context",
                "context",
                hint="remove the node's context, or use a causal_transformer conditioner",
            )
            return False
        p = self.patch
        if len(x.shape) != 3 or x.shape[1] % p or x.shape[2] % p:
            check.error(
                "E714",
                f"a patch_transformer conditioner with patch {p} needs an image [C, H, W] with "
                f"H and W multiples of {p}, got {x}",
                *field,
                "patch",
                hint="reshape the input to [C, H, W], or choose a patch dividing H and W",
            )
            return False
        return True

    def autoregressive_ranks(self, shape: tuple[int, ...]) -> list[int]:
        channels, height, width = shape
        across = width // self.patch
        ranks = [
            (h // self.patch) * across + w // self.patch
            for _ in range(channels)
            for h in range(height)
            for w in range(width)
        ]
        last = max(ranks)
        return [last - r for r in ranks] if self.order == "reversed" else ranks

    def autoregressive_parameter_count(
        self, shape: tuple[int, ...], params: int, context_shape: tuple[int, ...] | None
    ) -> int:
        """The token lift, position embedding, the blocks (two layer norms, attention and
        the MLP each) and the read-out."""
        tokens, values = self._tokens(shape)
        dim = self.dim
        block = (
            2 * 2 * dim
            + dense_parameter_count([dim, 3 * dim])
            + dense_parameter_count([dim, dim])
            + dense_parameter_count([dim, self.expansion * dim, dim])
        )
        return (
            dense_parameter_count([values, dim])
            + tokens * dim
            + self.layers * block
            + dense_parameter_count([dim, values * params])
        )

    def build_autoregressive(
        self, shape: tuple[int, ...], params: int, context_shape: tuple[int, ...] | None
    ) -> PatchTransformer:
        from flowspec.layers.conditioners.patch_transformer import PatchTransformer

        return PatchTransformer(
            list(shape),
            self.patch,
            self.order == "reversed",
            self.dim,
            self.heads,
            self.layers,
            self.expansion,
            params,
        )

    def describe(self) -> str:
        return (
            f"patch_transformer {self.patch}x{self.patch} patches, {self.layers}x{self.dim} "
            f"({self.heads} heads), {self.order} order"
        )
