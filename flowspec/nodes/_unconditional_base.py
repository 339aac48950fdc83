"""Base distributions on the real line without a context (standard_normal, diagonal_normal):
they end a path and need real values (a bounded input is warned about, W501)."""

from __future__ import annotations

from flowspec.core.node import NodeCheck, NodeSpec
from flowspec.core.ports import PortInfo
from flowspec.nodes._checks import check_real_valued

__all__ = ["UnconditionalDistributionSpec"]


class UnconditionalDistributionSpec(NodeSpec):
    """A terminal density over its input's event, with no context."""

    terminal = True

    def infer(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None, check: NodeCheck
    ) -> tuple[PortInfo, ...] | None:
        check_real_valued(inputs[0], check)
        return ()
