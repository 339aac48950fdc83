"""Drawings of checked flow graphs (Graphviz), imported on first use so that listing the
formats (:mod:`flowspec.render.formats`) does not load the drawing code."""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["FORMATS", "PALETTE", "RenderResult", "render", "to_dot"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        return getattr(importlib.import_module("flowspec.render.graphviz"), name)
    raise AttributeError(f"module 'flowspec.render' has no attribute {name!r}")
