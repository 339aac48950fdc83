"""Safe, located loading of YAML specs into plain Python data.

A spec is untrusted text, so the loader only ever *composes* YAML into a node tree (with a
``yaml.SafeLoader`` subclass) and builds plain values from that tree itself; no YAML
constructor runs. This protects against:

* code execution through tags (``!!python/object/apply:...``): every tag other than
  ``!!str !!int !!float !!bool !!null !!seq !!map`` is rejected (E002), never constructed;
* YAML 1.1 surprises: plain scalars are resolved with the YAML 1.2 core schema, so
  ``yes/no/on/off`` stay strings, ``1e-3`` is a float and ``012`` is the integer 12;
* silently lost values: duplicate keys are errors (E006), each reported where it repeats;
* alias abuse: recursive aliases and "billion laughs" expansion are stopped (E007) by
  counting values while building, before anything is expanded in full. Aliases are
  otherwise allowed and every use is built as a fresh copy, so data can be mutated safely;
* unusable keys: a mapping or sequence used as a key is an error (E008). Merge keys
  (``<<``) are not supported either (E008): reuse a whole mapping through an alias instead.

Every value and key position is recorded in a :class:`SourceMap`, so later passes can point
their diagnostics at ``file:line:col`` (and an editor underline the whole token). The tree
is composed by libyaml where it gives the same tree and marks (see :func:`_libyaml_tree`),
else by PyYAML's Python composer. Error codes: E001 unreadable file, E002 forbidden tag or
invalid tagged value, E003 YAML syntax, E004 empty spec, E005 top level not a mapping,
E006 duplicate key, E007 recursive, exploding or too deeply nested data, E008 bad key.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from flowspec.diagnostics import Diagnostic, Location, SpecError, SpecPath

__all__ = [
    "MAX_DEPTH",
    "MAX_NODES",
    "LoadedSpec",
    "SourceMap",
    "load_spec_file",
    "load_spec_text",
]

MAX_NODES = 100_000
"""Most values a spec may contain once aliases are expanded."""
MAX_DEPTH = 100
"""Deepest nesting of mappings and sequences a spec may have."""

_YAML = "tag:yaml.org,2002:"
_STR, _INT, _FLOAT, _BOOL, _NULL = (_YAML + t for t in ("str", "int", "float", "bool", "null"))
_SEQ, _MAP, _MERGE = _YAML + "seq", _YAML + "map", _YAML + "merge"

# YAML 1.2 core schema, in resolution order; ``<<`` is kept apart to reject merge keys.
_PATTERNS: dict[str, re.Pattern[str]] = {
    _NULL: re.compile(r"~|null|Null|NULL|"),
    _BOOL: re.compile(r"true|True|TRUE|false|False|FALSE"),
    _INT: re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+"),
    _FLOAT: re.compile(
        r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?"
        r"|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)"
    ),
    _MERGE: re.compile(r"<<"),
}


def _to_int(text: str) -> int:
    if text.startswith("0o"):
        return int(text[2:], 8)
    if text.startswith("0x"):
        return int(text[2:], 16)
    return int(text)


_CONVERTERS: dict[str, Callable[[str], Any]] = {
    _NULL: lambda text: None,
    _BOOL: lambda text: text.lower() == "true",
    _INT: _to_int,
    _FLOAT: lambda text: float(text.lower().replace(".inf", "inf").replace(".nan", "nan")),
    _MERGE: str,
}
_ALLOWED_TAGS: dict[str, frozenset[str]] = {
    "scalar": frozenset({_STR, *_PATTERNS}),
    "sequence": frozenset({_SEQ}),
    "mapping": frozenset({_MAP}),
}
_TAG_HINT = (
    "a spec is plain data: only !!str, !!int, !!float, !!bool, !!null (on scalars), "
    "!!seq and !!map are accepted"
)
_INVALID: Any = object()  # stands in for a value that produced a diagnostic


def _short_tag(tag: str) -> str:
    return "!!" + tag[len(_YAML) :] if tag.startswith(_YAML) else tag


def _position(mark: yaml.Mark) -> tuple[int, int]:
    return mark.line + 1, mark.column + 1


@dataclass(frozen=True)
class SourceMap:
    """Where each value (and each mapping key) of a loaded spec sits in its file.

    Positions are 1-based ``(line, col)``, keyed by spec path: mapping keys and sequence
    indices from the root, e.g. ``("nodes", "body", "net", "hidden", 1)``. Each value and
    key also has the position just past its end (``value_ends``, ``key_ends``), so an
    editor can mark the whole token.
    """

    file: str
    values: Mapping[SpecPath, tuple[int, int]] = field(
        default_factory=dict, repr=False, compare=False
    )
    keys: Mapping[SpecPath, tuple[int, int]] = field(
        default_factory=dict, repr=False, compare=False
    )
    value_ends: Mapping[SpecPath, tuple[int, int]] = field(
        default_factory=dict, repr=False, compare=False
    )
    key_ends: Mapping[SpecPath, tuple[int, int]] = field(
        default_factory=dict, repr=False, compare=False
    )

    def locate(self, path: SpecPath) -> Location | None:
        """The key of ``path`` if it has one, else its value; else its nearest known ancestor."""
        path = tuple(path)
        for end in range(len(path), -1, -1):
            position = self.keys.get(path[:end]) or self.values.get(path[:end])
            if position:
                return Location(self.file, *position)
        return None

    def locate_key(self, path: SpecPath) -> Location | None:
        """The position of the mapping key that ends ``path``, or None if there is none."""
        position = self.keys.get(tuple(path))
        return Location(self.file, *position) if position else None


@dataclass(frozen=True)
class LoadedSpec:
    """A spec as plain Python data, with the source it came from."""

    data: Any
    source: SourceMap
    text: str


class _AliasNode(yaml.Node):
    """An alias occurrence (``*name``): ``value`` is the anchored node it refers to."""

    id = "alias"


def _resolve(kind: type[yaml.Node], value: Any, implicit: tuple[bool, bool]) -> str:
    """The tag of an untagged node: YAML 1.2 core-schema scalars, plain seq and map."""
    if kind is yaml.SequenceNode:
        return _SEQ
    if kind is yaml.MappingNode:
        return _MAP
    return _plain_tag(value) if implicit[0] else _STR  # a plain scalar without a tag


@lru_cache(maxsize=4096)
def _plain_tag(value: str) -> str:
    """The core-schema tag of a plain scalar (specs repeat their words: kinds, names)."""
    return next((tag for tag, p in _PATTERNS.items() if p.fullmatch(value)), _STR)


class _Loader(yaml.SafeLoader):
    """Composes node trees only: core-schema scalar tags and visible alias occurrences."""

    def resolve(self, kind: type[yaml.Node], value: Any, implicit: tuple[bool, bool]) -> str:
        return _resolve(kind, value, implicit)

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            target = super().compose_node(parent, index)
            return _AliasNode(None, target, event.start_mark, event.end_mark)
        return super().compose_node(parent, index)


#: Nesting libyaml may compose: its composer recurses in C without Python's recursion
#: limit (20,000 levels passed, 100,000 overflowed the stack on an 8 MiB one).
MAX_FAST_DEPTH = 5_000

#: Characters libyaml reads differently: tabs between tokens and ``?`` in plain scalars,
#: which PyYAML rejects (E003) and libyaml accepts, and tags (rare in specs).
_PYTHON_ONLY = "\t?!"
_LINE_BREAK = re.compile("\r\n|[\n\r\x85\u2028\u2029]")


class _Differs(Exception):
    """The libyaml tree would not be the Python composer's: compose with Python."""


def _libyaml_tree(text: str) -> yaml.Node | None | bool:
    """The node tree of ``text`` composed by libyaml (ten times faster than PyYAML's
    Python composer: a 1,000-node spec loads in about 15 ms instead of 135), or False
    when the Python composer must do it because libyaml's tree or its marks would differ
    (:func:`_match_python`): without libyaml, for text with :data:`_PYTHON_ONLY`
    characters or a byte order mark after the start (libyaml counts it as a column), for
    text that could nest deeper than :data:`MAX_FAST_DEPTH`, and for text libyaml rejects
    (the Python composer's messages are the ones reported) or cannot encode (a lone
    surrogate)."""
    if not getattr(yaml, "__with_libyaml__", False) or "\ufeff" in text[1:]:
        return False
    if any(c in text for c in _PYTHON_ONLY):
        return False
    widest = max(map(len, text.splitlines()), default=0)
    if sum(map(text.count, "[{-?")) + widest >= MAX_FAST_DEPTH:
        return False
    try:
        loader = _LibyamlLoader(text)
    except UnicodeEncodeError:
        return False
    try:
        root = loader.get_single_node()
        if root is not None:
            _match_python(root, text)
    except (yaml.YAMLError, _Differs):
        return False
    finally:
        loader.dispose()
    return root


def _match_python(root: yaml.Node, text: str) -> None:
    """Give libyaml's tree the Python composer's end marks, or raise :class:`_Differs`.

    The trees differ where a node occurs twice (the text has aliases: libyaml hands back
    the anchored node itself, the Python composer keeps each occurrence and its
    position), where an empty plain value sits in a flow collection (``{in: }``:
    libyaml's mark is that of the next token, PyYAML's the end of the ``:``), and where
    nesting passes :data:`MAX_DEPTH` (the Python composer may exhaust Python's recursion
    limit first and report that). A block collection ending with a text that has no final
    line break ends, for libyaml, at the start of a line past the text; for PyYAML, at
    the end of the text: those end marks are moved there."""
    end = None if text.endswith(("\n", "\r", "\x85", "\u2028", "\u2029")) else _text_end(text)
    seen: set[int] = set()
    pending: list[tuple[yaml.Node, int]] = [(root, 0)]
    while pending:
        node, depth = pending.pop()
        if id(node) in seen or depth > MAX_DEPTH:
            raise _Differs
        seen.add(id(node))
        if end is not None and node.end_mark.line > end.line:
            node.end_mark = end
        if isinstance(node, yaml.ScalarNode):
            continue
        children = (
            node.value
            if isinstance(node, yaml.SequenceNode)
            else [part for pair in node.value for part in pair]
        )
        if node.flow_style and any(_empty_plain(child) for child in children):
            raise _Differs
        pending += [(child, depth + 1) for child in children]


def _empty_plain(node: yaml.Node) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.value == "" and not node.style


def _text_end(text: str) -> yaml.Mark:
    """Where PyYAML's reader is at the end of ``text`` (a leading byte order mark takes
    no column)."""
    breaks = list(_LINE_BREAK.finditer(text))
    start = breaks[-1].end() if breaks else int(text.startswith("\ufeff"))
    return yaml.Mark("<string>", len(text), len(breaks), len(text) - start, None, None)


if getattr(yaml, "__with_libyaml__", False):

    class _LibyamlLoader(yaml.CSafeLoader):
        """libyaml's parser and composer with the same tags as :class:`_Loader`."""

        def resolve(self, kind: type[yaml.Node], value: Any, implicit: tuple[bool, bool]) -> str:
            return _resolve(kind, value, implicit)


class _Abort(Exception):
    """Stops building: the data is too large or too deep to go on."""


class _Builder:
    """Builds plain values from a node tree, recording positions and diagnostics."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.diagnostics: list[Diagnostic] = []
        self.values: dict[SpecPath, tuple[int, int]] = {}
        self.keys: dict[SpecPath, tuple[int, int]] = {}
        self.value_ends: dict[SpecPath, tuple[int, int]] = {}
        self.key_ends: dict[SpecPath, tuple[int, int]] = {}
        self._count = 0
        self._active: set[int] = set()  # collections being built: an alias to one recurses
        self._expanding: _AliasNode | None = None  # outermost alias being expanded
        self._reported: set[tuple[str, int]] = set()  # an aliased node is reported once

    def error(
        self, code: str, message: str, path: SpecPath, node: yaml.Node, hint: str | None = None
    ) -> None:
        if (code, id(node)) in self._reported:
            return
        self._reported.add((code, id(node)))
        location = Location(self.file, *_position(node.start_mark))
        self.diagnostics.append(Diagnostic(code, message, path, location, hint=hint))

    def build(self, node: yaml.Node, path: SpecPath) -> Any:
        self._count += 1
        if self._count > MAX_NODES:
            culprit = self._expanding or node
            self.error(
                "E007",
                f"spec expands to more than {MAX_NODES} values",
                path,
                culprit,
                hint="aliases (*name) nested in aliases multiply in size; write the data out",
            )
            raise _Abort
        if len(path) > MAX_DEPTH:
            self.error("E007", f"spec is nested more than {MAX_DEPTH} levels deep", path, node)
            raise _Abort
        self.values[path] = _position(node.start_mark)
        self.value_ends[path] = _position(node.end_mark)
        return self._value(node, path)

    def _value(self, node: yaml.Node, path: SpecPath) -> Any:
        if isinstance(node, _AliasNode):
            return self._alias(node, path)
        if node.tag not in _ALLOWED_TAGS[node.id]:
            self.error(
                "E002",
                f"tag '{_short_tag(node.tag)}' is not allowed on a {node.id}",
                path,
                node,
                hint=_TAG_HINT,
            )
            return _INVALID
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, path)
        self._active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
            return self._mapping(node, path)
        finally:
            self._active.discard(id(node))

    def _alias(self, alias: _AliasNode, path: SpecPath) -> Any:
        if id(alias.value) in self._active:
            self.error(
                "E007",
                "recursive alias: the anchored value contains itself",
                path,
                alias,
                hint="an alias (*name) cannot be used inside the value its anchor (&name) marks",
            )
            return _INVALID
        outermost = self._expanding is None
        if outermost:
            self._expanding = alias
        try:
            return self._value(alias.value, path)
        finally:
            if outermost:
                self._expanding = None

    def _scalar(self, node: yaml.ScalarNode, path: SpecPath) -> Any:
        if node.tag == _STR:
            return node.value
        if _PATTERNS[node.tag].fullmatch(node.value):
            try:
                return _CONVERTERS[node.tag](node.value)
            except ValueError:  # e.g. an integer with too many digits
                pass
        shown = node.value if len(node.value) <= 40 else node.value[:37] + "..."
        self.error(
            "E002",
            f"'{shown}' is not a valid {_short_tag(node.tag)}",
            path,
            node,
            hint="remove the tag or fix the value",
        )
        return _INVALID

    def _mapping(self, node: yaml.MappingNode, path: SpecPath) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        first: dict[Any, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = self._key(key_node, path)
            if key is _INVALID:
                continue
            if key in first:
                self.error(
                    "E006",
                    f"duplicate key '{key}'",
                    (*path, key),
                    key_node,
                    hint="first defined at line {}, column {}; remove one of the two".format(
                        *_position(first[key].start_mark)
                    ),
                )
                continue
            first[key] = key_node
            key_path = (*path, key)
            self.keys[key_path] = _position(key_node.start_mark)
            self.key_ends[key_path] = _position(key_node.end_mark)
            result[key] = self.build(value_node, key_path)
        return result

    def _key(self, node: yaml.Node, path: SpecPath) -> Any:
        target = node.value if isinstance(node, _AliasNode) else node
        if not isinstance(target, yaml.ScalarNode):
            kind = "mapping" if isinstance(target, yaml.MappingNode) else "sequence"
            self.error(
                "E008",
                f"a {kind} cannot be used as a mapping key",
                path,
                node,
                hint="keys must be plain scalars such as names or numbers",
            )
            return _INVALID
        if target.tag == _MERGE:
            self.error(
                "E008",
                "merge keys ('<<') are not supported",
                path,
                node,
                hint="write the keys out, or reuse a whole mapping with an alias (*name); "
                "quote it ('<<') to use it as an ordinary key",
            )
            return _INVALID
        return self._value(target, path)


def _tab_at(text: str, mark: yaml.Mark) -> bool:
    """Whether the line of ``mark`` is indented with a tab (PyYAML then reports all kinds
    of problems, none of which says 'tab')."""
    lines = text.splitlines()
    if mark.line >= len(lines):
        return False
    line = lines[mark.line]
    return "\t" in line[: len(line) - len(line.lstrip())]


def _syntax_error(error: yaml.YAMLError, text: str, file: str) -> Diagnostic:
    if isinstance(error, yaml.MarkedYAMLError):
        mark = error.problem_mark or error.context_mark
        hint = None
        if error.context and error.context_mark and error.problem_mark:
            line, col = _position(error.context_mark)
            hint = f"{error.context} at line {line}, column {col}"
        location = Location(file, *_position(mark)) if mark else None
        if "'\\t'" in str(error.problem) or (mark is not None and _tab_at(text, mark)):
            hint = "YAML indents with spaces only: replace the tab by spaces"
        return Diagnostic(
            "E003", f"invalid YAML: {error.problem or error.context}", (), location, hint=hint
        )
    assert isinstance(error, yaml.reader.ReaderError)
    offset = error.position
    line = text.count("\n", 0, offset) + 1
    col = offset - text.rfind("\n", 0, offset)
    return Diagnostic(
        "E003",
        f"invalid YAML: unacceptable character #x{error.character:04x}: {error.reason}",
        (),
        Location(file, line, col),
    )


def load_spec_text(text: str, file: str = "<string>") -> LoadedSpec:
    """Load a spec from YAML text; raise :class:`SpecError` listing every problem found."""
    loader: _Loader | None = None
    try:
        tree = _libyaml_tree(text)
        if tree is False:
            loader = _Loader(text)
            tree = loader.get_single_node()
        root = tree if isinstance(tree, yaml.Node) else None
    except (yaml.MarkedYAMLError, yaml.reader.ReaderError) as error:
        raise SpecError([_syntax_error(error, text, file)]) from None
    except RecursionError:
        assert loader is not None
        location = Location(file, *_position(loader.get_mark()))
        message = f"spec is nested too deeply (at most {MAX_DEPTH} levels are allowed)"
        raise SpecError([Diagnostic("E007", message, (), location)]) from None
    finally:
        if loader is not None:
            loader.dispose()

    if root is None:
        raise SpecError([Diagnostic("E004", "spec is empty", (), Location(file, 1, 1))])
    builder = _Builder(file)
    try:
        data = builder.build(root, ())
    except _Abort:
        data = _INVALID
    if data is None:
        builder.error("E004", "spec is empty", (), root)
    elif data is not _INVALID and not isinstance(data, dict):
        found = {list: "a list", str: "a string", bool: "a boolean"}.get(type(data), "a number")
        builder.error("E005", f"the top level of a spec must be a mapping, found {found}", (), root)
    if builder.diagnostics:
        raise SpecError(builder.diagnostics)
    source = SourceMap(file, builder.values, builder.keys, builder.value_ends, builder.key_ends)
    return LoadedSpec(data, source, text)


def load_spec_file(path: str | os.PathLike[str]) -> LoadedSpec:
    """Read a UTF-8 spec file and load it; unreadable files raise :class:`SpecError` (E001)."""
    file = os.fspath(path)
    try:
        raw = Path(file).read_bytes()
    except OSError as error:
        reason = error.strerror or str(error)
        raise SpecError([Diagnostic("E001", f"cannot read spec file '{file}': {reason}")]) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line_start = raw.rfind(b"\n", 0, error.start) + 1
        line = raw.count(b"\n", 0, line_start) + 1
        col = len(raw[line_start : error.start].decode("utf-8-sig")) + 1
        raise SpecError(
            [
                Diagnostic(
                    "E001",
                    f"spec file '{file}' is not valid UTF-8 (byte 0x{raw[error.start]:02x})",
                    (),
                    Location(file, line, col),
                    hint="save the file with UTF-8 encoding",
                )
            ]
        ) from None
    return load_spec_text(text, file)
