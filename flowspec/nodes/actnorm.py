"""Activation normalization (Glow's actnorm).

Kingma and Dhariwal, "Glow: Generative Flow with Invertible 1x1 Convolutions", NeurIPS 2018,
arXiv:1807.03039, Sec. 3.1.

Per feature ``c`` (event axis 0): ``z = (x + bias_c) * exp(log_scale_c)``, so
``log|det dz/dx| = positions * sum_c log_scale_c`` where ``positions`` is the number of
elements per feature (``H * W`` for ``[C, H, W]``, 1 for ``[D]``). With ``data_init`` the
first inference batch sets ``bias = -mean`` and ``log_scale = -log(std + eps)`` per
feature, so that batch comes out with zero mean and unit variance.

Example::

    {kind: actnorm}
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
    from flowspec.layers.actnorm import ActNorm

__all__ = ["ActNormSpec"]


class ActNormSpec(NodeSpec):
    """Per-feature affine map with data-dependent initialisation (Glow actnorm)."""

    kind: Literal["actnorm"] = "actnorm"
    eps: PositiveFloat = Field(
        default=1e-6, description="Added to the batch std in the data-dependent initialisation."
    )
    data_init: bool = Field(
        default=True,
        description="Initialise bias and scale from the first inference batch so it comes "
        "out with zero mean and unit variance per feature; when false, start at the identity.",
    )
    summary = "Glow actnorm: per-feature z = (x + b) * exp(s), data-dependent init"
    reference = (
        "Kingma and Dhariwal 2018, Glow: Generative Flow with Invertible 1x1 Convolutions, "
        "arXiv:1807.03039"
    )
    contribution = "positions * sum(log_scale)"

    has_parameters = True
    examples = (
        Example({}, (PortInfo((3,)),), label="flat"),
        Example({"data_init": False}, (PortInfo((2, 2, 2)),), label="image"),
    )

    def check_static(self, check: NodeCheck) -> None:
        """eps only enters the data-dependent initialisation: without it, it is ignored."""
        if not self.data_init and "eps" in self.model_fields_set:
            check.warning(
                "W430",
                "eps is ignored when data_init is false (it only enters the data-dependent "
                "initialisation)",
                "eps",
                hint="remove 'eps', or set data_init: true",
            )

    def infer(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None, check: NodeCheck
    ) -> tuple[PortInfo, ...] | None:
        return learned_feature_map(inputs[0], self.kind, check)

    def parameter_count(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> int:
        """A bias and a log-scale per feature."""
        return 2 * inputs[0].shape[0]

    def build(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> ActNorm:
        from flowspec.layers.actnorm import ActNorm

        shape = inputs[0].shape
        return ActNorm(shape[0], len(shape), math.prod(shape[1:]), self.eps, self.data_init)
