"""Flow++'s transformer: the logit of a mixture of logistic CDFs, then an affine map.

Ho, Chen, Srinivas, Duan and Abbeel 2019, "Flow++: Improving Flow-Based Generative Models
with Variational Dequantization and Architecture Design", arXiv:1902.00275.

``z = logit(sum_k pi_k sigmoid((x - mu_k) / s_k)) * exp(a) + b`` (the affine part is
optional). Density and log-derivative are one pass; the inverse has no closed form and is
found by bisection (``inverse.max_iter`` halvings of an analytic bracket), so sampling
through a coupling or MAF layer with this transformer is iterative and reports the error it
reached (a warning naming the node when it exceeds ``inverse.tol``).

At zero parameters the components sit at fixed, evenly spread locations in [-1, 1] (equal
locations would get equal gradients forever), so the map starts monotone and smooth but
not the identity.

Example::

    transformer: {kind: logistic_mixture, components: 4, inverse: {tol: 1.0e-4, max_iter: 60}}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from flowspec.core.example import Example
from flowspec.core.ports import PortInfo
from flowspec.transformers._bisection import BisectionTransformerSpec
from flowspec.transformers.base import LogScaleBound

if TYPE_CHECKING:
    from flowspec.layers.transformers.logistic_mixture import LogisticMixtureTransformer

__all__ = ["LogisticMixtureSpec"]


class LogisticMixtureSpec(BisectionTransformerSpec):
    """Logit of a K-component logistic-mixture CDF (then an affine map), inverted by bisection."""

    kind: Literal["logistic_mixture"] = "logistic_mixture"
    components: int = Field(default=4, ge=1, le=256, description="Mixture components (1 .. 256).")
    affine: bool = Field(
        default=True,
        description="Follow the mixture's logit by z = y * exp(a) + b, as Flow++ does.",
    )
    scale_bound: LogScaleBound = Field(
        default=2.0, description="Bound B on the affine log-scale: a = B * tanh(a_raw / B)."
    )
    summary = "logit of a logistic-mixture CDF, then affine; inverse by bisection"
    reference = "Ho et al. 2019, arXiv:1902.00275"
    examples = (
        Example({"components": 3, "inverse": {"max_iter": 40}}, (PortInfo((3,)),)),
        Example({"components": 2, "affine": False}, (PortInfo((3,)),), label="no affine"),
    )

    def params_per_feature(self) -> int:
        return 3 * self.components + (2 if self.affine else 0)

    def build(self) -> LogisticMixtureTransformer:
        from flowspec.layers.transformers.logistic_mixture import LogisticMixtureTransformer

        return LogisticMixtureTransformer(
            self.components,
            self.scale_bound if self.affine else None,
            self.inverse.tol,
            self.inverse.max_iter,
        )

    def describe(self) -> str:
        return f"logistic_mixture({self.components}{', affine' if self.affine else ''})"
