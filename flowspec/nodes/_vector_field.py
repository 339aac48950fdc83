"""The vector field ``f(t, y)`` of a continuous normalizing flow, chosen by ``kind``: any
plain network (an ``mlp`` of ``[t, y]`` on the example flattened), or FFJORD's
convolutional field ``conv`` on images ``[C, H, W]`` (the torch module:
:mod:`flowspec.layers._vector_field`).

Grathwohl et al., "FFJORD", ICLR 2019, arXiv:1810.01367, Sec. 5 and App. B: on images the
dynamics are convolutions with 'same' padding whose every layer sees the time as one more
input channel (the official code's ``ConcatConv2d``), softplus between them; MNIST's
multi-scale model uses hidden widths ``64, 64, 64`` and 3x3 kernels. A flat context of C
features enters an ``mlp`` field as C more inputs, ``net([t, y, c])``, and a ``conv`` field
as a linear map of it added to the first layer's channels, broadcast over the pixels.
"""

from __future__ import annotations

from itertools import pairwise
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from flowspec.conditioners.mlp import MAX_WIDTH, Activation
from flowspec.core.registry import conditioner_kinds, kind_union
from flowspec.nodes._iterative import check_conv_input

if TYPE_CHECKING:
    from flowspec.core.node import NodeCheck
    from flowspec.layers._vector_field import ConcatConvField

__all__ = ["ConcatConvFieldSpec", "VectorField"]


class ConcatConvFieldSpec(BaseModel):
    """Convolutions ``C -> channels -> ... -> C`` with the time as an extra input channel of
    every layer; the last one starts at zero, so the flow starts at the identity."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, allow_inf_nan=False)

    kind: Literal["conv"] = "conv"
    channels: list[Annotated[int, Field(gt=0, le=MAX_WIDTH)]] = Field(
        default=[64, 64, 64], description="Channels of the hidden feature maps, layer by layer."
    )
    kernel: int = Field(
        default=3, ge=1, le=15, description="Side of the square kernels (odd: 'same' padding)."
    )
    activation: Activation = Field(
        default="softplus", description="Activation between layers (smooth: adaptive solvers)."
    )

    def check_static(self, check: NodeCheck) -> None:
        if self.kernel % 2 == 0:
            check.error(
                "E657",
                f"kernel {self.kernel} is even: 'same' padding needs an odd kernel",
                "net",
                "kernel",
                hint=f"use kernel: {self.kernel + 1} or {self.kernel - 1}",
            )

    def check_shape(self, shape: tuple[int, ...], check: NodeCheck) -> bool:
        return check_conv_input(shape, check)

    def parameter_count(self, shape: tuple[int, ...], context_features: int = 0) -> int:
        widths = [shape[0], *self.channels, shape[0]]
        k = self.kernel
        convs = sum((a + 1) * b * k * k + b for a, b in pairwise(widths))
        return convs + widths[1] * context_features

    def build(self, shape: tuple[int, ...], context_features: int = 0) -> ConcatConvField:
        from flowspec.layers._vector_field import ConcatConvField

        return ConcatConvField(
            shape[0], list(self.channels), self.kernel, self.activation, context_features
        )


def _fields() -> dict[str, type[BaseModel]]:
    plain = {name: cls for name, cls in conditioner_kinds().items() if "plain" in cls.roles}
    return {**plain, "conv": ConcatConvFieldSpec}


#: A CNF's vector field; without ``kind`` it is an mlp.
VectorField = kind_union(_fields(), default="mlp")
