"""Quick fixes: each did-you-mean hint as an edit that writes the suggested name over the
misspelt one (a field, a kind, a reference or its port, a block)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from flowspec.diagnostics import Diagnostic, suggestion
from flowspec.lsp.analysis import Analysis, Span

__all__ = ["Fix", "fixes"]


@dataclass(frozen=True)
class Fix:
    """Replace the text of ``span`` by ``new_text``."""

    title: str
    span: Span
    new_text: str


def _words(analysis: Analysis, diagnostic: Diagnostic) -> list[tuple[str, Span]]:
    """The names written at the diagnostic's path: its key, and its value split at dots
    (``split.out3`` is a node name and a port)."""
    words: list[tuple[str, Span]] = []
    key = analysis.key_span(diagnostic.path)
    if key is not None and diagnostic.path:
        words.append((str(diagnostic.path[-1]), key))
    value = analysis.value_span(diagnostic.path)
    if value is not None and value.start[0] == value.end[0]:
        line, start = value.start
        text = analysis.lines[line][start : value.end[1]]
        offset = start + (1 if text[:1] in "'\"" else 0)
        for part in text.strip("'\"").split("."):
            words.append((part, Span((line, offset), (line, offset + len(part)))))
            offset += len(part) + 1
    return words


def fixes(analysis: Analysis, diagnostic: Diagnostic) -> list[Fix]:
    """The quick fix of a diagnostic whose hint suggests a name, or none."""
    suggested = suggestion(diagnostic.hint)
    if suggested is None:
        return []
    words = [(word, span) for word, span in _words(analysis, diagnostic) if word != suggested]
    if not words:
        return []
    word, span = max(
        words, key=lambda item: difflib.SequenceMatcher(None, item[0], suggested).ratio()
    )
    return [Fix(f"Replace '{word}' with '{suggested}'", span, suggested)]
