"""Ordered to real: map sorted values (a cone) onto the whole space, first value then log-gaps.

``sort`` (SurVAE flows, Nielsen et al. 2020, arXiv:2007.02731, section 4.1) leaves each set
in one of its ``N!`` orderings: the sorted values fill only the cone
``x_0 < x_1 < ... < x_{N-1}``, to which a Gaussian gives ``1/N!`` of its mass. This node is
the bijection of that cone onto the whole space that Stan uses for ordered vectors (Stan
Reference Manual, "Ordered vector" constraint transform; TensorFlow Probability's
``Ordered`` bijector)::

    y_0 = x_0,    y_i = log(x_i - x_{i-1})  (i >= 1),

applied to the coordinate ``by`` the rows were sorted by (the other coordinates of points
``[N, d]`` pass unchanged). Its Jacobian is triangular with ``dy_i/dx_i = 1/(x_i - x_{i-1})``,
so the contribution is

    -sum_{i >= 1} log(x_i - x_{i-1})

and the inverse is ``x_0 = y_0``, ``x_i = x_{i-1} + exp(y_i)``: one pass each way. After it,
a flow onto a density of the whole space is normalised on the cone, and sort plus this node
is an exact model of exchangeable data. It needs the sort's own layout, so it comes right
after the ``sort`` (E813 otherwise). Gaps are floored at the dtype's smallest normal number
(ties have probability zero but happen in floating point).

Example::

    order: {kind: sort, in: points, by: 0}
    gaps: {kind: ordered_to_real, in: order}
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Literal

from flowspec.core.example import Example
from flowspec.core.node import NodeCheck, NodeSpec
from flowspec.core.ports import REAL, PortInfo, Support

if TYPE_CHECKING:
    from flowspec.layers.ordered_to_real import OrderedToReal

__all__ = ["OrderedToRealSpec"]


class OrderedToRealSpec(NodeSpec):
    """Sorted values -> the first value and the logs of the gaps, in the sorted coordinate."""

    kind: Literal["ordered_to_real"] = "ordered_to_real"
    summary = "sorted values onto the whole space: y_0 = x_0, y_i = log(x_i - x_(i-1))"
    reference = (
        "Stan Reference Manual, ordered vector transform; Nielsen et al. 2020, SurVAE Flows, "
        "arXiv:2007.02731"
    )
    contribution = "-sum log(x_i - x_(i-1))"
    has_parameters = False
    examples = (
        Example({}, (PortInfo((3, 2), Support(sorted_by=0)),), label="points"),
        Example({}, (PortInfo((4,), Support(sorted_by=0)),), label="set"),
    )

    def infer(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None, check: NodeCheck
    ) -> tuple[PortInfo, ...] | None:
        (x,) = inputs
        if x.support.sorted_by is None:
            check.error(
                "E813",
                f"ordered_to_real maps sorted values onto the whole space, but its input "
                f"lives in {x.support}, not in the sorted layout a sort node produces",
                "in",
                hint="put it right after the sort: {kind: ordered_to_real, in: <the sort node>}",
            )
            return None
        # The cone onto the whole space: what is left is what confined the values before
        # they were sorted (a bounded interval, values moved by learned layers).
        unsorted = replace(x.support, ordered=False, sorted_by=None)
        return (PortInfo(x.shape, REAL if unsorted.is_real_line else unsorted.moved()),)

    def build(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> OrderedToReal:
        from flowspec.layers.ordered_to_real import OrderedToReal

        by = inputs[0].support.sorted_by
        assert by is not None, "infer reported the problem"
        return OrderedToReal(by)
