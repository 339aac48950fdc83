"""Completion: what may be written at the cursor, from the models that validate a spec.

A spec being typed is often not valid YAML at the cursor (``    ne`` in a block mapping),
so the word at the cursor is replaced by a marker, as a value and then as a key, and the
text loaded again (then, failing that, only the text up to the cursor's line, its open
brackets closed). Where the marker lands (its spec path, key or value) says what fits:

- a ``kind`` value: the node kinds (those that fit in a chain, inside a block), or the
  part kinds the field takes (a coupling's ``conditioner`` lists its coupling
  conditioners only);
- a key: the fields of the kind at the cursor, with their types and defaults;
- an ``in`` or ``context`` value: the ids and ports that may be referenced there
  (:func:`flowspec.lsp.references.referable`); a ``block`` value: the blocks;
- a value of fixed choices (``direction``, ``fn``, a boolean): the choices.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from flowspec.diagnostics import Reporter, SpecError, SpecPath
from flowspec.lsp.analysis import Position, Span, value_at
from flowspec.lsp.models import choices_for, fields_of, kinds_for
from flowspec.lsp.references import is_reference, referable
from flowspec.spec.loader import load_spec_text
from flowspec.spec.validate import validate_document

__all__ = ["Item", "Completion", "complete", "MARKER"]

#: What stands in for the word at the cursor while the text is loaded.
MARKER = "flowspec_cursor_marker_"
_WORD_CHARS = re.compile(r"[A-Za-z0-9_.]")
_CLOSING = {"{": "}", "[": "]"}

ItemKind = Literal["kind", "field", "reference", "block", "value"]


@dataclass(frozen=True)
class Item:
    """One completion: the text shown and written, and what it is."""

    label: str
    kind: ItemKind
    detail: str = ""
    documentation: str = ""
    insert: str = ""


@dataclass(frozen=True)
class Completion:
    """The items, and the text an item replaces (the word at the cursor)."""

    items: list[Item]
    span: Span


def _word(line: str, column: int) -> tuple[int, int]:
    """Where the word around ``column`` starts and ends (letters, digits, ``_`` and ``.``)."""
    start, end = column, column
    while start > 0 and _WORD_CHARS.fullmatch(line[start - 1]):
        start -= 1
    while end < len(line) and _WORD_CHARS.fullmatch(line[end]):
        end += 1
    return start, end


def _closers(text: str) -> str:
    """The brackets that close those left open in ``text`` (quotes are skipped)."""
    stack: list[str] = []
    quote = ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in _CLOSING:
            stack.append(_CLOSING[char])
        elif stack and char == stack[-1]:
            stack.pop()
    return "".join(reversed(stack))


def _texts(lines: list[str], position: Position) -> list[str]:
    """The text with the marker at the cursor: as a value, as a key; then the same with
    only the lines up to the cursor's, its open brackets closed."""
    line_number, column = position
    line = lines[line_number] if line_number < len(lines) else ""
    start, end = _word(line, min(column, len(line)))
    before, after = line[:start], line[end:]
    space = " " if before.endswith(":") else ""
    texts = []
    for marker in (MARKER, MARKER + ":"):
        if marker.endswith(":") and after.lstrip().startswith(":"):
            continue
        head = before + space + marker
        texts.append("\n".join([*lines[:line_number], head + after, *lines[line_number + 1 :]]))
    for marker in (MARKER, MARKER + ":"):
        head = before + space + marker
        texts.append("\n".join([*lines[:line_number], head + _closers(head)]))
    return texts


def _find_marker(data: Any, path: SpecPath = ()) -> tuple[SpecPath, bool] | None:
    """The path of the marker in loaded data, and whether it is a key."""
    if isinstance(data, dict):
        for key, value in data.items():
            if key == MARKER:
                return (*path, key), True
            found = _find_marker(value, (*path, key))
            if found is not None:
                return found
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found = _find_marker(value, (*path, index))
            if found is not None:
                return found
    elif data == MARKER:
        return path, False
    return None


def _located(lines: list[str], position: Position) -> tuple[Any, SpecPath, bool] | None:
    for text in _texts(lines, position):
        try:
            data = load_spec_text(text).data
        except SpecError:
            continue
        found = _find_marker(data) if isinstance(data, dict) else None
        if found is not None:
            return data, *found
    return None


def _kind_items(data: Any, path: SpecPath) -> list[Item]:
    from flowspec.cli._parts import part_kinds
    from flowspec.core.node import NodeSpec

    parts = part_kinds()
    items = []
    for name, cls in kinds_for(data, path).items():
        if issubclass(cls, NodeSpec):
            detail = f"{cls.category().value} node: {cls.summary}"
            documentation = f"log p(x) term: {cls.contribution}\n\n{cls.reference}".strip()
        else:
            what = parts[name][0] if name in parts else "part"
            detail = f"{what}: {getattr(cls, 'summary', '') or (cls.__doc__ or '').strip()}"
            documentation = str(getattr(cls, "reference", ""))
        items.append(Item(name, "kind", detail.split("\n")[0], documentation, name))
    return items


def _field_items(data: Any, path: SpecPath, after: str) -> list[Item]:
    owner = path[:-1]
    present = value_at(data, owner)
    present = set(present) if isinstance(present, dict) else set()
    colon = "" if after.lstrip().startswith(":") else ": "
    return [
        Item(
            field.name,
            "field",
            f"{field.type} = {field.default}",
            field.description,
            field.name + colon,
        )
        for field in fields_of(data, owner)
        if field.name not in present
    ]


def _value_items(data: Any, path: SpecPath) -> list[Item]:
    if path and path[-1] == "kind":
        return _kind_items(data, path)
    if is_reference(path):
        spec = validate_document(data, Reporter())
        return [
            Item(label, "reference", detail, "", label)
            for label, detail in referable(data, spec, path).items()
        ]
    if path and path[-1] == "block":
        blocks = data.get("blocks") if isinstance(data, dict) else None
        names = list(blocks) if isinstance(blocks, dict) else []
        return [Item(str(name), "block", "block", "", str(name)) for name in names]
    return [Item(value, "value", "", "", value) for value in choices_for(data, path)]


def complete(text: str, position: Position) -> Completion:
    """The completions at ``position`` of ``text``."""
    lines = text.split("\n")
    line = lines[position[0]] if position[0] < len(lines) else ""
    start, end = _word(line, min(position[1], len(line)))
    span = Span((position[0], start), (position[0], end))
    located = _located(lines, position)
    if located is None:
        return Completion([], span)
    data, path, is_key = located
    items = _field_items(data, path, line[end:]) if is_key else _value_items(data, path)
    return Completion(items, span)
