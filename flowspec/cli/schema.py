"""``flowspec schema``: the JSON Schema of spec files, for editors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from flowspec.cli._files import atomic_write_text
from flowspec.cli._help import examples
from flowspec.cli._output import user_errors
from flowspec.spec.schema import json_schema

__all__ = ["schema"]

EPILOG = examples(
    "flowspec schema -o schemas/flowspec.schema.json",
    "flowspec schema | python -m json.tool",
    after="Editors with the YAML language server use it when a spec starts with "
    "`# yaml-language-server: $schema=../schemas/flowspec.schema.json`.",
)


def schema(
    output: Annotated[
        Path | None,  # noqa: UP007 - typer reads the annotation
        typer.Option(
            "--output",
            "-o",
            metavar="FILE.json",
            help="Where to write the schema (written atomically). Default: print it.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Print or write the JSON Schema of spec files.

    The schema (JSON Schema draft 7) covers every registered node kind, for completion
    and checking in editors.
    """
    text = json.dumps(json_schema(), indent=2) + "\n"
    if output is None:
        typer.echo(text, nl=False)
        return
    with user_errors():
        atomic_write_text(output, text)
    typer.echo(f"wrote {output}")
