"""References in a spec: ``in`` and ``context`` values (``body``, ``split.out1``) and the
``block`` a block use names; where they point, and what may be referenced where.

A node's data input may be any data input or node output not consumed by another node
(every output is consumed exactly once, E205), not its own and not one downstream of it
(E207: a cycle); its context any context input or node output (context may be shared)
that is not downstream of it either. Outputs are written ``node`` for a node with one
output and ``node.port`` otherwise; a block use is referenced by its name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flowspec.core.node import NodeSpec
from flowspec.diagnostics import SpecPath
from flowspec.lsp.analysis import Analysis, Position, Span, Token
from flowspec.spec.validate import SpecModel, referenced_names

__all__ = ["Reference", "reference_at", "is_reference", "block_name_at", "referable"]


@dataclass(frozen=True)
class Reference:
    """A reference value split at its dot, and which part ``position`` is on."""

    name: str
    port: str | None
    name_span: Span
    port_span: Span | None
    on_port: bool


def is_reference(path: SpecPath) -> bool:
    """Whether ``path`` holds a reference: ``nodes.X.in``, ``nodes.X.in[i]``, ``nodes.X.context``."""
    if len(path) < 3 or path[0] != "nodes":
        return False
    rest = path[2:]
    return rest in (("in",), ("context",)) or (len(rest) == 2 and rest[0] == "in")


def reference_at(analysis: Analysis, token: Token, position: Position) -> Reference | None:
    """The reference ``token`` holds, if it is a reference value."""
    if token.is_key or not isinstance(token.value, str) or not is_reference(token.path):
        return None
    line, start = token.span.start
    text = analysis.lines[line]
    offset = text.find(token.value, start)
    offset = start if offset < 0 else offset
    name, dot, port = token.value.partition(".")
    name_span = Span((line, offset), (line, offset + len(name)))
    if not dot:
        return Reference(name, None, name_span, None, False)
    port_start = offset + len(name) + 1
    port_span = Span((line, port_start), (line, port_start + len(port)))
    return Reference(name, port, name_span, port_span, position >= (line, port_start))


def block_name_at(token: Token) -> str | None:
    """The block a ``block:`` value names."""
    if token.is_key or token.path[-1] != "block" or not isinstance(token.value, str):
        return None
    return token.value


def _downstream(nodes: dict[str, Any], start: str) -> set[str]:
    """``start`` and every node that reads it, directly or not (from raw node entries)."""
    readers: dict[str, set[str]] = {}
    for name, entry in nodes.items():
        for source in referenced_names(entry):
            readers.setdefault(source, set()).add(str(name))
    found, pending = {start}, [start]
    while pending:
        for reader in readers.get(pending.pop(), ()):
            if reader not in found:
                found.add(reader)
                pending.append(reader)
    return found


def _consumed(nodes: dict[str, Any], but: str) -> set[str]:
    """The references other nodes than ``but`` read as data."""
    used: set[str] = set()
    for name, entry in nodes.items():
        if name == but or not isinstance(entry, dict):
            continue
        value = entry.get("in")
        items = value if isinstance(value, list) else [value]
        used |= {item for item in items if isinstance(item, str)}
    return used


def referable(data: Any, spec: SpecModel | None, path: SpecPath) -> dict[str, str]:
    """What the reference at ``path`` (``nodes.X.in``, ``.in[i]`` or ``.context``) may
    name, each with a short description."""
    nodes = data.get("nodes") if isinstance(data, dict) else None
    inputs = data.get("inputs") if isinstance(data, dict) else None
    if not isinstance(nodes, dict) or not isinstance(inputs, dict):
        return {}
    node = str(path[1])
    as_context = path[2] == "context"
    found: dict[str, str] = {}
    for name, entry in inputs.items():
        is_context = isinstance(entry, dict) and entry.get("context") is True
        if is_context == as_context:
            shape = entry.get("shape") if isinstance(entry, dict) else None
            found[str(name)] = f"{'context' if is_context else 'data'} input {shape}"
    excluded = _downstream(nodes, node)
    for name, entry in nodes.items():
        if name in excluded or not isinstance(entry, dict):
            continue
        for label, description in _outputs(str(name), entry, spec):
            found[label] = description
    if not as_context:
        consumed = _consumed(nodes, node)
        found = {label: text for label, text in found.items() if label not in consumed}
    return found


def _outputs(name: str, entry: dict, spec: SpecModel | None) -> list[tuple[str, str]]:
    """How a node's outputs are written, each with the node's kind."""
    if "block" in entry:
        return [(name, f"block use of {entry['block']}")]
    node = spec.nodes.get(name) if spec is not None else None
    kind = str(entry.get("kind"))
    if not isinstance(node, NodeSpec):  # not validated: written as its name
        return [(name, kind)]
    ports = node.output_ports()
    if len(ports) == 1:
        return [(name, kind)]
    return [(f"{name}.{port}", f"{kind}, output {port}") for port in ports]
