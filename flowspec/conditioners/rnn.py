"""A recurrent network over the features as an autoregressive conditioner (TAN-like).

Oliva et al. 2018, "Transformation Autoregressive Networks", arXiv:1801.09819; the GRU of
Cho et al. 2014, arXiv:1406.1078.

A GRU reads the flattened features one at a time; its state after ``x_<i`` (started from
the context, or zero) gives feature ``i``'s parameters through a linear read-out that
starts at zero. The recurrence is written as an unrolled cell, so ``torch.compile`` captures
it as one graph; any number of features, with a fixed number of weights.

Example::

    conditioner: {kind: rnn, hidden: 64, order: reversed}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from flowspec.conditioners._sequence import SequenceConditionerSpec
from flowspec.conditioners.mlp import MAX_WIDTH, dense_parameter_count
from flowspec.core.example import Example
from flowspec.core.ports import PortInfo

if TYPE_CHECKING:
    from flowspec.layers.conditioners.rnn import RNNConditioner

__all__ = ["RNNSpec"]


class RNNSpec(SequenceConditionerSpec):
    """A GRU over the features in order; its state gives the next feature's parameters."""

    kind: Literal["rnn"] = "rnn"
    hidden: int = Field(default=64, gt=0, le=MAX_WIDTH, description="GRU state size.")
    summary = "a GRU over the features in order; its state gives the next one's parameters"
    reference = "Oliva et al. 2018, Transformation Autoregressive Networks, arXiv:1801.09819"
    examples = (
        Example({"hidden": 8}, (PortInfo((5,)),), role="autoregressive", label="flat"),
        Example(
            {"hidden": 8, "order": "reversed"},
            (PortInfo((1, 2, 3)),),
            PortInfo((2,)),
            role="autoregressive",
            label="reversed image",
        ),
    )

    def autoregressive_parameter_count(
        self, shape: tuple[int, ...], params: int, context_shape: tuple[int, ...] | None
    ) -> int:
        """The GRU's input and state gates, the initial state from the context and the
        read-out, whatever the number of features."""
        hidden, context = self.hidden, self.context_features(context_shape)
        gates = dense_parameter_count([1, 3 * hidden]) + dense_parameter_count([hidden, 3 * hidden])
        initial = dense_parameter_count([context, hidden]) if context else 0
        return gates + initial + dense_parameter_count([hidden, params])

    def build_autoregressive(
        self, shape: tuple[int, ...], params: int, context_shape: tuple[int, ...] | None
    ) -> RNNConditioner:
        from flowspec.layers.conditioners.rnn import RNNConditioner

        return RNNConditioner(
            list(shape),
            self.order == "reversed",
            self.hidden,
            params,
            self.context_features(context_shape),
        )

    def describe(self) -> str:
        return f"rnn gru {self.hidden}, {self.order} order"
