"""Max-pool: keep each window's maximum, model the rest with a decoder.

The max-pooling surjection of SurVAE flows (Nielsen et al. 2020, "SurVAE Flows:
Surjections to Bridge the Gap between VAEs and Flows", arXiv:2007.02731, section 4.1).
Inference takes ``z`` = the maximum of each ``size x size`` window of an image
``[C, H, W]``. A window ``x`` is, one-to-one (ties have probability zero), its maximum
``z``, the position ``i`` of the maximum and the ``size^2 - 1`` gaps ``d = z - x_j > 0`` of
the other values in position order. The position is uniform and the gaps are modelled by
a decoder density over ``v = log d`` given the pooled image, so

    log p(x | z) = -numel(z) log(size^2) + log p(v | z) - sum(v)

(``-sum(v)`` is ``log |dv/dd|``) is exact when the decoder is. (Ties have probability zero
but occur in floating point; gaps are floored at the dtype's eps so they stay finite.) Generation draws the
positions and gaps and places ``z`` and ``z - exp(v)`` in each window.

Example::

    pool: {kind: max_pool, in: image, size: 2, decoder: {kind: gaussian, net: {kind: mlp, hidden: [128]}}}
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from flowspec.core.example import Example
from flowspec.core.node import NodeCheck
from flowspec.core.ports import PortInfo, Support
from flowspec.densities.choice import DensityChoice, kind_default
from flowspec.nodes._checks import check_continuous
from flowspec.nodes._uses_densities import UsesDensities, check_decoder

if TYPE_CHECKING:
    from flowspec.layers.max_pool import MaxPool

__all__ = ["MaxPoolSpec"]


class MaxPoolSpec(UsesDensities):
    """[C, H, W] -> [C, H/size, W/size], the window maxima; the other values get a decoder."""

    kind: Literal["max_pool"] = "max_pool"
    size: int = Field(
        default=2, ge=2, le=16, description="Window side (H and W must divide by it)."
    )
    decoder: Annotated[DensityChoice, kind_default("gaussian")] = Field(
        default_factory=lambda: {"kind": "gaussian"},
        description="Density of the log-gaps log(max - x_j) of the non-maximal values of "
        "every window, given the flattened pooled image.",
        validate_default=True,
    )
    summary = "SurVAE max-pool: z = window maxima, the rest ~ p(x | z) in generation"
    reference = "Nielsen et al. 2020, SurVAE Flows, arXiv:2007.02731"
    contribution = "-D_z log(size^2) + log p(log gaps | z) - sum log gaps"
    bijective = False
    stochastic_inverse = True

    has_parameters = True
    examples = (
        Example({"decoder": {"net": {"hidden": [4]}}}, (PortInfo((1, 2, 2)),), label="real"),
        Example(
            {"decoder": {"kind": "gaussian", "net": {"hidden": [4]}, "min_scale": 0.01}},
            (PortInfo((2, 2, 4), Support(0.0, 1.0)),),
            label="bounded",
        ),
    )

    def infer(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None, check: NodeCheck
    ) -> tuple[PortInfo, ...] | None:
        (x,) = inputs
        if len(x.shape) != 3 or x.shape[1] % self.size or x.shape[2] % self.size:
            check.error(
                "E810",
                f"max_pool needs an image [C, H, W] with H and W divisible by size "
                f"{self.size}, got {x}",
                "in",
                hint="reshape the input, e.g. {kind: reshape, shape: [1, 8, 8]}, or change size",
            )
            return None
        if not check_continuous(x, self.kind, check):
            return None
        if not check_decoder(self.decoder, self._gaps(x), check, "decoder"):
            return None
        c, h, w = x.shape
        return (x.with_shape((c, h // self.size, w // self.size)),)

    def _gaps(self, x: PortInfo) -> PortInfo:
        """The log-gaps ``log(max - x_j)``: anywhere on the real line for values unbounded
        below; for values above ``low`` each gap is below ``max - low``, so a decoder on
        the whole line puts mass on values below ``low`` (W800), as for confined values."""
        pooled = x.numel // self.size**2
        low, high = x.support.low, x.support.high
        confined = x.support.partial or x.support.ordered or math.isfinite(low)
        top = math.log(high - low) if math.isfinite(low) and math.isfinite(high) else math.inf
        return PortInfo((pooled * (self.size**2 - 1),), Support(high=top, partial=confined))

    def modelled_by(self) -> str:
        return f"uniform argmax position, log-gaps ~ {self.decoder.describe()}"

    def parameter_count(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> int:
        x = inputs[0]
        return self.decoder.density_parameter_count(self._gaps(x), x.numel // self.size**2)

    def build(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> MaxPool:
        from flowspec.layers.max_pool import MaxPool

        x = inputs[0]
        return MaxPool(self.size, self.decoder.build(self._gaps(x), x.numel // self.size**2))
