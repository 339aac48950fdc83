"""Glow's three-layer convolutional conditioner (its torch module:
:mod:`flowspec.layers.conditioners.conv`).

Kingma and Dhariwal 2018, "Glow: Generative Flow with Invertible 1x1 Convolutions",
arXiv:1807.03039, Sec. 3.3: a ``kernel x kernel`` convolution, a 1x1 convolution, each
followed by the activation, and a ``kernel x kernel`` convolution that starts at zero, so
the coupling starts as the identity. Contexts: see :mod:`flowspec.conditioners._image`.

Example::

    conditioner: {kind: conv, channels: 64, kernel: 3}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from flowspec.conditioners._image import ImageConditionerSpec
from flowspec.core.example import Example
from flowspec.core.ports import PortInfo

if TYPE_CHECKING:
    from flowspec.layers.conditioners.conv import ConvNet

__all__ = ["ConvSpec"]


class ConvSpec(ImageConditionerSpec):
    """Convolution, 1x1 convolution, zero-initialised convolution (Glow's NN)."""

    kind: Literal["conv"] = "conv"
    summary = "Glow's conv net: k x k conv, 1x1 conv, zero-initialised k x k conv"
    reference = "Kingma and Dhariwal 2018, Glow, arXiv:1807.03039"
    examples = (
        Example({"channels": 4}, (PortInfo((2, 2, 2)),), role="coupling", host={"mask": "channel"}),
        Example(
            {"channels": 4, "activation": "tanh"},
            (PortInfo((1, 2, 3)),),
            PortInfo((2,)),
            role="coupling",
            host={"mask": "checkerboard"},
            label="checkerboard",
        ),
    )

    def body_parameter_count(self, in_channels: int, out_channels: int) -> int:
        k, width = self.kernel, self.channels
        return (
            self.conv_parameter_count(in_channels, width, k)
            + self.conv_parameter_count(width, width, 1)
            + self.conv_parameter_count(width, out_channels, k)
        )

    def body(self, in_channels: int, out_channels: int) -> ConvNet:
        from flowspec.layers.conditioners.conv import ConvNet

        return ConvNet(in_channels, self.channels, out_channels, self.kernel, self.activation)

    def describe(self) -> str:
        return f"conv {self.channels}ch k{self.kernel} {self.activation}"
