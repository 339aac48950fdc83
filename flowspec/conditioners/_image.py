"""What the convolutional conditioners share: their fields, the coupling role's checks on
image-shaped parts, and the build around the network body.

In a coupling layer on images ``[C, H, W]`` (Dinh et al. 2016, RealNVP, arXiv:1605.08803;
Kingma and Dhariwal 2018, Glow, arXiv:1807.03039) the conditioner maps the kept part
``[C_a, H, W]`` to the parameters of the transformed part ``[C_b, H, W]`` at the same
positions. A context conditions every position: a flat context ``[K]`` is broadcast to
``K`` constant extra channels, an image context ``[K, H, W]`` of the same size is stacked
as ``K`` extra channels.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from pydantic import Field

from flowspec.conditioners.base import ConditionerSpec
from flowspec.conditioners.mlp import MAX_WIDTH, Activation
from flowspec.core.ports import PortInfo

if TYPE_CHECKING:
    from torch import nn

    from flowspec.core.node import NodeCheck
    from flowspec.layers.conditioners._image import ImageConditioner

__all__ = ["ConvolutionalSpec", "ImageConditionerSpec"]


class ConvolutionalSpec(ConditionerSpec):
    """A convolutional map from the kept channels (plus context channels) to the
    transformed channels' parameters, at every position: its kernel and the coupling
    role's checks."""

    kernel: int = Field(
        default=3,
        ge=1,
        le=15,
        description="Side of the square convolution kernels (odd, so that 'same' padding "
        "keeps H and W).",
    )
    roles: ClassVar[frozenset[str]] = frozenset({"coupling"})

    def check_static(self, check: NodeCheck, *field: str | int) -> None:
        self.check_odd("kernel", self.kernel, check, *field)

    @staticmethod
    def check_odd(setting: str, side: int, check: NodeCheck, *field: str | int) -> None:
        """Report a kernel ``setting`` of even ``side``: 'same' padding needs an odd one."""
        if side % 2 == 0:
            check.error(
                "E657",
                f"{setting} {side} is even: 'same' padding needs an odd kernel",
                *field,
                setting,
                hint=f"use {setting}: {side + 1} or {side - 1}",
            )

    def check_coupling(
        self,
        kept: tuple[int, ...],
        changed: tuple[int, ...],
        context: PortInfo | None,
        check: NodeCheck,
        *field: str | int,
    ) -> bool:
        if len(kept) != 3 or len(changed) != 3:
            check.error(
                "E655",
                f"a {self.kind} conditioner needs an image-shaped input [C, H, W] with an "
                f"image mask, but the coupling splits it into {list(kept)} and {list(changed)}",
                *field,
                "kind",
                hint="reshape the input to [C, H, W] and use mask: channel or checkerboard, "
                "or use conditioner: {kind: mlp}",
            )
            return False
        size = tuple(kept[1:])
        if context is not None and len(context.shape) != 1 and context.shape[1:] != size:
            check.error(
                "E656",
                f"the context of a {self.kind} conditioner must be flat [K] or an image "
                f"[K, {size[0]}, {size[1]}] of the input's size, got {context}",
                "context",
                hint="flatten the context, or give it the input's height and width",
            )
            return False
        return True

    def body_parameter_count(self, in_channels: int, out_channels: int) -> int:
        """How many learned parameters :meth:`body` creates (checking stays torch-free)."""
        raise NotImplementedError

    def coupling_parameter_count(
        self,
        kept: tuple[int, ...],
        changed: tuple[int, ...],
        params: int,
        context_shape: tuple[int, ...] | None,
    ) -> int:
        extra = context_shape[0] if context_shape else 0
        return self.body_parameter_count(kept[0] + extra, changed[0] * params)

    def conv_parameter_count(
        self,
        in_channels: int,
        out_channels: int,
        kernel: int,
        edge_bias: bool = False,
        channel_affine: bool = False,
    ) -> int:
        """Weights and biases of one convolution; with ``edge_bias`` (and a kernel above 1)
        it sees one more input channel, with ``channel_affine`` its bias is replaced by a
        per-channel shift and log-scale (``layers/conditioners/_image.ChannelAffine``)."""
        seen = in_channels + (edge_bias and kernel > 1)
        return seen * out_channels * kernel * kernel + out_channels * (1 + channel_affine)

    def body(self, in_channels: int, out_channels: int) -> nn.Module:
        """The network ``(B, in_channels, H, W) -> (B, out_channels, H, W)``, its last
        convolution starting at zero."""
        raise NotImplementedError

    def build_coupling(
        self,
        kept: tuple[int, ...],
        changed: tuple[int, ...],
        params: int,
        context_shape: tuple[int, ...] | None,
    ) -> ImageConditioner:
        from flowspec.layers.conditioners._image import ImageConditioner

        extra = context_shape[0] if context_shape else 0
        net = self.body(kept[0] + extra, changed[0] * params)
        return ImageConditioner(net, list(changed), params)


class ImageConditionerSpec(ConvolutionalSpec):
    """A convolutional network with hidden feature maps of ``channels`` channels."""

    channels: int = Field(
        default=64, gt=0, le=MAX_WIDTH, description="Channels of the hidden feature maps."
    )
    activation: Activation = Field(default="relu", description="Activation between layers.")
