"""Autoregressive flows: MAF and IAF as the two directions of one layer.

Papamakarios, Pavlakou and Murray 2017, "Masked Autoregressive Flow for Density
Estimation", arXiv:1705.07057 (MAF); Kingma et al. 2016, "Improved Variational Inference
with Inverse Autoregressive Flow", arXiv:1606.04934 (IAF).

Each feature is transformed elementwise, ``z_i = tau(x_i; theta_i)``, by any transformer,
with parameters from an autoregressive conditioner (MADE, masked convolutions, ...):

- ``direction: maf``: ``theta_i`` depends on the data ``x_<i``. Density (``log_prob``) takes
  one pass; sampling inverts feature by feature, D passes.
- ``direction: iaf``: ``theta_i`` depends on the latent ``z_<i``. Sampling takes one pass;
  the density of given data takes D passes.

Features of equal rank in the conditioner's order (a patch of TarFlow's
``patch_transformer``) are inverted together, so "D passes" is one per rank. The Jacobian
is triangular in the conditioner's order, so ``log|det dz/dx| = sum_i log
tau'(x_i; theta_i)``, exact in both directions.

Example::

    - kind: autoregressive
      direction: maf
      transformer: {kind: affine}
      conditioner: {kind: made, hidden: [64, 64], order: reversed}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from flowspec.conditioners.base import no_empty_layer_warning
from flowspec.conditioners.choice import AutoregressiveConditionerChoice
from flowspec.conditioners.made import MADESpec
from flowspec.core.example import Example
from flowspec.core.node import NodeCheck, NodeSpec
from flowspec.core.ports import PortInfo
from flowspec.core.properties import Cost, Costs
from flowspec.nodes._checks import check_continuous
from flowspec.transformers.affine import AffineSpec
from flowspec.transformers.choice import TransformerChoice

if TYPE_CHECKING:
    from flowspec.layers.autoregressive import AutoregressiveLayer

__all__ = ["AutoregressiveSpec"]


class AutoregressiveSpec(NodeSpec):
    """A MAF or IAF layer: any transformer, parameters from an autoregressive conditioner."""

    kind: Literal["autoregressive"] = "autoregressive"
    direction: Literal["maf", "iaf"] = Field(
        default="maf",
        description="maf: parameters from the data side (fast density, D-pass sampling); "
        "iaf: from the latent side (fast sampling, D-pass density).",
    )
    transformer: TransformerChoice = Field(
        default_factory=AffineSpec, description="The elementwise map applied to each feature."
    )
    conditioner: AutoregressiveConditionerChoice = Field(
        default_factory=MADESpec,
        description="The network computing each feature's parameters from the preceding ones.",
    )
    summary = "MAF/IAF: z_i = tau(x_i; theta(x_<i)) (maf) or theta(z_<i) (iaf)"
    reference = "Papamakarios et al. 2017, arXiv:1705.07057; Kingma et al. 2016, arXiv:1606.04934"
    accepts_context = True

    has_parameters = True
    examples = (
        Example({"conditioner": {"hidden": [8]}}, (PortInfo((3,)),), label="maf"),
        Example(
            {"direction": "iaf", "conditioner": {"hidden": [8]}},
            (PortInfo((3,)),),
            PortInfo((2,)),
            label="iaf",
        ),
        Example(
            {"transformer": {"kind": "additive"}, "conditioner": {"hidden": [8]}},
            (PortInfo((1, 2, 2)),),
            label="image",
        ),
    )

    def preserves_volume(self) -> bool:
        return self.transformer.volume_preserving

    def costs(self) -> Costs:
        # Both directions apply the transformer as x -> z (IAF's density by D sweeps of
        # its forward map); only generation ever inverts it, which may iterate.
        inverse = self.transformer.inverse_cost
        if self.direction == "maf":
            return Costs(Cost.ONE_PASS, max(Cost.D_PASSES, inverse))
        return Costs(Cost.D_PASSES, max(Cost.ONE_PASS, inverse))

    def scored_sample_cost(self) -> Cost:
        # IAF's layer scores its draws with the parameters it drew them with (one pass);
        # MAF's draws take its D sweeps whatever scores them.
        costs = self.costs()
        if self.direction == "iaf":
            return costs.generation
        return max(costs.inference, costs.generation)

    def check_static(self, check: NodeCheck) -> None:
        self.transformer.check_conditioned(check, ("conditioner",), "transformer")
        self.conditioner.check_static(check, "conditioner")

    def infer(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None, check: NodeCheck
    ) -> tuple[PortInfo, ...] | None:
        (x,) = inputs
        ok = check_continuous(x, self.kind, check)
        ok = self.conditioner.check_autoregressive(x, context, check, "conditioner") and ok
        subject = f"transformer '{self.transformer.kind}'"
        ok = ok and self.transformer.check_domain(x.support, check, "E610", subject, "transformer")
        return (PortInfo(x.shape, self.transformer.output_support(x.support)),) if ok else None

    def for_repetition(self, repetition: int) -> AutoregressiveSpec:
        conditioner = self.conditioner.for_repetition(repetition)
        return (
            self
            if conditioner is self.conditioner
            else self.model_copy(update={"conditioner": conditioner})
        )

    def parameter_count(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> int:
        count = self.conditioner.autoregressive_parameter_count(
            inputs[0].shape,
            self.transformer.params_per_feature(),
            context.shape if context is not None else None,
        )
        return count + self.transformer.parameter_count()

    def build(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> AutoregressiveLayer:
        from flowspec.layers.autoregressive import AutoregressiveLayer

        (x,) = inputs
        transformer = self.transformer.build()
        with no_empty_layer_warning():
            conditioner = self.conditioner.build_autoregressive(
                x.shape, self.transformer.params_per_feature(), context.shape if context else None
            )
        # One sweep per rank: after sweep k the features of the k lowest ranks are exact
        # (D sweeps for one feature per rank; one per patch for TarFlow's patch tokens).
        sweeps = len(set(self.conditioner.autoregressive_ranks(x.shape)))
        return AutoregressiveLayer(conditioner, transformer, self.direction == "maf", sweeps)

    def describe(self) -> dict:
        return {
            "direction": self.direction,
            "transformer": self.transformer.describe(),
            "conditioner": self.conditioner.describe(),
        }
