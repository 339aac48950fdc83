"""Figures drawn on matplotlib's Agg canvas directly (no pyplot, no display and no change
to the global backend), so drawing works on headless machines and inside notebooks alike;
saved in the format the path's suffix names (``.png``, ``.pdf``, ``.svg``, ...). Imports
neither torch nor numpy."""

from __future__ import annotations

import os
from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

__all__ = ["new_figure", "save_figure"]


def new_figure(width: float, height: float) -> Figure:
    """An empty figure of ``width`` x ``height`` inches with constrained layout."""
    figure = Figure(figsize=(width, height), dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def save_figure(figure: Figure, path: str | os.PathLike[str]) -> Path:
    """Write ``figure`` to ``path`` (its folder made), through a temporary file renamed
    into place, so a reader (or another worker writing the same file) never sees half."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.tmp{target.suffix}")
    try:
        figure.savefig(temporary, bbox_inches="tight")
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
    return target
