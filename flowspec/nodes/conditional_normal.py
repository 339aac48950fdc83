"""Conditional diagonal normal base distribution ``p(z | c)``.

``p(z | c) = N(z; mu(c), diag sigma(c)^2)`` with ``mu`` and ``sigma`` computed from the
context port by a network (starting as N(0, I)). This is the conditional prior of the
factored-out half in multi-scale flows (Dinh et al. 2016, RealNVP, arXiv:1605.08803;
Kingma and Dhariwal 2018, Glow, arXiv:1807.03039, where the prior of the factored-out
variables is computed from the remaining ones), and the base of conditional flows
(Winkler et al. 2019, "Learning Likelihoods with Conditional Normalizing Flows",
arXiv:1912.00042).

The context may have any shape: the net sees it flattened, so the factored-out half of an
image ``[C/2, H, W]`` can be conditioned on the other half ``[C/2, H, W]`` directly.

Example::

    halves: {kind: split, in: body, sizes: [4, 4]}
    out_prior: {kind: conditional_normal, in: halves.out1, context: halves.out0}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from flowspec.core.example import Example
from flowspec.core.node import NodeCheck, NodeSpec
from flowspec.core.ports import PortInfo
from flowspec.densities.gaussian import GaussianSpec
from flowspec.nodes._checks import check_real_valued

if TYPE_CHECKING:
    from flowspec.layers.conditional_normal import ConditionalNormal

__all__ = ["ConditionalNormalSpec"]


class ConditionalNormalSpec(NodeSpec, GaussianSpec):  # type: ignore[misc]  # NodeSpec.describe wins
    """Normal N(mu(c), diag sigma(c)^2) of the input given a context port c of any shape
    (flattened for the net); its fields (net, min_scale) are those of every conditional
    Gaussian in flowspec."""

    kind: Literal["conditional_normal"] = "conditional_normal"  # type: ignore[assignment]
    summary = "conditional normal base distribution N(mu(c), diag sigma(c)^2)"
    reference = "Kingma and Dhariwal 2018, Glow, arXiv:1807.03039"
    contribution = "log N(z; mu(c), diag sigma(c)^2)"
    terminal = True
    accepts_context = True

    has_parameters = True
    examples = (
        Example({"net": {"hidden": [4]}}, (PortInfo((2,)),), PortInfo((3,)), label="flat"),
        Example({"min_scale": 0.01}, (PortInfo((2,)),), PortInfo((1, 2, 2)), label="image context"),
    )

    def check_static(self, check: NodeCheck) -> None:
        """A conditional density needs something to condition on."""
        if self.context is None:
            check.error(
                "E510",
                "conditional_normal needs a context: the port it is conditioned on",
                "context",
                hint="name the port to condition on, e.g. context: split.out0",
            )

    def infer(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None, check: NodeCheck
    ) -> tuple[PortInfo, ...] | None:
        check_real_valued(inputs[0], check)
        return ()

    def parameter_count(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> int:
        assert context is not None
        return self.density_parameter_count(inputs[0], context.numel)

    # A node's build (ports in), not the Gaussian density's (an event and a width).
    def build(  # type: ignore[override]
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None
    ) -> ConditionalNormal:
        from flowspec.layers.conditional_normal import ConditionalNormal

        assert context is not None
        return ConditionalNormal(GaussianSpec.build(self, inputs[0], context.numel))
