"""Rounding: the generative surjection ``x = floor(z)`` for ordinal data, seen from the data.

SurVAE flows (Nielsen et al. 2020, "SurVAE Flows: Surjections to Bridge the Gap between
VAEs and Flows", arXiv:2007.02731, section 4.2): generation rounds a continuous ``z`` down,
``x = floor(z)``; inference proposes ``z = x + u`` with ``u`` in ``(0, 1)^D`` drawn from a
learned dequantizer ``q(u | x)``. As in Flow++ (Ho et al. 2019, arXiv:1902.00275),
``u = sigmoid(v)`` with ``v ~ q(v | x)`` a reparameterised density given the (centred)
integers, so

    log q(u | x) = log q(v | x) - sum(log sigmoid(v) + log sigmoid(-v))

and the contribution ``-log q(u | x)`` is a one-sample term of the bound
``log P(x) >= E_q[log p(z) - log q(u | x)]``. The values stay in integer units
(``z`` in ``(0, K)``); :mod:`flowspec.nodes.variational_dequantization` rescales to (0, 1).

Example::

    up: {kind: rounding, in: counts, dequantizer: {kind: gaussian, net: {kind: mlp, hidden: [64]}}}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, ClassVar, Literal

from pydantic import Field

from flowspec.core.example import Example
from flowspec.core.node import NodeCheck
from flowspec.core.ports import REAL, PortInfo, Support
from flowspec.densities.base import DensitySpec
from flowspec.densities.choice import DensityChoice, kind_default
from flowspec.nodes._uses_densities import UsesDensities

if TYPE_CHECKING:
    from flowspec.layers.rounding import Rounding

__all__ = ["RoundingSpec", "check_dequantizer"]


def check_dequantizer(density: DensitySpec, event: PortInfo, check: NodeCheck, field: str) -> bool:
    """A proposal density draws real values (every real-valued density kind draws them
    reparameterised, so the bound trains through the draw)."""
    return density.check_event(PortInfo(event.shape, REAL), check, field)


class RoundingSpec(UsesDensities):
    """Inference z = x + u, u ~ q(u | x) on (0, 1)^D; generation x = floor(z)."""

    kind: Literal["rounding"] = "rounding"
    dequantizer: Annotated[DensityChoice, kind_default("gaussian")] = Field(
        default_factory=lambda: {"kind": "gaussian"},
        validate_default=True,
        description="Density of v = logit(u) given the integers (u = sigmoid(v) in (0, 1)).",
    )
    summary = "rounding surjection: z = x + u, u ~ q(u | x); x = floor(z) in generation"
    reference = "Nielsen et al. 2020, SurVAE Flows, arXiv:2007.02731"
    contribution = "-log q(u | x)"
    bijective = False
    stochastic_forward = True
    proposals = ("dequantizer",)
    #: Divide z by the number of levels (variational dequantization maps into (0, 1)).
    rescale: ClassVar[bool] = False

    has_parameters = True
    examples: ClassVar[tuple[Example, ...]] = (
        Example({"dequantizer": {"net": {"hidden": [4]}}}, (PortInfo((3,), Support(levels=4)),)),
        Example(
            {
                "dequantizer": {
                    "kind": "flow",
                    "net": {"hidden": [4]},
                    "layers": [
                        {"kind": "affine_coupling", "net": {"hidden": [4]}},
                        {"kind": "reverse"},
                    ],
                }
            },
            (PortInfo((2,), Support(levels=3)),),
            label="flow dequantizer",
        ),
    )

    def infer(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None, check: NodeCheck
    ) -> tuple[PortInfo, ...] | None:
        (x,) = inputs
        if x.support.levels is None:
            check.error(
                "E814",
                f"{self.kind} needs integers 0..K-1, but the input lives in {x.support}",
                "in",
                hint="declare the number of levels on the input, e.g. {shape: [64], levels: 17}",
            )
            return None
        if not check_dequantizer(self.dequantizer, x, check, "dequantizer"):
            return None
        high = 1.0 if self.rescale else float(x.support.levels)
        return (PortInfo(x.shape, Support(0.0, high)),)

    def modelled_by(self) -> str:
        return f"u = sigmoid(v), v ~ {self.dequantizer.describe()} given x"

    def parameter_count(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> int:
        x = inputs[0]
        return self.dequantizer.density_parameter_count(PortInfo(x.shape, REAL), x.numel)

    def build(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> Rounding:
        from flowspec.layers.rounding import Rounding

        x = inputs[0]
        assert x.support.levels is not None
        density = self.dequantizer.build(PortInfo(x.shape, REAL), x.numel)
        return Rounding(x.support.levels, self.rescale, density)
