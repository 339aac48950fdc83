"""PixelCNN's masked convolutions as an autoregressive conditioner for images.

van den Oord, Kalchbrenner and Kavukcuoglu 2016, "Pixel Recurrent Neural Networks",
arXiv:1601.06759 (masks A and B); van den Oord et al. 2016, "Conditional Image Generation
with PixelCNN Decoders", arXiv:1606.05328.

For an input ``[C, H, W]`` the order is raster order over pixels and, within a pixel, the
channel order: the parameters of ``x[c, h, w]`` depend only on the pixels before ``(h, w)``
and on the channels ``< c`` of the same pixel. The first convolution uses mask A (the
centre tap sees only earlier channel groups), the later ones mask B (the centre tap sees
its own group and earlier ones); hidden channel ``j`` belongs to group ``j mod C``. A flat
context enters every hidden unit through a linear map added after the first convolution.
The last (1x1) layer starts at zero, so the flow layer starts as the identity. (Stacked
masked convolutions have PixelCNN's blind spot: some allowed dependencies are never used.)

Example::

    conditioner: {kind: masked_conv, hidden: 32, layers: 3, kernel: 3}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from flowspec.conditioners.base import ConditionerSpec
from flowspec.conditioners.mlp import MAX_WIDTH, Activation, dense_parameter_count
from flowspec.core.example import Example
from flowspec.core.ports import PortInfo

if TYPE_CHECKING:
    from flowspec.core.node import NodeCheck
    from flowspec.layers.conditioners.masked_conv import MaskedConvNet

__all__ = ["MaskedConvSpec"]


class MaskedConvSpec(ConditionerSpec):
    """Masked 2-D convolutions over ``[C, H, W]`` in raster order (PixelCNN)."""

    kind: Literal["masked_conv"] = "masked_conv"
    hidden: int = Field(default=32, gt=0, le=MAX_WIDTH, description="Hidden channels.")
    layers: int = Field(default=3, ge=1, le=64, description="Masked convolutions (1 .. 64).")
    kernel: int = Field(default=3, ge=1, le=31, description="Odd kernel size (1 .. 31).")
    activation: Activation = Field(default="relu", description="Activation between layers.")
    roles = frozenset({"autoregressive"})
    summary = "PixelCNN masked convolutions: raster order over pixels, then channels"
    reference = "van den Oord et al. 2016, Pixel Recurrent Neural Networks, arXiv:1601.06759"
    examples = (
        Example(
            {"hidden": 8, "layers": 3, "activation": "tanh"},
            (PortInfo((1, 2, 3)),),
            role="autoregressive",
            label="gray",
        ),
        Example(
            {"hidden": 9, "layers": 2, "activation": "tanh"},
            (PortInfo((3, 2, 2)),),
            PortInfo((2,)),
            role="autoregressive",
            label="rgb",
        ),
    )

    def check_static(self, check: NodeCheck, *field: str | int) -> None:
        if self.kernel % 2 == 0:
            check.error(
                "E710",
                f"kernel must be odd (a centre tap to mask), got {self.kernel}",
                *field,
                "kernel",
                hint=f"use kernel: {self.kernel + 1}",
            )

    def check_autoregressive(
        self, x: PortInfo, context: PortInfo | None, check: NodeCheck, *field: str | int
    ) -> bool:
        ok = self.check_flat_context(context, check)
        if len(x.shape) != 3:
            check.error(
                "E711",
                f"a masked_conv conditioner needs an image [C, H, W], got {x}",
                "in",
                hint="reshape the input to [C, H, W], or use a made conditioner for flat inputs",
            )
            ok = False
        return ok

    def autoregressive_ranks(self, shape: tuple[int, ...]) -> list[int]:
        """Raster order over the pixels, then the channel order within a pixel (the
        flattened index ``c H W + p`` is feature ``(c, p)``)."""
        channels, height, width = shape
        pixels = height * width
        return [(index % pixels) * channels + index // pixels for index in range(channels * pixels)]

    def autoregressive_parameter_count(
        self, shape: tuple[int, ...], params: int, context_shape: tuple[int, ...] | None
    ) -> int:
        """The masked convolutions hold full kernels (the masks are buffers), a 1x1 read-out
        to every channel's parameters and a linear map of the context."""
        channels, k, hidden = shape[0], self.kernel, self.hidden
        context = PortInfo(context_shape).numel if context_shape else 0
        convs = (channels * k * k + 1) * hidden + (self.layers - 1) * (hidden * k * k + 1) * hidden
        out = dense_parameter_count([hidden, channels * params])
        return convs + out + (dense_parameter_count([context, hidden]) if context else 0)

    def build_autoregressive(
        self, shape: tuple[int, ...], params: int, context_shape: tuple[int, ...] | None
    ) -> MaskedConvNet:
        from flowspec.layers.conditioners.masked_conv import MaskedConvNet

        context = PortInfo(context_shape).numel if context_shape else 0
        return MaskedConvNet(
            list(shape), self.hidden, self.layers, self.kernel, params, context, self.activation
        )

    def describe(self) -> str:
        return f"masked_conv {self.layers}x{self.hidden} k{self.kernel} {self.activation}"
