"""Sections of a markdown file that one script owns, between HTML comment markers."""

from __future__ import annotations

import re

__all__ = ["marked", "replace_marked"]


def marked(name: str, block: str) -> str:
    """``block`` between the ``<!-- name:start -->`` and ``<!-- name:end -->`` markers."""
    return f"<!-- {name}:start -->\n{block}\n<!-- {name}:end -->"


def replace_marked(text: str, name: str, block: str) -> str:
    """``text`` with its ``name`` section replaced by ``block`` (markers kept); a
    ValueError when ``text`` has no such section."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.DOTALL)
    if not pattern.search(text):
        raise ValueError(f"no {start} ... {end} section to replace")
    return pattern.sub(lambda _: marked(name, block), text, count=1)
