"""Batch normalisation as a bijection, with its log-determinant.

Dinh, Sohl-Dickstein and Bengio 2016, "Density estimation using Real NVP", arXiv:1605.08803,
Sec. 3.7 and Appendix E (after Ioffe and Szegedy 2015, arXiv:1502.03167): per feature ``c``
(event axis 0: the features of ``[D]``, the channels of ``[C, H, W]`` pooled over the
positions) ``z = (x - mean_c) / sqrt(var_c + eps)``, so
``log|det dz/dx| = -positions / 2 * sum_c log(var_c + eps)``. It has no learned parameters,
as in the official code (tensorflow/models research/real_nvp, ``batch_norm_log_diff``).

In training mode the mean and variance (biased) are the batch's, gradients flow through them,
and running averages are updated (``running = (1 - momentum) running + momentum batch``); the
contribution is the log-det of each example's map at the batch's statistics, so ``log_prob``
of an example depends on the rest of its batch. In evaluation mode the running averages are
used and left alone: the map is a fixed affine bijection and ``log_prob`` exact. Generation
always uses the running averages (it is the inverse of evaluation-mode inference), so
``train: {memory: invertible}`` keeps this node's input rather than rebuild it
(``checkpoint`` recomputes it).

Example::

    {kind: batch_norm, momentum: 0.05}
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

from pydantic import Field, PositiveFloat

from flowspec.core.example import Example
from flowspec.core.node import NodeCheck, NodeSpec
from flowspec.core.ports import PortInfo
from flowspec.nodes._checks import learned_feature_map

if TYPE_CHECKING:
    from flowspec.layers.batch_norm import BatchNorm

__all__ = ["BatchNormSpec"]


class BatchNormSpec(NodeSpec):
    """``z = (x - mean) / sqrt(var + eps)`` per feature, batch statistics while training."""

    kind: Literal["batch_norm"] = "batch_norm"
    eps: PositiveFloat = Field(default=1e-5, description="Added to the variance.")
    momentum: float = Field(
        default=0.1,
        gt=0.0,
        le=1.0,
        description="Weight of each training batch in the running mean and variance.",
    )
    summary = "batch normalisation bijection: z = (x - mean) / sqrt(var + eps) per feature"
    reference = "Dinh et al. 2016, Density estimation using Real NVP, arXiv:1605.08803"
    contribution = "-positions / 2 * sum(log(var + eps))"
    has_parameters = False
    batch_statistics = True
    examples = (
        Example({}, (PortInfo((3,)),), label="features"),
        Example({"momentum": 0.5}, (PortInfo((2, 2, 3)),), label="image"),
    )

    def infer(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None, check: NodeCheck
    ) -> tuple[PortInfo, ...] | None:
        """A feature axis and continuous values; bounded values land on an interval that
        the statistics decide, a part of the line."""
        return learned_feature_map(inputs[0], self.kind, check)

    def build(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> BatchNorm:
        from flowspec.layers.batch_norm import BatchNorm

        shape = inputs[0].shape
        return BatchNorm(shape[0], len(shape), math.prod(shape[1:]), self.eps, self.momentum)
