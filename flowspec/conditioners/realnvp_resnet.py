"""Real NVP's ResNet conditioner: batch and weight normalisation, skip connections (its torch
module: :mod:`flowspec.layers.conditioners.realnvp_resnet`).

Dinh, Sohl-Dickstein and Bengio 2016, "Density estimation using Real NVP",
arXiv:1605.08803, Sec. 3.7 and Appendix C: the scale and shift of each coupling come from a
deep residual network with batch normalisation (Ioffe and Szegedy 2015, arXiv:1502.03167)
and weight normalisation (Salimans and Kingma 2016, arXiv:1602.07868), laid out as the
official code's ``resnet`` (tensorflow/models, research/real_nvp) and its well-known PyTorch
reimplementation (chrischute/real-nvp, ``models/resnet``) build it:

- the kept values are batch-normalised and fed as ``act([h, -h])`` (twice the channels, so
  a rectifier drops no sign) to a ``kernel x kernel`` convolution lifting them to
  ``channels`` feature maps;
- ``blocks`` residual blocks ``h + conv(act(bn(conv(act(bn(h))))))``;
- a skip connection from the lift and from every block: a 1x1 convolution of each, summed;
- the sum is batch-normalised, activated and mapped by a 1x1 convolution, whose weight
  norm's gain and bias start at zero (the coupling starts as the identity).

``act`` is ``activation``, a relu as in the paper unless set.

Every convolution is weight-normalised (``w = g v / |v|`` per output channel). Batch
normalisation makes the conditioner depend on the batch while training (in evaluation it
uses running averages); the coupling stays invertible either way, since the conditioner only
sees the values the coupling keeps.

Example::

    conditioner: {kind: realnvp_resnet, channels: 64, blocks: 8}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from flowspec.conditioners._image import ImageConditionerSpec
from flowspec.core.example import Example
from flowspec.core.ports import PortInfo

if TYPE_CHECKING:
    from flowspec.layers.conditioners.realnvp_resnet import RealNVPResNet

__all__ = ["RealNVPResNetSpec"]


class RealNVPResNetSpec(ImageConditionerSpec):
    """Real NVP's weight- and batch-normalised ResNet with skip connections."""

    kind: Literal["realnvp_resnet"] = "realnvp_resnet"
    blocks: int = Field(default=8, ge=0, le=64, description="Residual blocks (0 .. 64).")
    summary = "Real NVP's ResNet: batch and weight norm, residual blocks, 1x1 skip connections"
    reference = "Dinh et al. 2016, Density estimation using Real NVP, arXiv:1605.08803"
    examples = (
        Example(
            {"channels": 4, "blocks": 1},
            (PortInfo((3, 2, 2)),),
            role="coupling",
            host={"mask": "checkerboard"},
        ),
        Example(
            {"channels": 4, "blocks": 2, "activation": "elu"},
            (PortInfo((4, 2, 2)),),
            PortInfo((2,)),
            role="coupling",
            host={"mask": "channel"},
            label="flat context",
        ),
    )

    def body_parameter_count(self, in_channels: int, out_channels: int) -> int:
        k, width = self.kernel, self.channels
        norm = 2 * width  # a batch norm's scale and shift
        # A weight-normalised convolution: its direction, gain (one per output) and bias.
        lift = self.conv_parameter_count(2 * in_channels, width, k) + width
        skip = self.conv_parameter_count(width, width, 1) + width
        block = 2 * norm + 2 * (width * width * k * k + width) + width + skip
        head = norm + self.conv_parameter_count(width, out_channels, 1) + out_channels
        return 2 * in_channels + lift + skip + self.blocks * block + head

    def body(self, in_channels: int, out_channels: int) -> RealNVPResNet:
        from flowspec.layers.conditioners.realnvp_resnet import RealNVPResNet

        return RealNVPResNet(
            in_channels, self.channels, out_channels, self.blocks, self.kernel, self.activation
        )

    def describe(self) -> str:
        return f"realnvp_resnet {self.channels}ch x{self.blocks} k{self.kernel} {self.activation}"
