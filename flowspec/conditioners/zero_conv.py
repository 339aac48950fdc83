"""One zero-initialised convolution as a coupling conditioner (its torch module:
:mod:`flowspec.layers.conditioners.zero_conv`).

Kingma and Dhariwal 2018, "Glow: Generative Flow with Invertible 1x1 Convolutions",
arXiv:1807.03039, Sec. 3 and the official code (openai/glow ``split2d_prior``,
``tfops.conv2d_zeros``): the prior of the half factored out at each scale is a Gaussian
whose means and log-scales are one ``kernel x kernel`` convolution of the kept half,
``(conv(x) + b) * exp(3 s)`` per output channel, everything starting at zero. As the
conditioner of an affine coupling followed by a standard normal on the changed half it is
that conditional prior: ``z = (x - mu) / sigma`` has log-det ``-log sigma``.
``edge_bias: true`` adds Glow's padding channel (see :mod:`flowspec.conditioners.conv`).

Example::

    conditioner: {kind: zero_conv, kernel: 3, edge_bias: true}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from flowspec.conditioners._image import ConvolutionalSpec
from flowspec.core.example import Example
from flowspec.core.ports import PortInfo

if TYPE_CHECKING:
    from flowspec.layers.conditioners.zero_conv import ZeroConv

__all__ = ["ZeroConvSpec"]


class ZeroConvSpec(ConvolutionalSpec):
    """One zero-initialised convolution with a learned per-channel shift and scale."""

    kind: Literal["zero_conv"] = "zero_conv"
    edge_bias: bool = Field(
        default=False,
        description="As Glow's code: the convolution sees one more input channel, 1 on its "
        "zero padding and 0 inside.",
    )
    summary = "one zero-initialised k x k conv with a learned scale (Glow's split prior)"
    reference = "Kingma and Dhariwal 2018, Glow, arXiv:1807.03039"
    examples = (
        Example({}, (PortInfo((2, 2, 2)),), role="coupling", host={"mask": "channel"}),
        Example(
            {"kernel": 1, "edge_bias": True},
            (PortInfo((1, 2, 3)),),
            PortInfo((2,)),
            role="coupling",
            host={"mask": "checkerboard"},
            label="checkerboard",
        ),
    )

    def body_parameter_count(self, in_channels: int, out_channels: int) -> int:
        return self.conv_parameter_count(
            in_channels, out_channels, self.kernel, self.edge_bias, channel_affine=True
        )

    def body(self, in_channels: int, out_channels: int) -> ZeroConv:
        from flowspec.layers.conditioners.zero_conv import ZeroConv

        return ZeroConv(in_channels, out_channels, self.kernel, self.edge_bias)

    def describe(self) -> str:
        return f"zero conv k{self.kernel}" + " edge-bias" * self.edge_bias
