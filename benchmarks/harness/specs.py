"""Generated specs of any size, for the benchmarks of the compiler and the language server."""

from __future__ import annotations

import argparse

__all__ = ["chain_spec", "sized_parser"]

_HEADER = ['flowspec: "1"', "name: chain", "inputs:", "  x: {shape: [4]}"]


def chain_spec(size: int, explicit: bool) -> str:
    """A spec of ``size`` graph nodes: input, ``size - 2`` flow nodes, prior (``size`` even)."""
    flow_nodes = size - 2
    if flow_nodes < 2 or flow_nodes % 2:
        raise ValueError(f"size must be even and at least 4, got {size}")
    if explicit:
        lines = [*_HEADER, "nodes:"]
        previous = "x"
        for k in range(flow_nodes):
            kind = "affine_coupling" if k % 2 == 0 else "reverse"
            lines.append(f"  n{k}: {{kind: {kind}, in: {previous}}}")
            previous = f"n{k}"
    else:
        lines = [
            *_HEADER,
            "blocks:",
            "  step:",
            "    - {kind: affine_coupling}",
            "    - {kind: reverse}",
            "nodes:",
            f"  body: {{block: step, repeat: {flow_nodes // 2}, in: x}}",
        ]
        previous = "body"
    lines.append(f"  prior: {{kind: standard_normal, in: {previous}}}")
    return "\n".join(lines) + "\n"


def sized_parser(description: str, repeats: str, repeats_help: str) -> argparse.ArgumentParser:
    """The options of a benchmark over generated specs: ``--quick``, ``--sizes`` and how
    often each figure is measured (``repeats``, e.g. ``--runs``)."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a fast smoke run")
    parser.add_argument("--sizes", type=int, nargs="+", help="graph sizes (even, >= 4)")
    parser.add_argument(repeats, type=int, help=repeats_help)
    return parser
