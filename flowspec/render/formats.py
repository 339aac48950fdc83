"""The output formats of drawings, apart from the drawing code so that the CLI can list
them without importing Graphviz."""

from __future__ import annotations

__all__ = ["FORMATS"]

#: Output suffixes :func:`flowspec.render.render` accepts, and the Graphviz format each one
#: asks for (None: write the DOT source itself).
FORMATS: dict[str, str | None] = {
    ".svg": "svg",
    ".png": "png",
    ".pdf": "pdf",
    ".gv": None,
    ".dot": None,
}
