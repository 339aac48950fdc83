"""Planar flow (Rezende and Mohamed 2015).

Rezende and Mohamed, "Variational Inference with Normalizing Flows", ICML 2015,
arXiv:1505.05770, Sec. 4.1 and Appendix A.1.

The closed-form direction is **generation** (latent -> data), as in the paper's use for
variational posteriors: ``x = z + u tanh(w.z + b)`` with
``log|det dx/dz| = log|1 + u.w tanh'(w.z + b)|``. Invertibility needs ``u.w >= -1``; it
is enforced by reparameterisation, ``u = u_raw + (m(w.u_raw) - w.u_raw) w / |w|^2`` with
``m(a) = -1 + softplus(a)``, so it holds for every value of the parameters.

So a model holding a planar node samples in one pass, and ``sample_and_log_prob`` gives the
exact log-density of its own samples. Inference (``log_prob`` of given data) has no closed
form: it reduces to the scalar equation ``a + u.w tanh(a + b) = w.x`` for ``a = w.z``,
increasing in ``a`` and bracketed by ``|a - w.x| <= |u.w|``, solved by bisection or
safeguarded Newton when the spec asks for it with ``inverse``. Without ``inverse``, the
compiler reports ``log_prob`` of data as unavailable (W752, where the model needs it: not in
a VAE encoder or a dequantizer, which run their layers generatively) and ``log_prob``
raises.

On an event of any shape (an image ``[C, H, W]``) the layer acts on each example flattened
to ``D = C H W`` features and reshapes its output back, as Rezende and Mohamed apply it to whatever the
latent is; it mixes all pixels through one direction, with no spatial structure.

Given a ``context``, a ``net`` computes the raw parameters per example (amortized, as the
paper's variational posteriors are: :mod:`flowspec.nodes._amortized`), and the
reparameterisation keeps ``u.w >= -1`` for every example.

Example::

    - {kind: planar, inverse: {method: newton, tol: 1.0e-8, max_iter: 50}}
    - {kind: planar, in: z, context: h, net: {kind: mlp, hidden: []}}   # amortized
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from flowspec.core.example import Example
from flowspec.core.node import NodeCheck
from flowspec.core.ports import PortInfo
from flowspec.core.properties import Cost, Costs, Likelihood
from flowspec.nodes._amortized import AmortizedMap
from flowspec.nodes._iterative import RootFinding, real_map

if TYPE_CHECKING:
    from flowspec.layers.planar import Planar

__all__ = ["PlanarSpec"]


class PlanarSpec(AmortizedMap):
    """Planar flow x = z + u tanh(w.z + b) (generation), u.w >= -1 by reparameterisation."""

    kind: Literal["planar"] = "planar"
    inverse: RootFinding | None = Field(
        default=None,
        description="How to run inference (data -> latent), which has no closed form: scalar "
        "root finding {method: bisection|newton, tol, max_iter}. Omitted: log_prob of data "
        "is unavailable (sampling and the density of own samples are exact).",
    )
    summary = "Planar flow x = z + u tanh(w.z + b); closed form in generation"
    reference = (
        "Rezende & Mohamed 2015, Variational Inference with Normalizing Flows, arXiv:1505.05770"
    )

    has_parameters = True
    not_fullgraph = (
        "inference solves a scalar equation by bisection or Newton, stopping at a "
        "tolerance (a data-dependent loop); without an inverse it has no log_prob at all"
    )
    examples = (
        Example(
            {"inverse": {"method": "newton", "tol": 1.0e-12, "max_iter": 100}},
            (PortInfo((3,)),),
            label="newton",
        ),
        Example(
            {"inverse": {"method": "bisection", "tol": 1.0e-12, "max_iter": 200}},
            (PortInfo((2,)),),
            label="bisection",
        ),
        Example({}, (PortInfo((2,)),), label="generation only"),
        Example(
            {"inverse": {"method": "newton", "tol": 1.0e-10, "max_iter": 100}},
            (PortInfo((1, 2, 2)),),
            label="image",
        ),
        Example(
            {"net": {"hidden": [4]}, "inverse": {"method": "newton", "tol": 1.0e-12}},
            (PortInfo((3,)),),
            PortInfo((2,)),
            label="amortized",
        ),
    )

    def likelihood(self) -> Likelihood:
        return Likelihood.TOLERANCE if self.inverse is not None else Likelihood.EXACT

    def costs(self) -> Costs:
        inference = Cost.ITERATIVE if self.inverse is not None else Cost.UNAVAILABLE
        return Costs(inference, Cost.ONE_PASS)

    def scored_sample_cost(self) -> Cost:
        # The layer scores its own generation (inverse_and_contribution): no inference.
        return self.costs().generation

    def scored_sample_likelihood(self) -> Likelihood:
        # Generation and its log-det are closed-form; only inference finds roots.
        return Likelihood.EXACT

    def tolerance(self) -> str | None:
        if self.inverse is None:
            return None
        return f"{self.inverse.method} root finding to {self.inverse.tol:g}"

    def inference_remedy(self) -> str:
        return (
            "add inverse: {method: bisection, tol: 1.0e-6, max_iter: 100} to compute it by "
            "root finding"
        )

    def infer(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None, check: NodeCheck
    ) -> tuple[PortInfo, ...] | None:
        outputs = real_map(self.kind, inputs, check)
        return outputs if self.check_context(context, check) else None

    def raw_parameter_count(self, features: int) -> int:
        return 2 * features + 1  # w, u and b

    def build(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> Planar:
        from flowspec.layers.planar import Planar

        solve = self.inverse
        return Planar(
            inputs[0].numel,
            solve.method if solve else None,
            solve.tol if solve else 0.0,
            solve.max_iter if solve else 0,
            self.build_net(inputs[0].numel, context),
        )
