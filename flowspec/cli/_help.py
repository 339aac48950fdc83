"""Help text helpers: help is written in Markdown (the app's ``rich_markup_mode``)."""

from __future__ import annotations

__all__ = ["examples"]


def examples(*commands: str, after: str = "") -> str:
    """An epilog: the example commands as a code block, then an optional paragraph."""
    text = "**Examples**\n\n```\n" + "\n".join(commands) + "\n```"
    return f"{text}\n\n{after}" if after else text
