"""Drawings of checked flow graphs (Graphviz)."""

from flowspec.render.graphviz import FORMATS, PALETTE, RenderResult, render, to_dot

__all__ = ["FORMATS", "PALETTE", "RenderResult", "render", "to_dot"]
