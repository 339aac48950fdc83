"""Sylvester normalizing flows (van den Berg et al. 2018).

van den Berg, Hasenclever, Tomczak and Welling, "Sylvester Normalizing Flows for
Variational Inference", UAI 2018, arXiv:1803.05649.

Generation (latent -> data): ``x = z + Q R tanh(R~ Q^T z + b)`` with ``Q`` a ``D x M``
matrix of orthonormal columns and ``R``, ``R~`` upper-triangular ``M x M``. Sylvester's
determinant identity gives
``log|det dx/dz| = sum_i log|1 + tanh'(.)_i R_ii R~_ii|``. Invertibility needs
``R_ii R~_ii > -1`` (tanh' <= 1); here ``R_ii = tanh(.)`` and ``R~_ii = tanh(.)``, so the
product lies in (-1, 1) for every parameter value (the paper's choice).

Variants (``variant``): ``orthogonal`` (O-SNF: ``Q`` from the QR decomposition of a free
``D x M`` matrix; ``columns: M <= D``), ``householder`` (H-SNF: ``Q`` a product of
``reflections`` Householder reflections, ``M = D``) and ``triangular`` (T-SNF: ``Q`` the
identity, or the reversal permutation with ``reverse: true``, ``M = D``).

Like the planar flow (and for the same use, variational posteriors) the closed-form
direction is generation; there is no closed-form inverse and no scalar reduction of it, so
``log_prob`` of given data is unavailable (W752, where the model needs it) while ``sample`` and
``sample_and_log_prob`` (the exact density of the model's own samples) are one pass.

On an event of any shape (an image ``[C, H, W]``) the layer acts on each example flattened
to ``D = C H W`` features and reshapes its output back, as van den Berg et al. apply it to whatever the
latent is; it mixes all pixels through one direction, with no spatial structure.

Given a ``context``, a ``net`` computes every raw parameter per example (``R``, ``R~``, ``b``
and ``Q``'s free matrix or reflection vectors: amortized, as in the paper's Sec. 3;
:mod:`flowspec.nodes._amortized`); the same maps keep ``R_ii R~_ii > -1`` and ``Q``
orthonormal in every example.

Example::

    - {kind: sylvester, variant: householder, reflections: 4}
    - {kind: sylvester, in: z, context: h, net: {kind: mlp, hidden: []}}   # amortized
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from flowspec.core.example import Example
from flowspec.core.node import MAX_AXIS, NodeCheck
from flowspec.core.ports import PortInfo
from flowspec.core.properties import Cost, Costs
from flowspec.nodes._amortized import AmortizedMap
from flowspec.nodes._checks import check_unused_settings
from flowspec.nodes._iterative import real_map

if TYPE_CHECKING:
    from flowspec.layers.sylvester import Sylvester

__all__ = ["SylvesterSpec"]

#: The settings only one variant reads, and that variant.
_VARIANT_SETTINGS = {"columns": "orthogonal", "reflections": "householder", "reverse": "triangular"}


class SylvesterSpec(AmortizedMap):
    """Sylvester flow x = z + Q R tanh(R~ Q^T z + b) (generation), R_ii R~_ii > -1."""

    kind: Literal["sylvester"] = "sylvester"
    variant: Literal["orthogonal", "householder", "triangular"] = Field(
        default="orthogonal",
        description="How Q is built: orthogonal (QR of a free matrix), "
        "householder (product of reflections) or triangular (identity or reversal).",
    )
    columns: int | None = Field(
        default=None,
        ge=1,
        le=MAX_AXIS,
        description="orthogonal only: the number M <= D of columns of Q (default D).",
    )
    reflections: int = Field(
        default=2, ge=1, le=MAX_AXIS, description="householder only: how many reflections."
    )
    reverse: bool = Field(
        default=False, description="triangular only: Q reverses the features (else identity)."
    )
    summary = "Sylvester flow x = z + QR tanh(R~Q^T z + b); closed form in generation"
    reference = "van den Berg et al. 2018, Sylvester Normalizing Flows, arXiv:1803.05649"

    has_parameters = True
    not_fullgraph = (
        "no inference direction, so there is no log_prob to compile; generation "
        "(sample_and_log_prob) is one pass and compiles whole (tests/test_determinant_flows.py)"
    )
    examples = (
        Example({"variant": "orthogonal", "columns": 2}, (PortInfo((3,)),), label="orthogonal"),
        Example(
            {"variant": "householder", "reflections": 2}, (PortInfo((3,)),), label="householder"
        ),
        Example({"variant": "triangular"}, (PortInfo((3,)),), label="triangular"),
        Example({"variant": "triangular", "reverse": True}, (PortInfo((3,)),), label="reversed"),
        Example(
            {"variant": "householder", "reflections": 2}, (PortInfo((1, 2, 2)),), label="image"
        ),
        *(
            Example(
                {"variant": variant, "net": {"hidden": [4]}},
                (PortInfo((3,)),),
                PortInfo((2,)),
                label=f"amortized {variant}",
            )
            for variant in ("orthogonal", "householder", "triangular")
        ),
    )

    def costs(self) -> Costs:
        return Costs(Cost.UNAVAILABLE, Cost.ONE_PASS)

    def scored_sample_cost(self) -> Cost:
        # The layer scores its own generation (inverse_and_contribution): no inference.
        return self.costs().generation

    def inference_remedy(self) -> str:
        return (
            "Sylvester flows have no inverse in flowspec (no setting gives one): use them "
            "where only sampling and the density of own samples are needed (a VAE encoder), "
            "or use planar with inverse: {method: bisection, tol: 1.0e-6, max_iter: 100}"
        )

    def check_static(self, check: NodeCheck) -> None:
        for name, variant in _VARIANT_SETTINGS.items():
            if self.variant != variant:
                check_unused_settings(
                    self, (name,), f"only variant: {variant} uses it (not {self.variant})", check
                )

    def infer(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None, check: NodeCheck
    ) -> tuple[PortInfo, ...] | None:
        outputs = real_map(self.kind, inputs, check)
        if not self.check_context(context, check):
            return None
        if outputs is not None and self.columns is not None and self.columns > outputs[0].numel:
            check.error(
                "E756",
                f"Q has {self.columns} orthonormal columns but only {outputs[0].numel} "
                "features, and at most D columns of D features can be orthonormal",
                "columns",
                hint=f"set columns to at most {outputs[0].numel}",
            )
            return None
        return outputs

    def _columns(self, features: int) -> int:
        return self.columns if self.variant == "orthogonal" and self.columns else features

    def raw_parameter_count(self, features: int) -> int:
        m = self._columns(features)
        q = {"orthogonal": features * m, "householder": self.reflections * features}
        return 2 * m * m + 3 * m + q.get(self.variant, 0)  # R, R~, their diagonals, b, Q

    def build(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> Sylvester:
        from flowspec.layers.sylvester import Sylvester

        features = inputs[0].numel
        columns = self._columns(features)
        return Sylvester(
            features,
            self.variant,
            columns,
            self.reflections,
            self.reverse,
            self.build_net(features, context),
        )
