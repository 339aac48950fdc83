"""Abs: the absolute-value surjection, the sign modelled by a classifier or a fair coin.

SurVAE flows (Nielsen et al. 2020, "SurVAE Flows: Surjections to Bridge the Gap between
VAEs and Flows", arXiv:2007.02731, section 4.1). Inference is deterministic and two-to-one
per element: ``z = |x|``; generation draws the sign ``s ~ p(s | z)`` and returns
``x = s z``. Since ``p(x) = p(z) p(s | z)`` for ``x != 0``, the contribution

    log p(s | z)

is exact. ``sign: fair`` fixes ``p(s = +1 | z) = 1/2`` (contribution ``-D log 2``), which
makes the density symmetric under every sign flip; a Bernoulli classifier learns where the
data is not symmetric.

Example::

    fold: {kind: abs, in: x, sign: {kind: bernoulli, net: {kind: mlp, hidden: [32]}}}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from flowspec.core.example import Example
from flowspec.core.node import NodeCheck
from flowspec.core.ports import PortInfo, Support
from flowspec.densities.choice import DensityChoice, kind_default
from flowspec.nodes._checks import check_continuous
from flowspec.nodes._uses_densities import UsesDensities

if TYPE_CHECKING:
    from flowspec.layers.abs import Abs

__all__ = ["AbsSpec"]


class AbsSpec(UsesDensities):
    """z = |x| elementwise; the signs get a fair coin or a classifier p(s | z)."""

    kind: Literal["abs"] = "abs"
    sign: Literal["fair"] | Annotated[DensityChoice, kind_default("bernoulli")] = Field(
        default="fair",
        description="How the signs are modelled given |x|: 'fair' (each sign +/- with "
        "probability 1/2) or a density over {0, 1} per element, e.g. {kind: bernoulli}.",
    )
    summary = "abs surjection: z = |x|, s ~ p(s | z) in generation"
    reference = "Nielsen et al. 2020, SurVAE Flows, arXiv:2007.02731"
    contribution = "log p(sign(x) | z)"
    bijective = False
    stochastic_inverse = True

    has_parameters = True  # with a sign classifier
    examples = (
        Example({}, (PortInfo((3,)),), label="fair"),
        Example(
            {"sign": {"kind": "bernoulli", "net": {"hidden": [4]}}},
            (PortInfo((2, 2)),),
            label="classifier",
        ),
    )

    def infer(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None, check: NodeCheck
    ) -> tuple[PortInfo, ...] | None:
        (x,) = inputs
        if not check_continuous(x, self.kind, check):
            return None
        if self.sign != "fair" and not self.sign.check_event(_signs(x), check, "sign"):
            return None
        high = max(abs(x.support.low), abs(x.support.high))
        low = (
            0.0
            if x.support.low <= 0.0 <= x.support.high
            else min(abs(x.support.low), abs(x.support.high))
        )
        # |x| of values that do not fill their interval (or of sorted sets) need not fill
        # [low, high] either.
        confined = Support(low, high, partial=x.support.partial, ordered=x.support.ordered)
        return (PortInfo(x.shape, confined),)

    def modelled_by(self) -> str:
        return "a fair coin per sign" if self.sign == "fair" else f"signs ~ {self.sign.describe()}"

    def parameter_count(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> int:
        x = inputs[0]
        return 0 if self.sign == "fair" else self.sign.density_parameter_count(_signs(x), x.numel)

    def build(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> Abs:
        from flowspec.layers.abs import Abs

        x = inputs[0]
        classifier = None if self.sign == "fair" else self.sign.build(_signs(x), x.numel)
        return Abs(x.numel, classifier)


def _signs(x: PortInfo) -> PortInfo:
    """The signs of ``x`` as values in {0, 1} (1: non-negative)."""
    return PortInfo(x.shape, Support(0, 1, levels=2))
