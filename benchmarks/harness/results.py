"""Sections of benchmarks/RESULTS.md that a suite rewrites itself, between its markers."""

from __future__ import annotations

from pathlib import Path

__all__ = ["RESULTS", "marked", "replace_section"]

RESULTS = Path(__file__).resolve().parents[1] / "RESULTS.md"


def marked(name: str, text: str) -> str:
    """``text`` between the markers ``<!-- NAME:start -->`` and ``<!-- NAME:end -->``."""
    return f"<!-- {name}:start -->\n{text}\n<!-- {name}:end -->"


def replace_section(name: str, text: str, path: Path = RESULTS) -> None:
    """Put ``text`` between the markers of ``name`` in ``path``: in place of what they held,
    or at the end of the file when it has no such markers yet."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    document = path.read_text()
    if start in document and end in document:
        head, rest = document.split(start, 1)
        document = head + marked(name, text) + rest.split(end, 1)[1]
    else:
        document = document.rstrip("\n") + "\n\n" + marked(name, text) + "\n"
    path.write_text(document)
