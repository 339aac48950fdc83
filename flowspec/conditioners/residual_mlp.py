"""A fully connected residual network conditioner (its torch module:
:mod:`flowspec.layers.conditioners.residual_mlp`).

Durkan et al. 2019, "Neural Spline Flows", arXiv:1906.04032, and its official code
(https://github.com/bayesiains/nsf, ``nn/resnet.py``: ``ResidualNet``); He et al. 2016,
"Identity Mappings in Deep Residual Networks", arXiv:1603.05027 (pre-activation blocks). A
linear layer lifts the input to ``hidden`` units, ``blocks`` residual blocks
``h + W2 drop(act(W1 act(h)))`` refine them, and a linear read-out that starts at zero
gives the parameters (so a coupling starts as the identity).

Example::

    conditioner: {kind: residual_mlp, hidden: 256, blocks: 2}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from flowspec.conditioners.mlp import MAX_WIDTH, Activation, FlatNetSpec, dense_parameter_count
from flowspec.core.example import Example
from flowspec.core.ports import PortInfo

if TYPE_CHECKING:
    from flowspec.layers.conditioners.residual_mlp import ResidualMLP

__all__ = ["ResidualMLPSpec"]


class ResidualMLPSpec(FlatNetSpec):
    """Linear lift, residual blocks of two linear layers, zero-initialised read-out."""

    kind: Literal["residual_mlp"] = "residual_mlp"
    hidden: int = Field(default=64, gt=0, le=MAX_WIDTH, description="Width of every block.")
    blocks: int = Field(default=2, ge=0, le=64, description="Residual blocks (0 .. 64).")
    activation: Activation = Field(default="relu", description="Activation in the blocks.")
    dropout: float = Field(
        default=0.0,
        ge=0.0,
        lt=1.0,
        description="Dropout probability between a block's two layers while training; 0 "
        "for none. Evaluation is deterministic.",
    )
    roles = frozenset({"coupling", "plain"})
    summary = "fully connected residual network (NSF's ResidualNet)"
    reference = "Durkan et al. 2019, Neural Spline Flows, arXiv:1906.04032"
    examples = (
        Example({"hidden": 8, "blocks": 1}, (PortInfo((4,)),), role="coupling", label="half"),
        Example(
            {"hidden": 6, "blocks": 2, "activation": "tanh", "dropout": 0.1},
            (PortInfo((5,)),),
            PortInfo((2,)),
            role="coupling",
            host={"mask": "alternate"},
            label="context",
        ),
        Example({"hidden": 6}, (PortInfo((3,)), PortInfo((4,))), role="plain", label="plain"),
    )

    def build(self, in_features: int, out_features: int, *, zero_init: bool = True) -> ResidualMLP:
        from flowspec.layers.conditioners.residual_mlp import ResidualMLP

        return ResidualMLP(
            in_features,
            self.hidden,
            out_features,
            self.blocks,
            self.activation,
            self.dropout,
            zero_init,
        )

    def parameter_count(self, in_features: int, out_features: int) -> int:
        """The lift, two ``hidden x hidden`` layers per block and the read-out, with biases."""
        width = self.hidden
        return (
            dense_parameter_count([in_features, width])
            + self.blocks * 2 * dense_parameter_count([width, width])
            + dense_parameter_count([width, out_features])
        )

    def describe(self) -> str:
        dropout = f" dropout {self.dropout:g}" if self.dropout else ""
        return f"residual mlp {self.hidden} x{self.blocks} {self.activation}{dropout}"
