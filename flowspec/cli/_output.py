"""Console output and error handling shared by every verb.

Results go to stdout, diagnostics and notes to stderr. Both consoles are made per call,
so they follow whatever ``sys.stdout`` is at the time (a terminal, a pipe or a test
runner); when it is not a terminal, text is plain and 120 columns wide (unless ``COLUMNS``
says otherwise), and messages are never hard-wrapped, so ``file:line:col`` locations stay
on one line.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.text import Text

from flowspec.diagnostics import Diagnostic, SpecError

__all__ = [
    "out",
    "err",
    "note",
    "fail",
    "print_diagnostics",
    "diagnostic_dict",
    "user_errors",
]

#: Width used when the output is not a terminal and ``COLUMNS`` is not set.
PIPE_WIDTH = 120


def _console(stderr: bool) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    is_tty = hasattr(stream, "isatty") and stream.isatty()
    width = None if is_tty or "COLUMNS" in os.environ else PIPE_WIDTH
    return Console(stderr=stderr, highlight=False, width=width)


def out() -> Console:
    """A console on stdout, for results."""
    return _console(stderr=False)


def err() -> Console:
    """A console on stderr, for diagnostics and notes."""
    return _console(stderr=True)


def note(message: str, style: str = "") -> None:
    """One line on stderr, never read as markup, never hard-wrapped."""
    err().print(Text(message, style=style), soft_wrap=True)


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``error: message`` on stderr and exit with ``code``."""
    note(f"error: {message}", "bold red")
    raise typer.Exit(code)


def print_diagnostics(diagnostics: Iterable[Diagnostic]) -> None:
    """Each diagnostic in full on stderr: errors red, warnings yellow."""
    console = err()
    for diagnostic in diagnostics:
        style = "red" if diagnostic.severity == "error" else "yellow"
        console.print(Text(diagnostic.format(), style=style), soft_wrap=True)


def diagnostic_dict(d: Diagnostic) -> dict[str, Any]:
    """A diagnostic as JSON-ready data."""
    return {
        "severity": d.severity,
        "code": d.code,
        "message": d.message,
        "file": d.location.file if d.location else None,
        "line": d.location.line if d.location else None,
        "col": d.location.col if d.location else None,
        "node": d.node,
        "path": list(d.path),
        "hint": d.hint,
        "text": d.format(),
    }


def _count(errors: int) -> str:
    return f"{errors} error{'s' if errors != 1 else ''} found"


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn user mistakes into messages and exit 1, never a traceback: a spec's
    diagnostics (all of them, then ``N errors found``) or an unreadable/unwritable path."""
    try:
        yield
    except SpecError as error:
        print_diagnostics(error.diagnostics)
        errors = sum(d.severity == "error" for d in error.diagnostics)
        note(_count(errors), "bold red")
        raise typer.Exit(1) from None
    except OSError as error:
        where = f"'{error.filename}': " if error.filename else ""
        fail(f"{where}{error.strerror or error}")
