"""Flow++'s coupling network: gated convolutions and gated multi-head self-attention (its
torch module: :mod:`flowspec.layers.conditioners.gated_attention`).

Ho, Chen, Srinivas, Duan and Abbeel 2019, "Flow++: Improving Flow-Based Generative Models
with Variational Dequantization and Architecture Design", arXiv:1902.00275, section 3.3,
as the official code builds it (https://github.com/aravindsrinivas/flowpp,
``flows.MixLogisticAttnCoupling``): a convolution lifts the kept part to ``channels``
feature maps, then ``blocks`` blocks of

    h = h + gate(nin(concat_elu(conv(concat_elu(h)) [+ nin(concat_elu(context))])))
    h = layer_norm(h)
    h = h + gate(nin(attention(h + position embedding)))
    h = layer_norm(h)

with ``gate(a, b) = a * sigmoid(b)``, ``nin`` a 1x1 convolution, multi-head self-attention
over every position of the image (``heads`` heads), layer norm over the channels at each
position and dropout on the gated convolution's hidden maps and on the attention's output;
a last convolution, zero at the start, gives the parameters of every transformed value. A
context (flat ``[K]``, or an image ``[K, H, W]`` of the kept part's size) enters every gated
convolution through its own 1x1 convolution, as Flow++'s dequantizer reads its processed
image.

Example::

    conditioner: {kind: gated_attention, channels: 96, blocks: 10, heads: 4, dropout: 0.2}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from flowspec.conditioners._image import ConvolutionalSpec
from flowspec.conditioners.causal_transformer import check_heads
from flowspec.conditioners.mlp import MAX_WIDTH
from flowspec.core.example import Example
from flowspec.core.ports import PortInfo

if TYPE_CHECKING:
    from flowspec.core.node import NodeCheck
    from flowspec.layers.conditioners._image import ImageConditioner

__all__ = ["GatedAttentionSpec"]


class GatedAttentionSpec(ConvolutionalSpec):
    """Lift, blocks of gated convolution and gated self-attention, zero-initialised conv."""

    kind: Literal["gated_attention"] = "gated_attention"
    channels: int = Field(
        default=96, gt=0, le=MAX_WIDTH, description="Channels of the hidden feature maps."
    )
    blocks: int = Field(
        default=10, ge=1, le=64, description="Gated convolution + attention blocks (1 .. 64)."
    )
    heads: int = Field(default=4, ge=1, le=64, description="Attention heads (dividing channels).")
    dropout: float = Field(
        default=0.0,
        ge=0.0,
        lt=1.0,
        description="Dropout probability on the gated convolutions' hidden maps and the "
        "attention's output while training (Flow++ trains CIFAR-10 with 0.2); evaluation is "
        "deterministic.",
    )
    summary = "Flow++ gated convolutions and gated multi-head self-attention, with layer norm"
    reference = "Ho et al. 2019, Flow++, arXiv:1902.00275"
    examples = (
        Example(
            {"channels": 4, "blocks": 1, "heads": 2},
            (PortInfo((2, 2, 2)),),
            role="coupling",
            host={"mask": "channel"},
        ),
        Example(
            {"channels": 4, "blocks": 2, "heads": 1, "dropout": 0.1},
            (PortInfo((1, 2, 4)),),
            PortInfo((3, 2, 2)),
            role="coupling",
            host={"mask": "columns"},
            label="image context",
        ),
        Example(
            {"channels": 4, "blocks": 1, "heads": 2, "kernel": 1},
            (PortInfo((3, 2, 2)),),
            PortInfo((2,)),
            role="coupling",
            host={"mask": "checkerboard_flipped"},
            label="flat context",
        ),
    )

    def check_static(self, check: NodeCheck, *field: str | int) -> None:
        super().check_static(check, *field)
        check_heads(self.channels, self.heads, check, *field, width="channels")

    def coupling_parameter_count(
        self,
        kept: tuple[int, ...],
        changed: tuple[int, ...],
        params: int,
        context_shape: tuple[int, ...] | None,
    ) -> int:
        """The position embedding, the lift, per block the gated convolution (its
        context's 1x1 convolution too), two layer norms and the attention's two 1x1
        convolutions, and the read-out."""
        channels, height, width = kept
        k, f = self.kernel, self.channels
        context = context_shape[0] if context_shape else 0
        gated_conv = (
            self.conv_parameter_count(2 * f, f, k)
            + (self.conv_parameter_count(2 * context, f, 1) if context else 0)
            + self.conv_parameter_count(2 * f, 2 * f, 1)
        )
        attention = self.conv_parameter_count(f, 3 * f, 1) + self.conv_parameter_count(f, 2 * f, 1)
        block = gated_conv + attention + 2 * 2 * f
        return (
            height * width * f
            + self.conv_parameter_count(channels, f, k)
            + self.blocks * block
            + self.conv_parameter_count(f, changed[0] * params, k)
        )

    def build_coupling(
        self,
        kept: tuple[int, ...],
        changed: tuple[int, ...],
        params: int,
        context_shape: tuple[int, ...] | None,
    ) -> ImageConditioner:
        from flowspec.layers.conditioners._image import ImageConditioner
        from flowspec.layers.conditioners.gated_attention import GatedAttentionNet

        net = GatedAttentionNet(
            list(kept),
            changed[0] * params,
            context_shape[0] if context_shape else 0,
            self.channels,
            self.blocks,
            self.heads,
            self.kernel,
            self.dropout,
        )
        return ImageConditioner(net, list(changed), params, stack_context=False)

    def describe(self) -> str:
        dropout = f" dropout {self.dropout:g}" if self.dropout else ""
        return (
            f"gated_attention {self.channels}ch x{self.blocks} ({self.heads} heads) "
            f"k{self.kernel}{dropout}"
        )
