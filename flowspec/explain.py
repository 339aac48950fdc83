"""``flowspec explain CODE``: a diagnostic code's record in :mod:`flowspec.codes` as text.

Why a check exists, an example that triggers it and one that does not, as compilers with
good diagnostics do (``rustc --explain``). The examples are complete (a spec file, a
command line with the files it reads, or one node's settings), so a newcomer can copy one
and run it. Standard library only: it loads instantly.

    flowspec explain E209
"""

from __future__ import annotations

import textwrap

from flowspec.codes import CODES, Code

__all__ = ["explain_text"]

_INDENT = "    "

#: What each runner's examples are, as the heading of the examples.
_WHAT = {
    "spec": "a spec file (flowspec validate spec.yaml)",
    "command": "a command line",
    "node": "one node's settings and the event shapes of its inputs",
}


def _block(title: str, text: str) -> list[str]:
    return ["", f"{title}:", *(_INDENT + line if line else "" for line in text.splitlines())]


def _notes(entry: Code) -> list[str]:
    lines = []
    for name, content in entry.files:
        lines += _block(f"With {name}", content)
    if entry.inherent:
        kinds = ", ".join(entry.inherent)
        lines += ["", f"The examples may also warn {kinds}, which the kinds they use always give."]
    return lines


def explain_text(code: str) -> str:
    """The explanation of ``code`` (a key of :data:`flowspec.codes.CODES`) as text."""
    entry = CODES[code]
    return "\n".join(
        [
            f"{code}: {entry.meaning}",
            "",
            textwrap.fill(entry.text, width=88),
            "",
            f"Each example is {_WHAT[entry.runner]}.",
            *_block("Wrong", entry.wrong),
            *_block("Right", entry.right),
            *_notes(entry),
        ]
    )
