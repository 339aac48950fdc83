"""The settings and base of transformers inverted by bisection (logistic_mixture, naf).

The inverse runs a fixed number of halvings of an analytic bracket (static shapes, so it
compiles), then records the largest ``|tau(x) - z|`` it reached; the model warns, naming
the node, when that error exceeds ``tol`` (see :mod:`flowspec.layers.transformers._bisection`).

Example::

    inverse: {tol: 1.0e-4, max_iter: 60}
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat

from flowspec.core.properties import Cost
from flowspec.transformers.base import TransformerSpec

__all__ = ["BisectionSettings", "BisectionTransformerSpec"]


class BisectionSettings(BaseModel):
    """Tolerance and iteration count of an inverse by bisection."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    tol: PositiveFloat = Field(
        default=1.0e-4,
        description="Largest acceptable |tau(x) - z| of the inverse; a larger one is warned about.",
    )
    max_iter: int = Field(
        default=60, ge=1, le=200, description="Number of halvings of the bracket (1 .. 200)."
    )


class BisectionTransformerSpec(TransformerSpec):
    """A transformer whose inverse is found by bisection, with its ``inverse:`` settings."""

    inverse: BisectionSettings = Field(
        default_factory=BisectionSettings, description="Bisection of the inverse."
    )
    inverse_cost = Cost.ITERATIVE

    def likelihood_tolerance(self) -> float | None:
        return self.inverse.tol
