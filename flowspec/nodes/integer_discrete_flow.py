"""Integer discrete flow: additive coupling with rounding, ``z_b = x_b + round(t(x_a))``.

Hoogeboom, Peters, van den Berg and Welling 2019, "Integer Discrete Flows and Lossless
Compression", arXiv:1905.07376. The last ``ceil(D / factor)`` features (channels of an image
``[C, H, W]``) ``x_b`` are shifted by the rounded output of the network on the others ``x_a``
(scaled by ``1/K`` when the input has K levels): ``factor: 2`` halves, ``factor: 4`` shifts a
quarter, as the official CIFAR-10 code (``split_quarter``). On images the network is a
convolutional conditioner (``densenet`` in IDF's form, ``resnet``, ``conv``) from the kept
channels to the shifts at the same pixels. The map is a bijection of the integers with zero contribution, so the model is
an exact pmf over all integers (pair it with a ``discretized_logistic`` base). Data with K
levels is a finite set, and so is its image: the base, a pmf over all integers, also puts
mass on integers no data maps to, so the model's mass on the data's domain is below one
(W501 at the base, and the model is classed a lower bound, as for a density on the real
line fed bounded values). Gradients pass the rounding straight-through. The network's last
layer starts at zero (identity).

Example::

    - {kind: integer_discrete_flow, net: {kind: mlp, hidden: [128, 128]}}
    - {kind: integer_discrete_flow, factor: 4, net: {kind: densenet, channels: 512, depth: 12}}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from flowspec.conditioners.choice import CouplingConditionerChoice
from flowspec.conditioners.mlp import FlatNetSpec, MLPSpec
from flowspec.core.example import Example
from flowspec.core.node import NodeCheck
from flowspec.core.ports import PortInfo, Support, numel
from flowspec.nodes._discrete_coupling import DiscreteCouplingSpec

if TYPE_CHECKING:
    from flowspec.layers.integer_discrete_flow import IntegerDiscreteFlow

__all__ = ["IntegerDiscreteFlowSpec"]


class IntegerDiscreteFlowSpec(DiscreteCouplingSpec):
    """IDF additive coupling on integers; the output may be any integer."""

    kind: Literal["integer_discrete_flow"] = "integer_discrete_flow"
    net: CouplingConditionerChoice = Field(  # images too
        default_factory=MLPSpec,
        description="Conditioner from the kept features (channels of an image) to the "
        "shifts: a flat network, or on images a convolutional one.",
    )
    factor: int = Field(
        default=2,
        ge=2,
        le=64,
        description="The last ceil(D / factor) features (channels of an image) are shifted, "
        "the others kept: 2 halves, 4 shifts a quarter (IDF's CIFAR-10 code).",
    )
    ranks = (1, 3)  # images split on their channels
    summary = "integer discrete flow: z_b = x_b + round(t(x_a)), zero volume"
    reference = "Hoogeboom et al. 2019, Integer Discrete Flows, arXiv:1905.07376"

    has_parameters = True
    examples = (
        Example({"net": {"hidden": [8]}}, (PortInfo((4,), Support(levels=5)),), label="levels"),
        Example(
            {"net": {"hidden": [8]}}, (PortInfo((3,), Support(integers=True)),), label="integers"
        ),
        Example(
            {"factor": 4, "net": {"kind": "densenet", "channels": 4, "depth": 2}},
            (PortInfo((4, 2, 2), Support(levels=8)),),
            label="image",
        ),
    )

    def parts(self, x: PortInfo) -> tuple[tuple[int, ...], tuple[int, ...]]:
        """The shapes of the kept and the shifted part (split on event axis 0)."""
        changed = -(-x.shape[0] // self.factor)
        rest = tuple(x.shape[1:])
        return (x.shape[0] - changed, *rest), (changed, *rest)

    def infer(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None, check: NodeCheck
    ) -> tuple[PortInfo, ...] | None:
        (x,) = inputs
        if not self.check_discrete_input(x, check, need_levels=False):
            return None
        if not self.net.check_coupling(*self.parts(x), None, check, "net"):
            return None
        # A bijection of the integers: values with levels (a finite set) stay a finite set.
        confined = x.support.partial or x.support.levels is not None
        return (PortInfo(x.shape, Support(integers=True, partial=confined)),)

    def parameter_count(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> int:
        return self.net.coupling_parameter_count(*self.parts(inputs[0]), 1, None)

    def build(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> IntegerDiscreteFlow:
        from flowspec.layers.integer_discrete_flow import IntegerDiscreteFlow

        x = inputs[0]
        keep, change = self.parts(x)
        scale = 1.0 / x.support.levels if x.support.levels else 1.0
        if isinstance(self.net, FlatNetSpec):  # the flattened kept part in, the shifts out
            net = self.net.build(numel(keep), numel(change), zero_init=True)
            return IntegerDiscreteFlow(keep[0], scale, net, convolutional=False)
        net = self.net.build_coupling(keep, change, 1, None)
        return IntegerDiscreteFlow(keep[0], scale, net, convolutional=True)
