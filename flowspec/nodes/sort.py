"""Sort: order the elements of an exchangeable event, model the order as uniform.

The sorting surjection of SurVAE flows (Nielsen et al. 2020, "SurVAE Flows: Surjections
to Bridge the Gap between VAEs and Flows", arXiv:2007.02731, section 4.1), for sets such
as point clouds. Inference sorts the ``N`` rows of the event ``[N]`` or ``[N, d]`` by
coordinate ``by`` (deterministic, ``N!``-to-one); generation draws a uniformly random
permutation of the sorted rows. The contribution is ``log(1/N!)`` (ties have probability
zero for continuous values).

The model's density ``p(x) = p(sort(x)) / N!`` is exchangeable by construction. It
integrates to one only if the rest of the flow puts all its mass on sorted sequences, the
cone ``x_0 < x_1 < ... < x_{N-1}`` (in coordinate ``by``); a flow onto a Gaussian puts
only ``1/N!`` of it there, so ``log_prob`` is then the exact log-density of a
sub-normalised model, a lower bound on the normalised one. The compiler tracks the sorted
values (``Support.ordered``): a density of the whole space fed them warns (W501) and the
model is classed a lower bound. ``ordered_to_real`` right after the sort maps the cone
onto the whole space (first value, then the logs of the gaps), and the model is exact.
For data that is not exchangeable this kind throws away the order, and ``log(1/N!)`` is
then the wrong likelihood of the ordered data.

Example::

    order: {kind: sort, in: points, by: 0}
    gaps: {kind: ordered_to_real, in: order}
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from flowspec.core.example import Example
from flowspec.core.node import NodeCheck, NodeSpec
from flowspec.core.ports import PortInfo
from flowspec.nodes._checks import check_continuous

if TYPE_CHECKING:
    from flowspec.layers.sort import Sort

__all__ = ["SortSpec"]


class SortSpec(NodeSpec):
    """Sort the rows of [N] or [N, d] by one coordinate; the order is uniform, log(1/N!)."""

    kind: Literal["sort"] = "sort"
    by: int = Field(
        default=0, ge=0, description="The coordinate ([N, d] events) rows are sorted by."
    )
    summary = "SurVAE sort: z = rows sorted, a uniform permutation in generation"
    reference = "Nielsen et al. 2020, SurVAE Flows, arXiv:2007.02731"
    contribution = "-log N!"
    bijective = False
    stochastic_inverse = True
    has_parameters = False

    has_parameters = False
    examples = (
        Example({}, (PortInfo((3, 2)),), label="points"),
        Example({}, (PortInfo((4,)),), label="set"),
    )

    def infer(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None, check: NodeCheck
    ) -> tuple[PortInfo, ...] | None:
        (x,) = inputs
        if len(x.shape) not in (1, 2) or x.shape[0] < 2:
            check.error(
                "E811",
                f"sort needs a set of N >= 2 elements [N] or N points [N, d], got {x}",
                "in",
                hint="reshape the input to [N, d], one row per element of the set",
            )
            return None
        width = x.shape[1] if len(x.shape) == 2 else 1
        if self.by >= width:
            check.error(
                "E812",
                f"by: {self.by} names a coordinate the rows of {x} do not have (they have {width})",
                "by",
                hint=f"choose by between 0 and {width - 1}",
            )
            return None
        if not check_continuous(x, self.kind, check):
            return None
        return (PortInfo(x.shape, replace(x.support, sorted_by=self.by)),)

    def modelled_by(self) -> str:
        return "the order: a uniform permutation"

    def build(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> Sort:
        from flowspec.layers.sort import Sort

        n = inputs[0].shape[0]
        return Sort(self.by, -math.lgamma(n + 1))
