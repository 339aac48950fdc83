"""Conditional diagonal Gaussian density ``N(v; mu(c), diag sigma(c)^2)``.

The decoder and encoder density of SurVAE flows (Nielsen et al. 2020, arXiv:2007.02731)
and VFlow (Chen et al. 2020, arXiv:2002.09741); the posterior of the VAE (Kingma and
Welling 2014, arXiv:1312.6114). The scale is ``sigma = min_scale + softplus(raw + b)``
with ``b`` chosen so that the zero-initialised network gives N(0, I).

Example::

    decoder: {kind: gaussian, net: {kind: mlp, hidden: [64]}, min_scale: 0.001}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field

from flowspec.core.example import Example
from flowspec.core.node import NodeCheck
from flowspec.core.ports import PortInfo
from flowspec.densities._checks import check_continuous_event
from flowspec.densities.base import DensitySpec

if TYPE_CHECKING:
    from torch import nn

    from flowspec.layers.densities.gaussian import Gaussian

__all__ = ["GaussianSpec"]


class GaussianSpec(DensitySpec):
    """Diagonal Gaussian over the event, mean and scale from the context."""

    kind: Literal["gaussian"] = "gaussian"
    min_scale: float = Field(
        default=1e-3,
        gt=0.0,
        lt=1.0,
        description="Floor of the standard deviation: sigma = min_scale + softplus(.).",
    )
    summary = "diagonal Gaussian N(mu(c), diag sigma(c)^2)"
    reference = "Kingma and Welling 2014, Auto-Encoding Variational Bayes, arXiv:1312.6114"
    models = "real values"
    examples: ClassVar[tuple[Example, ...]] = (
        Example({}, (PortInfo((1,)),), label="learned"),
        Example(
            {"net": {"hidden": [4]}, "min_scale": 0.01},
            (PortInfo((2,)),),
            PortInfo((3,)),
            label="context",
        ),
    )

    def check_event(self, event: PortInfo, check: NodeCheck, *field: str | int) -> bool:
        return check_continuous_event(self.kind, event, check, *field)

    def param_count(self, event: PortInfo) -> int:
        return 2 * event.numel

    def _build(self, event: PortInfo, net: nn.Module | None) -> Gaussian:
        from flowspec.layers.densities.gaussian import Gaussian

        return Gaussian(event.shape, net, self.min_scale)
