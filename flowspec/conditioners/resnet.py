"""A small convolutional ResNet conditioner for couplings on images (its torch module:
:mod:`flowspec.layers.conditioners.resnet`).

Dinh et al. 2016, "Density estimation using Real NVP", arXiv:1605.08803 (ResNet
conditioners); He et al. 2016, "Deep Residual Learning", arXiv:1512.03385. A convolution
lifts the kept channels (and context channels, see :mod:`flowspec.conditioners._image`) to
``channels`` feature maps, ``blocks`` residual blocks ``h + conv(act(conv(act(h))))``
refine them, and a last convolution, zero at the start (Kingma and Dhariwal 2018, Glow,
arXiv:1807.03039), gives the parameters of every transformed value.

Example::

    conditioner: {kind: resnet, channels: 64, blocks: 2, kernel: 3}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from flowspec.conditioners._image import ImageConditionerSpec
from flowspec.core.example import Example
from flowspec.core.ports import PortInfo

if TYPE_CHECKING:
    from flowspec.layers.conditioners.resnet import ResNet

__all__ = ["ResNetSpec"]


class ResNetSpec(ImageConditionerSpec):
    """Convolution, residual blocks, zero-initialised convolution."""

    kind: Literal["resnet"] = "resnet"
    blocks: int = Field(default=2, ge=0, le=64, description="Residual blocks (0 .. 64).")
    summary = "convolutional ResNet: lift, residual blocks, zero-initialised conv"
    reference = "Dinh et al. 2016, Density estimation using Real NVP, arXiv:1605.08803"
    examples = (
        Example(
            {"channels": 4, "blocks": 1},
            (PortInfo((3, 2, 2)),),
            role="coupling",
            host={"mask": "channel_flipped"},
        ),
        Example(
            {"channels": 4, "blocks": 1, "activation": "tanh"},
            (PortInfo((2, 2, 2)),),
            PortInfo((1, 2, 2)),
            role="coupling",
            host={"mask": "checkerboard_flipped"},
            label="image context",
        ),
    )

    def body_parameter_count(self, in_channels: int, out_channels: int) -> int:
        k, width = self.kernel, self.channels
        return (
            self.conv_parameter_count(in_channels, width, k)
            + 2 * self.blocks * self.conv_parameter_count(width, width, k)
            + self.conv_parameter_count(width, out_channels, k)
        )

    def body(self, in_channels: int, out_channels: int) -> ResNet:
        from flowspec.layers.conditioners.resnet import ResNet

        return ResNet(
            in_channels, self.channels, out_channels, self.blocks, self.kernel, self.activation
        )

    def describe(self) -> str:
        return f"resnet {self.channels}ch x{self.blocks} k{self.kernel} {self.activation}"
