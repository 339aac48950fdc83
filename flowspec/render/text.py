"""Spec text made safe for Graphviz: HTML-like labels, escString attributes, short ids.

Everything a drawing shows comes from the user (ids, names, settings), so it is escaped
here and nowhere else: quotes, angle brackets, ampersands, backslashes and newlines all
draw as written.
"""

from __future__ import annotations

import html
import textwrap

import graphviz

__all__ = ["BREAK", "MAX_ID", "html_text", "attribute", "shorten", "two_lines"]

#: A centred line break inside an HTML-like label.
BREAK = '<BR ALIGN="CENTER"/>'

#: Ids longer than this are shortened in boxes (the tooltip holds the whole id).
MAX_ID = 28


def html_text(value: object) -> str:
    """Text for an HTML-like label: escaped, with newlines as line breaks."""
    return html.escape(str(value), quote=True).replace("\n", BREAK)


def attribute(value: object) -> str:
    """Text for a plain (escString) attribute such as a tooltip: backslashes, ``<...>`` and
    entities lose their special meaning, newlines become line breaks (Graphviz quotes the
    rest)."""
    escaped = str(value).replace("&", "&amp;").replace("\\", "\\\\").replace("\n", "\\n")
    return graphviz.nohtml(escaped)


def shorten(value: str, limit: int = MAX_ID) -> str:
    """``value`` cut in the middle to at most ``limit`` characters (the end of an id, its
    repetition and position, stays visible); one line only."""
    value = value.replace("\n", " ")
    if len(value) <= limit:
        return value
    head = (limit - 1) // 2
    return f"{value[:head]}…{value[len(value) - (limit - 1 - head) :]}"


def two_lines(value: str, limit: int) -> list[str]:
    """``value`` on one or two lines of at most ``limit`` characters, broken between words
    (``resnet channels 32 ...`` stays whole); what does not fit in two lines is cut in the
    middle of the second (its end stays visible)."""
    lines = textwrap.wrap(value.replace("\n", " "), limit) or [""]
    if len(lines) <= 2:
        return lines
    return [lines[0], shorten(" ".join(lines[1:]), limit)]
