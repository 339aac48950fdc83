"""``flowspec explain``: what a diagnostic code means, with a wrong and a right example."""

from __future__ import annotations

from typing import Annotated

import typer

from flowspec.cli._help import examples
from flowspec.cli._output import fail

__all__ = ["explain"]

EPILOG = examples("flowspec explain E209", "flowspec explain w501")


def explain(
    code: Annotated[
        str,
        typer.Argument(
            metavar="CODE",
            help="A diagnostic code, e.g. E209 (as printed in error[E209]).",
            show_default=False,
        ),
    ],
) -> None:
    """Explain a diagnostic code: why the check exists, a spec that fails it and one
    that passes.

    Exit 2 for a code flowspec does not have (naming a close code when there is one).
    """
    from flowspec.codes import CODES
    from flowspec.diagnostics import did_you_mean
    from flowspec.explain import explain_text

    key = code.strip().upper()
    if key not in CODES:
        hint = did_you_mean(key, CODES)
        fail(
            f"unknown diagnostic code '{code}'"
            + (f"; {hint}" if hint else "")
            + " (codes look like E209 or W501)",
            2,
        )
    typer.echo(explain_text(key))
