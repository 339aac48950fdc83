"""Diagonal normal base distribution with a learned mean and scale.

``p(z) = N(z; mu, diag sigma^2)`` with one learned ``mu`` and ``log sigma`` per element of
the event, both starting at 0 (so it starts as the standard normal). A learned base is the
"learnable base distribution" of e.g. Glow (Kingma and Dhariwal 2018, arXiv:1807.03039);
see Papamakarios et al. 2021, "Normalizing Flows for Probabilistic Modeling and
Inference", arXiv:1912.02762, section 2.

Example::

    prior: {kind: diagonal_normal, in: body}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from flowspec.core.example import Example
from flowspec.core.ports import PortInfo
from flowspec.nodes._unconditional_base import UnconditionalDistributionSpec

if TYPE_CHECKING:
    from flowspec.layers.diagonal_normal import DiagonalNormal

__all__ = ["DiagonalNormalSpec"]


class DiagonalNormalSpec(UnconditionalDistributionSpec):
    """Normal N(mu, diag sigma^2) over the event, with learned mu and log sigma (init 0)."""

    kind: Literal["diagonal_normal"] = "diagonal_normal"
    summary = "diagonal normal base distribution N(mu, diag sigma^2), mu and sigma learned"
    reference = (
        "Papamakarios et al. 2021, Normalizing Flows for Probabilistic Modeling and "
        "Inference, arXiv:1912.02762"
    )
    contribution = "log N(z; mu, diag sigma^2)"

    has_parameters = True
    examples = (
        Example({}, (PortInfo((2,)),), label="flat"),
        Example({}, (PortInfo((1, 2, 2)),), label="image"),
    )

    def parameter_count(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> int:
        """A mean and a log-scale per element of the event."""
        return 2 * inputs[0].numel

    def build(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> DiagonalNormal:
        from flowspec.layers.diagonal_normal import DiagonalNormal

        return DiagonalNormal(inputs[0].shape)
