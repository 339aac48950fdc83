"""Hover: what flowspec's own commands say about the thing under the cursor, as Markdown.

- a node kind (``kind: affine_coupling``) or a part's kind (``net: {kind: mlp}``): what
  ``flowspec nodes KIND`` prints;
- a diagnostic's range, or a code written in the text (``# see E209``): what ``flowspec
  explain CODE`` prints;
- a node id, an input name or a reference to one (``in: body``, ``split.out1``): its rows
  of the bookkeeping table of ``flowspec validate`` (shapes, dims, parameters, its term of
  log p(x)), every node of a block use's expansion;
- a field: its type, default and description.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable

from rich.console import Console

from flowspec.codes import CODES
from flowspec.diagnostics import SpecPath
from flowspec.explain import explain_text
from flowspec.graph.bookkeeping import Bookkeeping, Row, node_row, render_table
from flowspec.lsp.analysis import Analysis, Position, Token
from flowspec.lsp.models import entry_path, fields_of, kinds_for
from flowspec.lsp.references import reference_at

__all__ = ["hover", "WIDTH", "MAX_ROWS"]

#: Columns of the text rendered into a hover (tables wrap their last column to it).
WIDTH = 100
#: Rows of a block use's expansion shown before the rest is summed up.
MAX_ROWS = 24
_CODE = re.compile(r"\b[EW]\d{3}\b")


def _text(draw: Callable[[Console], None]) -> str:
    """What ``draw`` prints, as plain text."""
    buffer = io.StringIO()
    draw(Console(file=buffer, width=WIDTH, highlight=False, color_system=None))
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines()).strip("\n")


def _block(text: str) -> str:
    return f"```text\n{text}\n```"


def kind_text(name: str, part: bool) -> str | None:
    """What ``flowspec nodes NAME`` prints: a node kind, or (``part``) a part kind."""
    from flowspec.cli._parts import describe_part, part_kinds
    from flowspec.cli.nodes import describe_kind
    from flowspec.core.registry import node_kinds

    if part and name in part_kinds():
        return _text(lambda console: describe_part(name, console))
    cls = node_kinds().get(name)
    return _text(lambda console: describe_kind(cls, console)) if cls is not None else None


def _codes_at(analysis: Analysis, position: Position) -> list[str]:
    """Codes of the diagnostics whose range holds ``position``, and a code written there."""
    codes = [d.code for d in analysis.diagnostics if position in analysis.diagnostic_span(d)]
    line = analysis.lines[position[0]] if position[0] < len(analysis.lines) else ""
    for match in _CODE.finditer(line):
        if match.start() <= position[1] <= match.end() and match.group() in CODES:
            codes.append(match.group())
    return list(dict.fromkeys(code for code in codes if code in CODES))


def _rows(analysis: Analysis, name: str) -> tuple[list[Row], int] | None:
    """The bookkeeping rows of node or input ``name`` (every node of a block use), as far
    as the shape pass got, and how many nodes it has in all."""
    graph = analysis.graph
    if graph is None:
        return None
    order = graph.inference_order or list(graph.nodes)
    members = [graph.nodes[n] for n in order if n == name or graph.nodes[n].use == name]
    if not members:
        return None
    known = [node for node in members if node.spec is None or node.input_info is not None]
    return [node_row(node) for node in known], len(members)


def node_text(analysis: Analysis, name: str, port: str | None = None) -> str | None:
    """The bookkeeping of ``name`` (a node, a block use or an input) as Markdown."""
    found = _rows(analysis, name)
    if found is None:
        return None
    rows, count = found
    title = f"**{name}**"
    if count > 1:
        title += f": a block use, {count} nodes"
    if not rows:
        errors = sum(d.severity == "error" for d in analysis.diagnostics)
        return f"{title}\n\nshapes not known yet: the spec has {errors} error(s) before it"
    shown = Bookkeeping(
        analysis.graph.header.name if analysis.graph else "", rows[:MAX_ROWS], 0, 0, 0
    )
    lines = [title, _block(_text(lambda console: console.print(render_table(shown))))]
    if len(rows) > MAX_ROWS:
        lines.append(f"... and {len(rows) - MAX_ROWS} more nodes")
    if count > 1:
        first, last = rows[0], rows[-1]
        params = sum(row.params for row in rows)
        lines.append(f"dims {first.dims_in} -> {last.dims_out}, {params:,} parameters in all")
    last = rows[-1]
    if not last.is_input:
        lines.append(
            f"log p(x) term: {last.likelihood}; log_prob: {last.log_prob_cost}, "
            f"sample: {last.sample_cost}"
        )
    if port is not None and analysis.graph is not None:
        node = analysis.graph.nodes.get(name)
        if node is not None and node.output_info and port in node.output_ports:
            info = node.output_info[node.output_ports.index(port)]
            lines.append(f"port `{port}`: shape {list(info.shape)}, values {info.support}")
    if len(rows) < count:
        lines.append(f"{count - len(rows)} node(s) without shapes: errors come before them")
    return "\n\n".join(lines)


def _field_text(analysis: Analysis, token: Token) -> str | None:
    name = str(token.path[-1])
    found = next((f for f in fields_of(analysis.data, token.path[:-1]) if f.name == name), None)
    if found is None:
        return None
    return f"**{found.name}**: `{found.type}`, default `{found.default}`\n\n{found.description}"


def _token_text(analysis: Analysis, token: Token) -> str | None:
    path: SpecPath = token.path
    if not token.is_key and path[-1] == "kind" and isinstance(token.value, str):
        part = entry_path(path[:-1]) != path[:-1]
        if part and token.value not in kinds_for(analysis.data, path):
            return None
        text = kind_text(token.value, part)
        return _block(text) if text is not None else None
    reference = reference_at(analysis, token, token.span.end)
    if reference is not None:
        return node_text(analysis, reference.name, reference.port)
    if token.is_key and len(path) == 2 and path[0] in ("nodes", "inputs"):
        return node_text(analysis, str(path[1]))
    if token.is_key:
        return _field_text(analysis, token)
    return None


def hover(analysis: Analysis, position: Position) -> str | None:
    """The Markdown shown for ``position``, or None when there is nothing to say."""
    sections = [_block(explain_text(code)) for code in _codes_at(analysis, position)]
    token = analysis.token_at(position)
    if token is not None:
        text = _token_text(analysis, token)
        if text:
            sections.insert(0, text)
    return "\n\n---\n\n".join(sections) or None
