"""What the amortized determinant flows share: parameters computed per example from a context.

In variational inference the posterior flow's parameters are produced from the data by the
encoder (Rezende and Mohamed 2015, arXiv:1505.05770, Sec. 4; van den Berg et al. 2018,
arXiv:1803.05649, Sec. 3): each example gets its own flow. Here a planar, radial or
Sylvester node given a ``context`` computes its raw parameters as ``theta + net(c)``: the
learned global ``theta`` of the unconditional layer plus a network of the flat context whose
last layer starts at zero, so the layer starts where the unconditional one does. The raw
parameters then pass through the same reparameterisations as the global ones (planar
``u.w >= -1``, radial ``beta >= -alpha``, Sylvester's ``R_ii R~_ii > -1`` and orthonormal
``Q``), so the invertibility conditions hold for every example whatever the network outputs.

Inside a ``flow`` density (a VAE's encoder) the layers' context is the density's: the data,
or the hidden features of the base Gaussian's network (``layer_context: hidden``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import Field

from flowspec.conditioners.choice import NetChoice
from flowspec.core.node import NodeCheck, NodeSpec
from flowspec.core.ports import PortInfo

if TYPE_CHECKING:
    from torch import nn

__all__ = ["AmortizedMap"]


class AmortizedMap(NodeSpec):
    """A learned flat bijection whose parameters a ``net`` may compute from the context."""

    accepts_context = True
    net: NetChoice | None = Field(
        default=None,
        description="Network from the flat context to offsets of the layer's raw parameters "
        "(amortized: one flow per example; its last layer starts at zero). Needed with a "
        "context; without one the parameters are global.",
    )

    def raw_parameter_count(self, features: int) -> int:
        """How many raw parameters the unconditional layer learns (the net's outputs)."""
        raise NotImplementedError(f"node kind '{self.kind}' states no raw parameter count")

    def check_context(self, context: PortInfo | None, check: NodeCheck) -> bool:
        """A context needs a net to turn it into parameters (E762), and a flat shape (E406)."""
        if context is None:
            return True
        if self.net is None:
            check.error(
                "E762",
                f"{self.kind} is given a context but has no net to compute its parameters "
                "from it, so the context would be ignored",
                "context",
                hint="add net: {kind: mlp, hidden: []} (a linear map of the context, as in "
                "Rezende & Mohamed 2015), or remove 'context'",
            )
            return False
        return self.net.check_flat_context(context, check)

    def net_parameter_count(self, features: int, context: PortInfo | None) -> int:
        """The learned parameters of the network (0 without a context or a net)."""
        if context is None or self.net is None:
            return 0
        return self.net.parameter_count(context.numel, self.raw_parameter_count(features))

    def parameter_count(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> int:
        features = inputs[0].numel
        return self.raw_parameter_count(features) + self.net_parameter_count(features, context)

    def build_net(self, features: int, context: PortInfo | None) -> nn.Module | None:
        """The network ``c -> offsets of the raw parameters``, starting at zero (None
        without a context or a net: the layer keeps global parameters)."""
        if context is None or self.net is None:
            return None
        return self.net.build(context.numel, self.raw_parameter_count(features))
