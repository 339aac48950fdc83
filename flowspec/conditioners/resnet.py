"""A small convolutional ResNet conditioner for couplings on images (its torch module:
:mod:`flowspec.layers.conditioners.resnet`).

Dinh et al. 2016, "Density estimation using Real NVP", arXiv:1605.08803 (ResNet
conditioners); He et al. 2016, "Deep Residual Learning", arXiv:1512.03385. A convolution
lifts the kept channels (and context channels, see :mod:`flowspec.conditioners._image`) to
``channels`` feature maps, ``blocks`` residual blocks ``h + conv(act(conv(act(h))))``
refine them, and a last convolution, zero at the start (Kingma and Dhariwal 2018, Glow,
arXiv:1807.03039), gives the parameters of every transformed value.

``batch_norm: true`` puts a batch normalisation (Ioffe and Szegedy 2015, arXiv:1502.03167)
before each activation of the blocks, and ``outer_kernel`` sets the side of the lifting and
the output convolutions apart from the blocks' ``kernel``: with ``outer_kernel: 1`` this is
the ``ConvResidualNet`` of Neural Spline Flows' image experiments (Durkan et al. 2019,
arXiv:1906.04032; bayesiains/nsf ``nn/resnet.py``). Batch normalisation makes the network
depend on the batch while training (running averages in evaluation); a coupling stays
invertible, since its conditioner sees only the values it keeps.

Example::

    conditioner: {kind: resnet, channels: 64, blocks: 2, kernel: 3}
    conditioner: {kind: resnet, channels: 96, blocks: 3, batch_norm: true, outer_kernel: 1}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from flowspec.conditioners._image import ImageConditionerSpec
from flowspec.core.example import Example
from flowspec.core.ports import PortInfo

if TYPE_CHECKING:
    from flowspec.core.node import NodeCheck
    from flowspec.layers.conditioners.resnet import ResNet

__all__ = ["ResNetSpec"]


class ResNetSpec(ImageConditionerSpec):
    """Convolution, residual blocks, zero-initialised convolution."""

    kind: Literal["resnet"] = "resnet"
    blocks: int = Field(default=2, ge=0, le=64, description="Residual blocks (0 .. 64).")
    batch_norm: bool = Field(
        default=False, description="A batch normalisation before each activation of the blocks."
    )
    outer_kernel: int | None = Field(
        default=None,
        ge=1,
        le=15,
        description="Side of the lifting and output convolutions (odd); default: kernel.",
    )
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
        Example(
            {"channels": 4, "blocks": 2, "batch_norm": True, "outer_kernel": 1},
            (PortInfo((4, 3, 3)),),
            role="coupling",
            host={"mask": "channel"},
            label="as Neural Spline Flows' code",
        ),
    )

    @property
    def ends(self) -> int:
        """The side of the lifting and output convolutions."""
        return self.kernel if self.outer_kernel is None else self.outer_kernel

    def check_static(self, check: NodeCheck, *field: str | int) -> None:
        super().check_static(check, *field)
        if self.outer_kernel is not None:
            self.check_odd("outer_kernel", self.outer_kernel, check, *field)

    def body_parameter_count(self, in_channels: int, out_channels: int) -> int:
        k, width = self.kernel, self.channels
        block = 2 * self.conv_parameter_count(width, width, k) + 4 * width * self.batch_norm
        return (
            self.conv_parameter_count(in_channels, width, self.ends)
            + self.blocks * block
            + self.conv_parameter_count(width, out_channels, self.ends)
        )

    def body(self, in_channels: int, out_channels: int) -> ResNet:
        from flowspec.layers.conditioners.resnet import ResNet

        return ResNet(
            in_channels,
            self.channels,
            out_channels,
            self.blocks,
            self.kernel,
            self.activation,
            self.batch_norm,
            self.ends,
        )

    def describe(self) -> str:
        norm = " bn" if self.batch_norm else ""
        ends = f" ends k{self.ends}" if self.ends != self.kernel else ""
        return (
            f"resnet {self.channels}ch x{self.blocks} k{self.kernel}{ends}{norm} {self.activation}"
        )
