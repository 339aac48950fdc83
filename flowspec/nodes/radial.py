"""Radial flow (Rezende and Mohamed 2015).

Rezende and Mohamed, "Variational Inference with Normalizing Flows", ICML 2015,
arXiv:1505.05770, Sec. 4.1 and Appendix A.2.

Generation (latent -> data): ``x = z + beta (z - z0) / (alpha + r)`` with ``r = |z - z0|``,
``alpha > 0`` and ``beta >= -alpha`` (enforced: ``alpha = softplus(a)``,
``beta = -alpha + softplus(b)``), and
``log|det dx/dz| = (D - 1) log(1 + beta h) + log(1 + alpha beta h^2)``, ``h = 1/(alpha + r)``.

Both directions are closed-form here. The paper states that radial flows have no analytic
inverse, but the map only rescales ``z - z0`` along its own direction, so inference reduces
to the radius: ``|x - z0| = r (alpha + beta + r) / (alpha + r)``, a quadratic in ``r``
with exactly one root ``r >= 0`` (the product of its roots is ``-alpha |x - z0| <= 0``).
flowspec solves it in a cancellation-free form, so ``log_prob`` is exact and one pass.

On an event of any shape (an image ``[C, H, W]``) the layer acts on each example flattened
to ``D = C H W`` features and reshapes its output back, as Rezende and Mohamed apply it to whatever the
latent is; it mixes all pixels through one direction, with no spatial structure.

Given a ``context``, a ``net`` computes ``z0``, ``alpha`` and ``beta`` per example
(amortized: :mod:`flowspec.nodes._amortized`), with ``beta >= -alpha`` in every example.

Example::

    - {kind: radial}
    - {kind: radial, in: z, context: h, net: {kind: mlp, hidden: [32]}}   # amortized
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from flowspec.core.example import Example
from flowspec.core.node import NodeCheck
from flowspec.core.ports import PortInfo
from flowspec.nodes._amortized import AmortizedMap
from flowspec.nodes._iterative import real_map

if TYPE_CHECKING:
    from flowspec.layers.radial import Radial

__all__ = ["RadialSpec"]


class RadialSpec(AmortizedMap):
    """Radial flow x = z + beta (z - z0) / (alpha + |z - z0|), beta >= -alpha."""

    kind: Literal["radial"] = "radial"
    summary = "Radial flow x = z + beta (z - z0)/(alpha + r); closed form both ways"
    reference = (
        "Rezende & Mohamed 2015, Variational Inference with Normalizing Flows, arXiv:1505.05770"
    )

    has_parameters = True
    examples = (
        Example({}, (PortInfo((3,)),)),
        Example({}, (PortInfo((1, 2, 2)),), label="image"),
        Example({"net": {"hidden": [4]}}, (PortInfo((3,)),), PortInfo((2,)), label="amortized"),
    )

    def infer(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None, check: NodeCheck
    ) -> tuple[PortInfo, ...] | None:
        outputs = real_map(self.kind, inputs, check)
        return outputs if self.check_context(context, check) else None

    def raw_parameter_count(self, features: int) -> int:
        return features + 2  # z0, alpha and beta

    def build(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> Radial:
        from flowspec.layers.radial import Radial

        return Radial(inputs[0].numel, self.build_net(inputs[0].numel, context))
