"""The residual branch ``g`` of an invertible residual block, chosen by ``kind``: a fully
connected ``mlp`` on flat vectors (or any event flattened per example), or a
convolutional ``conv`` net on images ``[C, H, W]``, its linear maps spectrally normalised
(the torch modules: :mod:`flowspec.layers._lipschitz_nets`). Given a flat context of C
features, either adds a free linear map of it to its first layer's outputs (C times their
width parameters): ``g(x; c)``, still ``lipschitz``-bounded in ``x`` for every ``c``.

Behrmann et al., "Invertible Residual Networks", ICML 2019, arXiv:1811.00995; Chen et al.,
"Residual Flows for Invertible Generative Modeling", NeurIPS 2019, arXiv:1906.02735: their
image blocks are ``conv 3x3 -> LipSwish -> conv 1x1 -> LipSwish -> conv 3x3`` of 512
hidden channels (``kernels: [3, 1, 3]``), pre-activated (``preact: true``) after the first
block. LipSwish, ``x sigmoid(beta x) / 1.1`` with a learned ``beta > 0`` (one parameter per
activation), is 1-Lipschitz and smooth, which the log-det's gradient estimator favours.
"""

from __future__ import annotations

from itertools import pairwise
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from flowspec.conditioners.mlp import MAX_WIDTH, dense_parameter_count
from flowspec.core.ports import numel
from flowspec.core.registry import kind_union
from flowspec.nodes._iterative import check_conv_input

if TYPE_CHECKING:
    from flowspec.core.node import NodeCheck
    from flowspec.layers._lipschitz_nets import SpectralConvNet, SpectralMLP

__all__ = [
    "LIPSCHITZ_ACTIVATIONS",
    "ResidualMLPSpec",
    "ResidualConvSpec",
    "ResidualBranch",
]

#: Activations with Lipschitz constant at most 1 (silu and gelu exceed 1).
LIPSCHITZ_ACTIVATIONS = ("elu", "tanh", "relu", "leaky_relu", "softplus", "lipswish")

#: The activations a branch may name; those outside LIPSCHITZ_ACTIVATIONS are reported
#: (E753) rather than refused by the schema, so the message says why.
BranchActivation = Literal[
    "elu", "tanh", "relu", "leaky_relu", "softplus", "lipswish", "gelu", "silu"
]


class _Branch(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, allow_inf_nan=False)

    activation: BranchActivation = Field(
        default="elu",
        description="Activation between layers: 1-Lipschitz ("
        + ", ".join(LIPSCHITZ_ACTIVATIONS)
        + ").",
    )

    def activation_parameters(self, activations: int) -> int:
        """LipSwish learns one ``beta`` per activation; the others learn nothing."""
        return activations if self.activation == "lipswish" else 0


class ResidualMLPSpec(_Branch):
    """Fully connected layers ``D -> hidden -> D`` on the example flattened."""

    kind: Literal["mlp"] = "mlp"
    hidden: list[Annotated[int, Field(gt=0, le=MAX_WIDTH)]] = Field(
        default=[64, 64], description=f"Hidden layer sizes (each 1 .. {MAX_WIDTH})."
    )
    dropout: float = Field(
        default=0.0,
        ge=0.0,
        lt=1.0,
        description="Not allowed in a residual branch (E760); present so the error says why.",
    )

    def check_shape(self, shape: tuple[int, ...], check: NodeCheck) -> bool:
        """Any event shape: the branch sees each example flattened."""
        return True

    def parameter_count(self, shape: tuple[int, ...], context_features: int = 0) -> int:
        features = numel(shape)
        dense = dense_parameter_count([features, *self.hidden, features])
        first = (self.hidden or [features])[0]
        return dense + first * context_features + self.activation_parameters(len(self.hidden))

    def build(
        self, shape: tuple[int, ...], lipschitz: float, steps: int, context_features: int = 0
    ) -> SpectralMLP:
        from flowspec.layers._lipschitz_nets import SpectralMLP

        return SpectralMLP(
            numel(shape), list(self.hidden), self.activation, lipschitz, steps, context_features
        )


class ResidualConvSpec(_Branch):
    """Convolutions ``C -> channels -> ... -> C`` with 'same' padding on images ``[C, H, W]``,
    each spectrally normalised as an operator on images of that size."""

    kind: Literal["conv"] = "conv"
    channels: int = Field(
        default=64, gt=0, le=MAX_WIDTH, description="Channels of the hidden feature maps."
    )
    kernels: list[Annotated[int, Field(ge=1, le=15)]] = Field(
        default=[3, 1, 3],
        min_length=1,
        description="The side of each convolution's square kernel, first to last (odd: "
        "'same' padding); Residual Flows use [3, 1, 3].",
    )
    preact: bool = Field(
        default=False,
        description="Apply the activation to the block's input first (Residual Flows' "
        "pre-activation, used after the first block).",
    )

    def check_static(self, check: NodeCheck) -> None:
        for index, kernel in enumerate(self.kernels):
            if kernel % 2 == 0:
                check.error(
                    "E657",
                    f"kernel {kernel} is even: 'same' padding needs an odd kernel",
                    "net",
                    "kernels",
                    index,
                    hint=f"use {kernel + 1} or {kernel - 1}",
                )

    def check_shape(self, shape: tuple[int, ...], check: NodeCheck) -> bool:
        return check_conv_input(shape, check)

    def _widths(self, channels: int) -> list[int]:
        return [channels, *[self.channels] * (len(self.kernels) - 1), channels]

    def parameter_count(self, shape: tuple[int, ...], context_features: int = 0) -> int:
        widths = self._widths(shape[0])
        convs = sum(
            a * b * k * k + b for (a, b), k in zip(pairwise(widths), self.kernels, strict=True)
        )
        activations = len(self.kernels) - 1 + int(self.preact)
        return convs + widths[1] * context_features + self.activation_parameters(activations)

    def build(
        self, shape: tuple[int, ...], lipschitz: float, steps: int, context_features: int = 0
    ) -> SpectralConvNet:
        from flowspec.layers._lipschitz_nets import SpectralConvNet

        return SpectralConvNet(
            list(shape),
            self.channels,
            list(self.kernels),
            self.activation,
            self.preact,
            lipschitz,
            steps,
            context_features,
        )


#: A residual branch; without ``kind`` it is an mlp.
ResidualBranch = kind_union({"conv": ResidualConvSpec, "mlp": ResidualMLPSpec}, default="mlp")
