"""``flowspec render``: draw a spec's graph with Graphviz."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

import flowspec
from flowspec.cli._files import check_suffix, refuse_overwriting
from flowspec.cli._help import examples
from flowspec.cli._output import note, user_errors
from flowspec.render.formats import FORMATS

__all__ = ["render"]

EPILOG = examples(
    "flowspec render specs/realnvp_moons.yaml -o arch.svg",
    "flowspec render specs/realnvp_moons.yaml -o arch.gv    # DOT source, no Graphviz needed",
    "flowspec render specs/realnvp_moons.yaml -o all.svg --unroll   # every repetition",
)


def _check_output(path: Path) -> Path:
    return check_suffix(path, tuple(FORMATS))


def render(
    spec: Annotated[
        Path, typer.Argument(metavar="SPEC", help="The YAML spec file to draw.", show_default=False)
    ],
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            metavar="FILE",
            callback=_check_output,
            help=f"The drawing: {', '.join(FORMATS)} (.gv/.dot: the DOT source).",
            show_default=False,
        ),
    ],
    unroll: Annotated[
        bool,
        typer.Option(
            "--unroll",
            help="Draw every repetition of a block use (default: its chain once, marked × N).",
        ),
    ] = False,
) -> None:
    """Draw a spec's graph with Graphviz.

    One box per node coloured by category, with its settings and output shapes; a block
    used with repeat: N is one cluster with its chain drawn once and marked × N.

    Without Graphviz's 'dot' program the DOT source is written instead (.gv next to the
    requested file) with a note on how to install Graphviz; the exit status is still 0.
    """
    from flowspec.render.graphviz import render as draw

    # Without Graphviz the DOT source goes to the same stem with .gv.
    refuse_overwriting([output, output.with_suffix(".gv")], {"spec": spec})
    with user_errors():
        checked = flowspec.check(spec)
        result = draw(checked.graph, output, expand=unroll)
    typer.echo(f"wrote {result.written}")
    if result.fallback and result.message:
        note(result.message, "yellow")
