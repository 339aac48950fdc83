"""Go to definition: from a reference to the node or input it names (``in: body``), from
its port (``split.out1``) to the kind that declares the node's ports, and from a block
use's ``block: step`` to the block."""

from __future__ import annotations

from flowspec.lsp.analysis import Analysis, Position, Span
from flowspec.lsp.references import block_name_at, reference_at

__all__ = ["definition"]


def definition(analysis: Analysis, position: Position) -> Span | None:
    """Where the thing at ``position`` is defined, or None."""
    token = analysis.token_at(position)
    if token is None:
        return None
    reference = reference_at(analysis, token, position)
    if reference is not None:
        if reference.on_port:
            declared = analysis.value_span(("nodes", reference.name, "kind"))
            if declared is not None:
                return declared
        return analysis.key_span(("nodes", reference.name)) or analysis.key_span(
            ("inputs", reference.name)
        )
    block = block_name_at(token)
    return analysis.key_span(("blocks", block)) if block is not None else None
