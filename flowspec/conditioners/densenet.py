"""A densely connected convolutional conditioner for couplings on images (its torch module:
:mod:`flowspec.layers.conditioners.densenet`).

Huang et al. 2017, "Densely Connected Convolutional Networks", arXiv:1608.06993: each dense
layer (a 1x1 convolution keeping the width, then a ``kernel x kernel`` convolution to
``growth`` new feature maps, each followed by the activation, with optional dropout between
them) sees every feature map before it and adds its own to them. Two flows use it as their
coupling network, in two forms, both ending in a convolution that starts at zero (the
coupling starts at the identity):

- ``blocks: 0``, Hoogeboom et al. 2019, "Integer Discrete Flows and Lossless Compression",
  arXiv:1905.07376 (official code ``models/networks.py``, ``nn_type='densenet'``): one dense
  block on the input itself whose ``depth`` layers add ``channels`` feature maps in total,
  then a ``out_kernel x out_kernel`` convolution (3 there);
- ``blocks: 1`` or more, Nielsen et al. 2020, "SurVAE Flows", arXiv:2007.02731 (official
  code ``survae/nn/nets/matching/densenet.py``): a 1x1 convolution to ``channels`` maps,
  ``blocks`` residual dense blocks ``h + t(dense layers(h))`` whose transition ``t`` is a 1x1
  convolution back to ``channels`` maps (``gated``: ``a + b sigmoid(c)`` of three such
  convolutions, as the code's ``gated_conv``), then a ``out_kernel`` convolution (1 there).

Without ``growth`` the layers of a block add ``channels`` maps in total, as evenly as they
divide (the later layers one more: IDF's code); with it each layer adds ``growth``.

Example::

    conditioner: {kind: densenet, channels: 512, depth: 12}                  # IDF's code
    conditioner: {kind: densenet, channels: 64, depth: 10, growth: 64, blocks: 1,
                  gated: true, out_kernel: 1}                                  # SurVAE's code
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from flowspec.conditioners._image import ImageConditionerSpec
from flowspec.core.example import Example
from flowspec.core.ports import PortInfo
from flowspec.nodes._checks import check_unused_settings

if TYPE_CHECKING:
    from flowspec.core.node import NodeCheck
    from flowspec.layers.conditioners.densenet import DenseNet

__all__ = ["DenseNetSpec", "layer_growths"]


def layer_growths(total: int, depth: int) -> list[int]:
    """The feature maps each of ``depth`` layers adds when they add ``total`` together, as
    evenly as they divide, the remainder going to the last layers (IDF's ``DenseBlock``).

    >>> layer_growths(512, 12)
    [42, 42, 42, 42, 43, 43, 43, 43, 43, 43, 43, 43]
    """
    return [total // depth + (d >= depth - total % depth) for d in range(depth)]


class DenseNetSpec(ImageConditionerSpec):
    """Dense blocks (residual in SurVAE's form), zero-initialised convolution out."""

    kind: Literal["densenet"] = "densenet"
    channels: int = Field(
        default=64,
        gt=0,
        le=4096,
        description="blocks: 0, the feature maps the dense layers add to the input in total "
        "(IDF's n_channels); blocks >= 1, the width of the stream the residual dense blocks "
        "refine (SurVAE's mid_channels).",
    )
    depth: int = Field(default=8, ge=1, le=64, description="Dense layers per block.")
    growth: int | None = Field(
        default=None,
        gt=0,
        le=4096,
        description="Feature maps each dense layer adds; unset, the layers of a block add "
        "'channels' in total (IDF's code).",
    )
    blocks: int = Field(
        default=0,
        ge=0,
        le=16,
        description="Residual dense blocks on a 'channels'-wide stream (SurVAE's code); 0, one "
        "dense block on the input itself (IDF's code).",
    )
    dropout: float = Field(
        default=0.0,
        ge=0.0,
        lt=1.0,
        description="Dropout probability between the two convolutions of each dense layer "
        "while training; 0 for none.",
    )
    gated: bool = Field(
        default=False,
        description="Each residual block's transition is a gated 1x1 convolution a + b "
        "sigmoid(c) (SurVAE's gated_conv; needs blocks >= 1).",
    )
    out_kernel: int = Field(
        default=3,
        ge=1,
        le=15,
        description="Side of the last, zero-initialised convolution's kernel (odd): 3 in "
        "IDF's code, 1 in SurVAE's.",
    )
    summary = "DenseNet: dense blocks (IDF's, or SurVAE's residual ones), zero-initialised conv"
    reference = "Huang et al. 2017, Densely Connected Convolutional Networks, arXiv:1608.06993"
    examples = (
        Example(
            {"channels": 4, "depth": 3},
            (PortInfo((2, 2, 2)),),
            role="coupling",
            host={"mask": "channel"},
            label="IDF's form",
        ),
        Example(
            {
                "channels": 4,
                "depth": 2,
                "growth": 3,
                "blocks": 2,
                "gated": True,
                "dropout": 0.1,
                "out_kernel": 1,
            },
            (PortInfo((2, 2, 2)),),
            PortInfo((1, 2, 2)),
            role="coupling",
            host={"mask": "checkerboard"},
            label="SurVAE's form, image context",
        ),
    )

    def check_static(self, check: NodeCheck, *field: str | int) -> None:
        super().check_static(check, *field)
        self.check_odd("out_kernel", self.out_kernel, check, *field)
        if self.growth is None and self.channels < self.depth:
            check.error(
                "E667",
                f"{self.depth} dense layers cannot add {self.channels} feature maps in total: "
                "each adds at least one",
                *field,
                "depth",
                hint=f"use depth: {self.channels} or fewer, or give growth",
            )
        if self.blocks == 0:
            check_unused_settings(
                self,
                ("gated",),
                "with blocks: 0 there is no residual block whose transition it gates",
                check,
                *field,
            )
            if self.growth is not None:
                check_unused_settings(
                    self,
                    ("channels",),
                    "with blocks: 0 and growth set, the dense layers add depth x growth maps",
                    check,
                    *field,
                )

    def growths(self) -> list[int]:
        """The feature maps each dense layer of a block adds."""
        if self.growth is not None:
            return [self.growth] * self.depth
        return layer_growths(self.channels, self.depth)

    def dense_block_parameter_count(self, in_channels: int) -> int:
        """The dense layers of one block on ``in_channels`` maps."""
        count, width = 0, in_channels
        for growth in self.growths():
            count += self.conv_parameter_count(width, width, 1)
            count += self.conv_parameter_count(width, growth, self.kernel)
            width += growth
        return count

    def body_parameter_count(self, in_channels: int, out_channels: int) -> int:
        added = sum(self.growths())
        if self.blocks == 0:
            return self.dense_block_parameter_count(in_channels) + self.conv_parameter_count(
                in_channels + added, out_channels, self.out_kernel
            )
        width, gates = self.channels, 3 if self.gated else 1
        block = self.dense_block_parameter_count(width) + self.conv_parameter_count(
            width + added, gates * width, 1
        )
        return (
            self.conv_parameter_count(in_channels, width, 1)
            + self.blocks * block
            + self.conv_parameter_count(width, out_channels, self.out_kernel)
        )

    def body(self, in_channels: int, out_channels: int) -> DenseNet:
        from flowspec.layers.conditioners.densenet import DenseNet

        return DenseNet(
            in_channels,
            out_channels,
            self.growths(),
            width=self.channels if self.blocks else None,
            blocks=self.blocks,
            kernel=self.kernel,
            out_kernel=self.out_kernel,
            activation=self.activation,
            dropout=self.dropout,
            gated=self.gated,
        )

    def describe(self) -> str:
        growth = f" growth {self.growth}" if self.growth is not None else ""
        form = f" x{self.blocks} residual{' gated' * self.gated}" if self.blocks else ""
        dropout = f" dropout {self.dropout:g}" if self.dropout else ""
        return (
            f"densenet {self.channels}ch depth {self.depth}{growth}{form} k{self.kernel}"
            f"/{self.out_kernel} {self.activation}{dropout}"
        )
