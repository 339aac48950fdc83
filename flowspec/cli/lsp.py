"""``flowspec lsp``: the language server, over stdin and stdout."""

from __future__ import annotations

import importlib.util
from typing import Annotated

import typer

from flowspec.cli._help import examples
from flowspec.cli._output import fail

__all__ = ["lsp", "INSTALL"]

EPILOG = examples("flowspec lsp    # started by the editor, which talks to it over stdio")

#: How to install what the server needs.
INSTALL = "pip install 'flowspec[lsp]'"


def lsp(
    stdio: Annotated[
        bool,
        typer.Option(
            "--stdio",
            help="Talk over stdin and stdout: the only transport, so the flag changes "
            "nothing (accepted because editors pass it).",
        ),
    ] = False,
) -> None:
    """Run the language server for spec files (Language Server Protocol over stdio).

    An editor starts it and shows, while a spec is typed: every diagnostic of `validate`
    with its code and hint on the unsaved text; hover on a kind (`flowspec nodes KIND`),
    a diagnostic (`flowspec explain CODE`) or a node id (its bookkeeping row); completion
    of kinds, parts, fields and references; go to definition; a quick fix for each
    did-you-mean hint. Needs the `lsp` extra (pygls). The README shows the set-up for VS
    Code and Neovim.
    """
    if importlib.util.find_spec("pygls") is None:
        fail(f"the language server needs pygls, which is not installed: {INSTALL}")
    from flowspec.lsp.server import main

    main()
