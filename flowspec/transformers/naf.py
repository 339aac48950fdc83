"""NAF's deep sigmoidal flow as an elementwise transformer.

Huang, Krueger, Lacoste and Courville 2018, "Neural Autoregressive Flows",
arXiv:1804.00779.

Each layer is a sigmoidal flow ``y = logit(sum_j w_j sigmoid(a_j x + b_j))`` with ``a_j > 0``
and ``w`` on the simplex, ``hidden`` units wide: a strictly monotone network of one input;
``layers`` of them are composed (each layer's parameters come from the conditioner, as in
NAF). Density and log-derivative are one pass; the inverse has no closed form and is found
by bisection, layer by layer (each bracketed analytically), so sampling through a coupling
or MAF layer with this transformer is iterative and reports the error it reached.

At zero parameters every unit has slope 1 and the offsets ``b_j`` are spread evenly over
[-1, 1] (equal units would get equal gradients forever), so the map starts monotone and
close to, but not exactly, the identity.

Example::

    transformer: {kind: naf, hidden: 8, layers: 2, inverse: {tol: 1.0e-4, max_iter: 60}}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from flowspec.core.example import Example
from flowspec.core.ports import PortInfo
from flowspec.transformers._bisection import BisectionTransformerSpec

if TYPE_CHECKING:
    from flowspec.layers.transformers.naf import NAFTransformer

__all__ = ["NAFSpec"]


class NAFSpec(BisectionTransformerSpec):
    """Composed sigmoidal flows (a monotone network per feature), inverted by bisection."""

    kind: Literal["naf"] = "naf"
    hidden: int = Field(default=8, ge=1, le=256, description="Sigmoid units per layer (1 .. 256).")
    layers: int = Field(default=1, ge=1, le=8, description="Sigmoidal layers composed (1 .. 8).")
    summary = "deep sigmoidal flow (monotone network per feature); inverse by bisection"
    reference = "Huang et al. 2018, arXiv:1804.00779"
    examples = (
        Example({"hidden": 4, "layers": 2, "inverse": {"max_iter": 40}}, (PortInfo((3,)),)),
    )

    def params_per_feature(self) -> int:
        return 3 * self.hidden * self.layers

    def build(self) -> NAFTransformer:
        from flowspec.layers.transformers.naf import NAFTransformer

        return NAFTransformer(self.hidden, self.layers, self.inverse.tol, self.inverse.max_iter)

    def describe(self) -> str:
        return f"naf({self.layers}x{self.hidden})"
