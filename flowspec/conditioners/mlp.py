"""A multilayer perceptron conditioner (its torch module: :mod:`flowspec.layers.conditioners.mlp`).

In a coupling layer it maps the kept features (and a flat context) to the parameters of
the transformed ones (Dinh et al. 2016, RealNVP, arXiv:1605.08803); as a plain network it
parameterizes decoders, encoders and conditional base distributions.

Example::

    conditioner: {kind: mlp, hidden: [64, 64], activation: relu}
    conditioner: {kind: mlp, hidden: [256, 256], dropout: 0.2}   # regularises small data sets

Dropout (Srivastava et al. 2014, JMLR 15) only changes the conditioner's outputs while the
model trains: every sampled sub-network is still a valid conditioner, so each training step's
log-likelihood is exact for the flow it samples; ``model.eval()`` turns it off.
"""

from __future__ import annotations

from itertools import pairwise
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from flowspec.conditioners.base import ConditionerSpec
from flowspec.core.example import Example
from flowspec.core.ports import PortInfo, numel
from flowspec.nodes._checks import check_unused_settings

if TYPE_CHECKING:
    from torch import nn

    from flowspec.core.node import NodeCheck
    from flowspec.layers.conditioners.mlp import MLP, FlatConditioner

__all__ = ["FlatNetSpec", "MLPSpec", "Activation", "MAX_WIDTH", "dense_parameter_count"]

#: The widest hidden layer (a 65536 x 65536 layer already holds 4 G weights).
MAX_WIDTH = 65536

#: The activations a network may use between layers.
Activation = Literal["relu", "leaky_relu", "elu", "gelu", "silu", "tanh", "softplus"]


def dense_parameter_count(sizes: list[int]) -> int:
    """The weights and biases of fully connected layers of these widths (input first)."""
    return sum(fan_in * fan_out + fan_out for fan_in, fan_out in pairwise(sizes))


class FlatNetSpec(ConditionerSpec):
    """A flat network: in a coupling it sees the flattened kept part and a flat context."""

    def build(self, in_features: int, out_features: int, *, zero_init: bool = True) -> nn.Module:
        """The network ``in_features -> out_features`` (its last layer at zero when
        ``zero_init``)."""
        raise NotImplementedError

    def parameter_count(self, in_features: int, out_features: int) -> int:
        """How many learned parameters :meth:`build` creates."""
        raise NotImplementedError

    def check_coupling(
        self,
        kept: tuple[int, ...],
        changed: tuple[int, ...],
        context: PortInfo | None,
        check: NodeCheck,
        *field: str | int,
    ) -> bool:
        return self.check_flat_context(context, check)

    def coupling_parameter_count(
        self,
        kept: tuple[int, ...],
        changed: tuple[int, ...],
        params: int,
        context_shape: tuple[int, ...] | None,
    ) -> int:
        context = numel(context_shape) if context_shape else 0
        return self.parameter_count(numel(kept) + context, numel(changed) * params)

    def build_coupling(
        self,
        kept: tuple[int, ...],
        changed: tuple[int, ...],
        params: int,
        context_shape: tuple[int, ...] | None,
    ) -> FlatConditioner:
        from flowspec.layers.conditioners.mlp import FlatConditioner

        context = numel(context_shape) if context_shape else 0
        net = self.build(numel(kept) + context, numel(changed) * params)
        return FlatConditioner(net, list(changed), params)


class MLPSpec(FlatNetSpec):
    """Fully connected layers with the given hidden sizes and activation."""

    kind: Literal["mlp"] = "mlp"
    hidden: list[Annotated[int, Field(gt=0, le=MAX_WIDTH)]] = Field(
        default=[64, 64], description=f"Hidden layer sizes (each 1 .. {MAX_WIDTH})."
    )
    activation: Activation = Field(default="relu", description="Activation between layers.")
    dropout: float = Field(
        default=0.0,
        ge=0.0,
        lt=1.0,
        description="Dropout probability after each hidden activation while training "
        "(Srivastava et al. 2014); 0 for none. Evaluation is deterministic.",
    )
    roles = frozenset({"coupling", "plain"})
    summary = "fully connected layers from the kept features (and a flat context)"
    reference = "Dinh et al. 2016, Density estimation using Real NVP, arXiv:1605.08803"
    examples = (
        Example({"hidden": [8]}, (PortInfo((4,)),), role="coupling", label="half"),
        Example(
            {"hidden": [8], "activation": "tanh", "dropout": 0.1},
            (PortInfo((5,)),),
            PortInfo((2,)),
            role="coupling",
            host={"mask": "alternate"},
            label="context",
        ),
        Example(
            {"hidden": [8]},
            (PortInfo((2, 1, 2)),),
            role="coupling",
            host={"mask": "channel"},
            label="image",
        ),
        Example({"hidden": [6]}, (PortInfo((3,)), PortInfo((4,))), role="plain", label="plain"),
    )

    def check_static(self, check: NodeCheck, *field: str | int) -> None:
        if not self.hidden:
            check_unused_settings(
                self,
                ("activation", "dropout"),
                "with hidden: [] the net is one linear layer, with no activation after it",
                check,
                *field,
            )

    def build(self, in_features: int, out_features: int, *, zero_init: bool = True) -> MLP:
        from flowspec.layers.conditioners.mlp import MLP

        return MLP(
            in_features, list(self.hidden), out_features, self.activation, zero_init, self.dropout
        )

    def parameter_count(self, in_features: int, out_features: int) -> int:
        """A weight matrix and a bias per linear layer."""
        return dense_parameter_count([in_features, *self.hidden, out_features])

    def describe(self) -> str:
        dropout = f" dropout {self.dropout:g}" if self.dropout else ""
        return f"mlp {'x'.join(map(str, self.hidden)) or 'linear'} {self.activation}{dropout}"
