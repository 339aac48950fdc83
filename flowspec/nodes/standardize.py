"""Standardisation as part of the model: the data's preprocessing, in the likelihood.

Density estimators are usually fitted to standardised data (the UCI benchmarks of MAF,
Papamakarios, Pavlakou & Murray 2017, arXiv:1705.07057, which follow RNADE's, Uria, Murray
& Larochelle 2013): ``z = (x - mean) / std`` per feature, with the mean and std of the
training split. Done inside the model it is a fixed affine bijection with
``log|det dz/dx| = -positions * sum_c log std_c``, so ``log_prob``, ``sample``, ``eval``
and every plot are in the data's own units, and the statistics travel with the weights
(buffers: checkpoints, standalone files and exported programs hold them).

The statistics are per index of event axis 0 (the features of ``[D]``, the channels of
``[C, H, W]``, pooled over the positions), set by ``model.initialize(x)`` from whatever
reaches the node (``flowspec train`` initialises from the whole training split before the
first step, and a resumed run keeps the checkpoint's). A model whose statistics were never
set refuses ``log_prob`` and ``sample`` (naming the node) rather than use placeholders. A
feature with the same value in every training example (std 0) is an error.

Example::

    pre: {kind: standardize, in: x}
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

from flowspec.core.example import Example
from flowspec.core.node import NodeCheck, NodeSpec
from flowspec.core.ports import PortInfo
from flowspec.nodes._checks import learned_feature_map

if TYPE_CHECKING:
    from flowspec.layers.standardize import Standardize

__all__ = ["StandardizeSpec"]


class StandardizeSpec(NodeSpec):
    """``z = (x - mean) / std`` per feature, statistics from the training data."""

    kind: Literal["standardize"] = "standardize"
    summary = "preprocessing: z = (x - mean) / std per feature, statistics from the training data"
    reference = (
        "Papamakarios, Pavlakou and Murray 2017, Masked Autoregressive Flow for Density "
        "Estimation, arXiv:1705.07057 (the data's standardisation)"
    )
    contribution = "-positions * sum(log std)"
    has_parameters = False
    examples = (
        Example({}, (PortInfo((3,)),), label="features"),
        Example({}, (PortInfo((2, 3, 3)),), label="image"),
    )

    def infer(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None, check: NodeCheck
    ) -> tuple[PortInfo, ...] | None:
        """A feature axis and continuous values (dequantize discrete data first); bounded
        values land on an interval known only once the statistics are, a part of the line."""
        return learned_feature_map(inputs[0], self.kind, check)

    def build(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> Standardize:
        from flowspec.layers.standardize import Standardize

        shape = inputs[0].shape
        return Standardize(shape[0], len(shape), math.prod(shape[1:]))
