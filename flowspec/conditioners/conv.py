"""Glow's three-layer convolutional conditioner (its torch module:
:mod:`flowspec.layers.conditioners.conv`).

Kingma and Dhariwal 2018, "Glow: Generative Flow with Invertible 1x1 Convolutions",
arXiv:1807.03039, Sec. 3.3: a ``kernel x kernel`` convolution, a 1x1 convolution, each
followed by the activation, and a ``kernel x kernel`` convolution that starts at zero, so
the coupling starts as the identity. Contexts: see :mod:`flowspec.conditioners._image`.

``actnorm: true`` and ``edge_bias: true`` follow the official code (openai/glow,
``model.f`` and ``tfops.conv2d``/``conv2d_zeros``) where the paper is silent: each hidden
convolution has no bias and is followed by an actnorm (a learned per-channel shift and
log-scale; here started at the identity, not from data), the output convolution's shift and
log-scale (times 3) are learned per channel, and every ``kernel x kernel`` convolution sees
one more input channel marking its zero padding (1 on the border, 0 inside).

Example::

    conditioner: {kind: conv, channels: 64, kernel: 3}
    conditioner: {kind: conv, channels: 512, actnorm: true, edge_bias: true}   # Glow's code
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from flowspec.conditioners._image import ImageConditionerSpec
from flowspec.core.example import Example
from flowspec.core.ports import PortInfo

if TYPE_CHECKING:
    from flowspec.layers.conditioners.conv import ConvNet

__all__ = ["ConvSpec"]


class ConvSpec(ImageConditionerSpec):
    """Convolution, 1x1 convolution, zero-initialised convolution (Glow's NN)."""

    kind: Literal["conv"] = "conv"
    actnorm: bool = Field(
        default=False,
        description="As Glow's code: no biases; an actnorm after each hidden convolution, a "
        "learned per-channel shift and scale exp(3 s) after the output convolution.",
    )
    edge_bias: bool = Field(
        default=False,
        description="As Glow's code: the kernel x kernel convolutions see one more input "
        "channel, 1 on their zero padding and 0 inside.",
    )
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
        Example(
            {"channels": 4, "actnorm": True, "edge_bias": True},
            (PortInfo((2, 3, 3)),),
            role="coupling",
            host={"mask": "channel"},
            label="as Glow's code",
        ),
    )

    def body_parameter_count(self, in_channels: int, out_channels: int) -> int:
        k, width, glow = self.kernel, self.channels, (self.edge_bias, self.actnorm)
        return (
            self.conv_parameter_count(in_channels, width, k, *glow)
            + self.conv_parameter_count(width, width, 1, *glow)
            + self.conv_parameter_count(width, out_channels, k, *glow)
        )

    def body(self, in_channels: int, out_channels: int) -> ConvNet:
        from flowspec.layers.conditioners.conv import ConvNet

        return ConvNet(
            in_channels,
            self.channels,
            out_channels,
            self.kernel,
            self.activation,
            self.actnorm,
            self.edge_bias,
        )

    def describe(self) -> str:
        glow = " actnorm" * self.actnorm + " edge-bias" * self.edge_bias
        return f"conv {self.channels}ch k{self.kernel} {self.activation}{glow}"
