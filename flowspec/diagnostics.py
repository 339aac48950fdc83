"""Diagnostics: located, coded, hinted messages about a spec.

Every user mistake is reported as a :class:`Diagnostic` carrying a code, the path of the
offending value inside the spec, its ``file:line:col``, the node it concerns and a hint.
Passes collect diagnostics in a :class:`Reporter` so that all mistakes of a spec are shown
at once; :class:`SpecError` carries them to the CLI, which prints them and exits 1.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal, Protocol

__all__ = [
    "Location",
    "Diagnostic",
    "SpecError",
    "Reporter",
    "Locator",
    "SpecPath",
    "did_you_mean",
    "suggestion",
    "format_path",
]

SpecPath = tuple[str | int, ...]
Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Location:
    """A 1-based position in a spec file."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class Locator(Protocol):
    """Anything that maps a spec path to the position of that value in the source."""

    def locate(self, path: SpecPath) -> Location | None: ...


def format_path(path: SpecPath) -> str:
    """``('nodes', 'body', 'net', 'hidden', 0)`` -> ``nodes.body.net.hidden[0]``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in a spec."""

    code: str
    message: str
    path: SpecPath = ()
    location: Location | None = None
    node: str | None = None
    hint: str | None = None
    severity: Severity = "error"

    def format(self) -> str:
        where = f"{self.location}: " if self.location else ""
        node = f"node '{self.node}': " if self.node else ""
        text = f"{where}{self.severity}[{self.code}]: {node}{self.message}"
        if self.path:
            text += f"\n    at {format_path(self.path)}"
        if self.hint:
            text += f"\n    hint: {self.hint}"
        return text

    def __str__(self) -> str:
        return self.format()


def _position(diagnostic: Diagnostic) -> tuple[str, int, int]:
    where = diagnostic.location
    return (where.file, where.line, where.col) if where else ("", 0, 0)


class SpecError(Exception):
    """Raised when a spec has at least one error; carries every diagnostic found."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics = sorted(diagnostics, key=_position)
        super().__init__(self.format())

    def format(self) -> str:
        errors = sum(d.severity == "error" for d in self.diagnostics)
        lines = [d.format() for d in self.diagnostics]
        lines.append(f"{errors} error{'s' if errors != 1 else ''} found")
        return "\n".join(lines)


@dataclass
class Reporter:
    """Collects diagnostics, filling in each location from the spec's source map."""

    locator: Locator | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def error(
        self,
        code: str,
        message: str,
        path: SpecPath = (),
        *,
        node: str | None = None,
        hint: str | None = None,
    ) -> None:
        self._add(code, message, path, node, hint, "error")

    def warning(
        self,
        code: str,
        message: str,
        path: SpecPath = (),
        *,
        node: str | None = None,
        hint: str | None = None,
    ) -> None:
        self._add(code, message, path, node, hint, "warning")

    def _add(
        self,
        code: str,
        message: str,
        path: SpecPath,
        node: str | None,
        hint: str | None,
        severity: Severity,
    ) -> None:
        location = self.locator.locate(path) if self.locator else None
        self.diagnostics.append(
            Diagnostic(code, message, tuple(path), location, node, hint, severity)
        )

    @property
    def has_errors(self) -> bool:
        return any(d.severity == "error" for d in self.diagnostics)

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

    def raise_if_errors(self) -> None:
        if self.has_errors:
            raise SpecError(self.diagnostics)


def did_you_mean(word: str, candidates: Iterable[str]) -> str | None:
    """A ``did you mean 'x'?`` hint for a misspelt name, or None when nothing is close."""
    matches = difflib.get_close_matches(str(word), sorted(set(candidates)), n=1, cutoff=0.6)
    return f"did you mean '{matches[0]}'?" if matches else None


_SUGGESTION = re.compile(r"did you mean '([^']+)'\?")


def suggestion(hint: str | None) -> str | None:
    """The name a :func:`did_you_mean` hint suggests (what an editor's quick fix writes).

    >>> suggestion(did_you_mean("hiden", ["hidden", "activation"]))
    'hidden'
    """
    match = _SUGGESTION.search(hint or "")
    return match.group(1) if match else None
