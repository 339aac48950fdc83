"""Invertible residual block: i-ResNet and Residual Flows.

Behrmann, Grathwohl, Chen, Duvenaud and Jacobsen, "Invertible Residual Networks", ICML
2019, arXiv:1811.00995; Chen, Behrmann, Duvenaud and Jacobsen, "Residual Flows for
Invertible Generative Modeling", NeurIPS 2019, arXiv:1906.02735.

Inference (data -> latent) is one pass, ``z = x + g(x)``, with ``g`` a network whose linear
maps are spectrally normalised to Lipschitz constant ``lipschitz`` (power iteration, one
or more steps per training pass) between 1-Lipschitz activations, so ``Lip(g) < 1`` and the
block is invertible. ``lipschitz >= 1`` is rejected at compile time (E750). ``g`` is an
``mlp`` on the example flattened (any event shape) or, on images ``[C, H, W]``, a ``conv``
net whose convolutions are normalised by their norm as operators on images of that size
(:mod:`flowspec.nodes._residual_branch`; E761 for a conv net on other shapes).

``log|det(I + J_g)| = sum_k (-1)^(k+1) tr(J_g^k) / k`` is computed as ``logdet``:

- ``exact``: the full Jacobian by autograd (D backward passes) and ``slogdet``: exact, for
  small D (tests, evaluation);
- ``series``: the first ``terms`` terms with Hutchinson's estimator ``v^T J^k v`` (i-ResNet):
  a **biased** estimate (the truncation);
- ``roulette``: ``terms`` terms plus a geometric number of further terms, each reweighted
  by ``1 / P(N >= k)`` (the Russian-roulette estimator of Residual Flows): an **unbiased**
  estimate. Its gradient uses the Neumann series ``tr((I + J)^-1 dJ)`` estimated with the
  same draws, so backpropagation does not go through the power series.

Generation (``sample``) inverts the block by the fixed-point iteration ``x <- z - g(x)``, a
contraction with constant ``Lip(g)``, to ``inverse.tol``.

Training: Lipschitz-bounded blocks learn slowly at the default learning rate of 1e-3
(``specs/resflow_moons.yaml`` on standardised moons: 2.55 nats after 1000 steps against a
Gaussian's 2.72, 2.25 at 1e-2), so that spec sets ``lr: 1.0e-2`` in its ``train:``
section (1500 steps: 1.31 nats on moons in raw units, against the Gaussian's 1.88).

Given a flat ``context`` ``c`` (E406 otherwise), ``g(x; c)`` adds a free linear map of ``c``
to the first layer's outputs (broadcast over the pixels of a conv net), as if ``c`` were
extra inputs of that layer left out of its spectral normalisation: ``Lip(g(., c)) <=
lipschitz < 1`` in ``x`` for every context, so each context's block is invertible (a
conditional residual flow, one flow per context).

Example::

    - {kind: residual, net: {kind: mlp, hidden: [64, 64], activation: elu}, lipschitz: 0.9,
       logdet: roulette, terms: 2, inverse: {tol: 1.0e-6, max_iter: 200}}
    - {kind: residual, in: x, context: c, net: {kind: mlp, hidden: [64], activation: elu}}

On images, Residual Flows' CIFAR-10 block is ``net: {kind: conv, channels: 512, kernels:
[3, 1, 3], activation: lipswish, preact: true}`` with ``lipschitz: 0.98``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field, PositiveFloat

from flowspec.conditioners.base import check_flat_context, context_width
from flowspec.core.example import Example
from flowspec.core.node import NodeCheck, NodeSpec
from flowspec.core.ports import PortInfo
from flowspec.core.properties import Cost, Costs, Likelihood
from flowspec.nodes._checks import check_unused_settings
from flowspec.nodes._iterative import (
    EXACT_DIMS,
    FixedPoint,
    check_deterministic_net,
    real_map,
)
from flowspec.nodes._residual_branch import (
    LIPSCHITZ_ACTIVATIONS,
    ResidualBranch,
    ResidualConvSpec,
    ResidualMLPSpec,
)

if TYPE_CHECKING:
    from flowspec.layers.residual import ResidualBlock

__all__ = ["ResidualSpec"]


class ResidualSpec(NodeSpec):
    """Invertible residual block z = x + g(x), Lip(g) < 1 by spectral normalisation."""

    kind: Literal["residual"] = "residual"
    net: ResidualBranch = Field(
        default_factory=ResidualMLPSpec,
        description="The residual branch g, spectrally normalised: {kind: mlp} (any shape, "
        "flattened) or {kind: conv} (images [C, H, W]); its activation must be 1-Lipschitz ("
        + ", ".join(LIPSCHITZ_ACTIVATIONS)
        + ").",
    )
    lipschitz: PositiveFloat = Field(
        default=0.9, description="Lipschitz bound of each linear layer of g; must be < 1."
    )
    power_iterations: int = Field(
        default=1,
        ge=1,
        le=100,
        description="Power-iteration steps per training pass that "
        "estimate each layer's spectral norm.",
    )
    logdet: Literal["exact", "series", "roulette"] = Field(
        default="roulette",
        description="exact (autograd Jacobian; small D), series (truncated power series with "
        "Hutchinson: biased) or roulette (Russian roulette: unbiased).",
    )
    terms: int = Field(
        default=2,
        ge=1,
        le=1000,
        description="series: the number of terms; roulette: the "
        "terms always computed before the random tail.",
    )
    roulette_p: float = Field(
        default=0.5,
        ge=0.01,
        lt=1,
        description="roulette: the geometric tail's stopping "
        "probability (expected extra terms (1-p)/p; at least 0.01, since 1e-9 drew about a "
        "billion terms, a hang).",
    )
    trace_samples: int = Field(
        default=1, ge=1, le=1000, description="Hutchinson probe vectors per sample."
    )
    inverse: FixedPoint = Field(
        default_factory=FixedPoint, description="Fixed-point iteration used by sample."
    )
    summary = "i-ResNet / Residual Flow block z = x + g(x), Lip(g) < 1"
    reference = (
        "Behrmann et al. 2019, Invertible Residual Networks, arXiv:1811.00995; Chen et al. "
        "2019, Residual Flows, arXiv:1906.02735"
    )

    has_parameters = True
    accepts_context = True
    not_fullgraph = (
        "the Russian-roulette estimator draws its number of terms at run time and the "
        "inverse iterates to a tolerance (data-dependent loops)"
    )
    examples = (
        Example(
            {
                "net": {"hidden": [8]},
                "logdet": "exact",
                "inverse": {"tol": 1.0e-12, "max_iter": 500},
            },
            (PortInfo((2,)),),
            label="exact",
        ),
        Example({"net": {"hidden": [8]}}, (PortInfo((2,)),), label="roulette"),
        Example(
            {"net": {"hidden": [8]}, "logdet": "series", "terms": 4},
            (PortInfo((2,)),),
            label="series",
        ),
        Example(
            {
                "net": {
                    "kind": "conv",
                    "channels": 3,
                    "kernels": [3, 1, 3],
                    "preact": True,
                    "activation": "lipswish",
                },
                "logdet": "exact",
                "inverse": {"tol": 1.0e-12, "max_iter": 500},
            },
            (PortInfo((1, 3, 3)),),
            label="conv image",
        ),
        Example(
            {"net": {"hidden": [6], "activation": "lipswish"}, "logdet": "exact"},
            (PortInfo((2, 2, 2)),),
            label="mlp on an image",
        ),
        Example(
            {
                "net": {"hidden": [8]},
                "logdet": "exact",
                "inverse": {"tol": 1.0e-12, "max_iter": 500},
            },
            (PortInfo((2,)),),
            PortInfo((3,)),
            label="conditional",
        ),
        Example(
            {"net": {"kind": "conv", "channels": 2, "kernels": [3, 3]}, "logdet": "exact"},
            (PortInfo((1, 2, 2)),),
            PortInfo((3,)),
            label="conditional conv image",
        ),
    )

    def for_evaluation(self, inputs: tuple[PortInfo, ...]) -> tuple[ResidualSpec, str] | None:
        """The exact log-det for small D; otherwise eight times the roulette's probes."""
        if self.logdet == "exact":
            return None
        if inputs[0].numel <= EXACT_DIMS:
            return self.model_copy(update={"logdet": "exact"}), "logdet: exact"
        if self.logdet == "roulette":
            probes = 8 * self.trace_samples
            return self.model_copy(update={"trace_samples": probes}), f"trace_samples: {probes}"
        return None

    def likelihood(self) -> Likelihood:
        return {
            "exact": Likelihood.EXACT,
            "series": Likelihood.BIASED,
            "roulette": Likelihood.ESTIMATE,
        }[self.logdet]

    def costs(self) -> Costs:
        inference = Cost.D_PASSES if self.logdet == "exact" else Cost.ONE_PASS
        return Costs(inference, Cost.ITERATIVE)

    def check_static(self, check: NodeCheck) -> None:
        if isinstance(self.net, ResidualConvSpec):
            self.net.check_static(check)
        if self.lipschitz >= 1:
            check.error(
                "E750",
                f"lipschitz must be below 1 for x + g(x) to be invertible, got {self.lipschitz}",
                "lipschitz",
                hint="use 0.9 or less (smaller: faster inverse and series, less expressive)",
            )
        check_deterministic_net(
            self.net,
            "the residual branch g",
            "dropout's 1/(1-p) scaling of the kept units breaks the Lipschitz bound that "
            "makes x + g(x) invertible, and the fixed-point inverse and the log-det series "
            "need the same g on every call",
            check,
        )
        if self.logdet == "exact":
            check_unused_settings(
                self,
                ("terms", "roulette_p", "trace_samples"),
                "logdet: exact computes the full Jacobian, with no series or probes",
                check,
            )
        elif self.logdet == "series":
            check_unused_settings(
                self, ("roulette_p",), "logdet: series truncates at terms, with no roulette", check
            )
        if self.net.activation not in LIPSCHITZ_ACTIVATIONS:
            check.error(
                "E753",
                f"activation {self.net.activation!r} is not 1-Lipschitz, so spectral "
                "normalisation does not bound Lip(g)",
                "net",
                "activation",
                hint="use " + ", ".join(LIPSCHITZ_ACTIVATIONS),
            )

    def infer(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None, check: NodeCheck
    ) -> tuple[PortInfo, ...] | None:
        if not self.net.check_shape(inputs[0].shape, check):
            return None
        if not check_flat_context("a residual block's net", context, check):
            return None
        outputs = real_map(self.kind, inputs, check)
        if outputs is not None and self.logdet == "exact" and outputs[0].numel > EXACT_DIMS:
            check.warning(
                "W755",
                f"logdet: exact takes {outputs[0].numel} backward passes per call",
                "logdet",
                hint="use roulette (unbiased) for training on many features",
            )
        return outputs

    def parameter_count(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> int:
        return self.net.parameter_count(inputs[0].shape, context_width(context))

    def build(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> ResidualBlock:
        from flowspec.layers.residual import ResidualBlock

        net = self.net.build(
            inputs[0].shape, self.lipschitz, self.power_iterations, context_width(context)
        )
        return ResidualBlock(
            net,
            self.logdet,
            self.terms,
            self.roulette_p,
            self.trace_samples,
            self.inverse.tol,
            self.inverse.max_iter,
        )
