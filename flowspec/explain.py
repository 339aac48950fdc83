"""``flowspec explain CODE``: a diagnostic code's record in :mod:`flowspec.codes` as text.

Why a check exists, a spec that triggers it and one that does not, as compilers with good
diagnostics do (``rustc --explain``). Standard library only: it loads instantly.

    flowspec explain E209
"""

from __future__ import annotations

import textwrap

from flowspec.codes import CODES

__all__ = ["explain_text"]


def explain_text(code: str) -> str:
    """The explanation of ``code`` (a key of :data:`flowspec.codes.CODES`) as text."""
    entry = CODES[code]
    indent = "    "
    return "\n".join(
        [
            f"{code}: {entry.meaning}",
            "",
            textwrap.fill(entry.text, width=88),
            "",
            "Wrong:",
            *(indent + line for line in entry.wrong.splitlines()),
            "",
            "Right:",
            *(indent + line for line in entry.right.splitlines()),
        ]
    )
