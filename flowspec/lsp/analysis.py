"""One spec text, checked, with the positions of its tokens.

Positions here are 0-based ``(line, character)`` with characters counted in code points,
as the loader counts them; the server converts them to the client's units. Every key and
every scalar value of the spec is a :class:`Token`, found by position for hover and
definition, and every diagnostic gets the :class:`Span` an editor underlines: the whole
key (with its value when that is a scalar on the same line: ``in: bb``), the whole value,
or the word at the diagnostic's position.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from flowspec.api import Diagnosis, diagnose
from flowspec.diagnostics import Diagnostic, SpecError, SpecPath
from flowspec.graph.model import FlowGraph, GraphNode
from flowspec.spec.loader import LoadedSpec, SourceMap, load_spec_text

__all__ = ["Position", "Span", "Token", "Analysis", "analyse", "value_at"]

Position = tuple[int, int]
_WORD = re.compile(r"\S+")
#: Top-level keys that make a YAML file a spec.
_SECTIONS = ("flowspec", "inputs", "nodes", "blocks")


@dataclass(frozen=True)
class Span:
    """A range of text, ``end`` just past its last character."""

    start: Position
    end: Position

    def __contains__(self, position: Position) -> bool:
        return self.start <= position <= self.end


@dataclass(frozen=True)
class Token:
    """A mapping key or a scalar value of the spec: where it is, and what path it has."""

    span: Span
    path: SpecPath
    is_key: bool
    value: Any


def _from_map(position: tuple[int, int]) -> Position:
    """A source map's 1-based ``(line, col)`` as a 0-based position."""
    return position[0] - 1, position[1] - 1


def value_at(data: Any, path: SpecPath) -> Any:
    """The value at ``path`` in loaded data, or None when there is none."""
    for part in path:
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            return None
    return data


@dataclass
class Analysis:
    """A spec text as the checks see it: loaded (None when the YAML does not load), its
    diagnosis (the typed spec and its graph), and every diagnostic."""

    text: str
    loaded: LoadedSpec | None
    diagnosis: Diagnosis | None
    diagnostics: list[Diagnostic]
    lines: list[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.lines = self.text.split("\n")

    @property
    def is_spec(self) -> bool:
        """Whether the text is a flowspec spec (or on its way to one): it has one of a
        spec's top-level keys, or does not load but names one. Editors start the server
        for every YAML file; the others get no diagnostics, hover or completion."""
        if self.loaded is not None:
            return isinstance(self.data, dict) and any(key in self.data for key in _SECTIONS)
        return any(f"{key}:" in self.text for key in _SECTIONS)

    @property
    def graph(self) -> FlowGraph | None:
        return self.diagnosis.graph if self.diagnosis is not None else None

    @property
    def data(self) -> Any:
        return self.loaded.data if self.loaded is not None else None

    @property
    def source(self) -> SourceMap | None:
        return self.loaded.source if self.loaded is not None else None

    @cached_property
    def _tokens(self) -> dict[int, list[Token]]:
        """Every token, by the line it starts on."""
        by_line: dict[int, list[Token]] = {}
        if self.loaded is None:
            return by_line
        source = self.loaded.source
        pending: list[tuple[SpecPath, Any]] = [((), self.loaded.data)]
        while pending:
            path, value = pending.pop()
            if isinstance(value, dict):
                for key, item in value.items():
                    key_path = (*path, key)
                    span = self._span(source.keys, source.key_ends, key_path)
                    if span is not None:
                        by_line.setdefault(span.start[0], []).append(
                            Token(span, key_path, True, key)
                        )
                    pending.append((key_path, item))
            elif isinstance(value, list):
                pending += [((*path, index), item) for index, item in enumerate(value)]
            else:
                span = self._span(source.values, source.value_ends, path)
                if span is not None:
                    by_line.setdefault(span.start[0], []).append(Token(span, path, False, value))
        return by_line

    @staticmethod
    def _span(starts: Any, ends: Any, path: SpecPath) -> Span | None:
        start, end = starts.get(path), ends.get(path)
        if start is None or end is None:
            return None
        return Span(_from_map(start), _from_map(end))

    def token_at(self, position: Position) -> Token | None:
        """The key or scalar value at ``position`` (its end included, where a cursor
        stands after typing), or None."""
        line = position[0]
        candidates = [t for n in (line, line - 1) for t in self._tokens.get(n, [])]
        inside = [t for t in candidates if position in t.span]
        # A cursor between two tokens (``in:|x``) is on the one that starts there.
        return max(inside, key=lambda t: t.span.start, default=None)

    def key_span(self, path: SpecPath) -> Span | None:
        """The span of the mapping key that ends ``path``."""
        source = self.source
        return self._span(source.keys, source.key_ends, path) if source else None

    def value_span(self, path: SpecPath) -> Span | None:
        """The span of the value at ``path`` (a whole collection, for one)."""
        source = self.source
        return self._span(source.values, source.value_ends, path) if source else None

    def diagnostic_span(self, diagnostic: Diagnostic) -> Span:
        """What an editor underlines for ``diagnostic``."""
        if diagnostic.location is None:
            return Span((0, 0), (0, 0))
        start = (diagnostic.location.line - 1, diagnostic.location.col - 1)
        span = self._path_span(diagnostic.path)
        if span is not None and span.start == start:
            return span
        token = self.token_at(start)
        if token is not None and token.span.start == start:
            return token.span
        return self._word_span(start)

    def _path_span(self, path: SpecPath) -> Span | None:
        """The span of what :meth:`SourceMap.locate` points at for ``path``: its key (and
        a scalar value on the same line), else its value, else those of an ancestor."""
        source = self.source
        if source is None:
            return None
        for end in range(len(path), -1, -1):
            prefix = path[:end]
            key = self.key_span(prefix)
            value = self.value_span(prefix)
            if key is not None:
                scalar = not isinstance(value_at(self.data, prefix), (dict, list))
                if value is not None and scalar and value.start[0] == key.start[0]:
                    return Span(key.start, value.end)
                return key
            if value is not None:
                return value if value.start[0] == value.end[0] else self._word_span(value.start)
        return None

    def _word_span(self, start: Position) -> Span:
        """The run of non-blank characters at ``start`` (at least one character)."""
        line = self.lines[start[0]] if start[0] < len(self.lines) else ""
        match = _WORD.match(line, start[1])
        end = match.end() if match else start[1] + 1
        return Span(start, (start[0], max(end, start[1] + 1)))

    def node(self, name: str) -> GraphNode | None:
        """The graph node (or input) named ``name``, if the graph has it."""
        graph = self.graph
        return graph.nodes.get(name) if graph is not None else None


def analyse(text: str, file: str = "<editor>") -> Analysis:
    """Load and check ``text``; problems become diagnostics, never exceptions."""
    try:
        loaded = load_spec_text(text, file)
    except SpecError as error:
        return Analysis(text, None, None, error.diagnostics)
    diagnosis = diagnose(loaded)
    return Analysis(text, loaded, diagnosis, diagnosis.diagnostics)
