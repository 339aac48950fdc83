"""A study's search space: spec paths and the values they take, read from ``--set`` and
``--search``, resolved against the user's spec with located errors, and applied to it.

``--set PATH=V1,V2,...`` gives a list of values (each YAML, commas inside brackets and
braces do not split: ``net.hidden=[32],[64, 64]``): the grid of ``flowspec sweep``, the
categorical choices of ``flowspec tune``. ``--search PATH=RANGE`` gives a range for
``tune``: ``log:1e-4:1e-2`` (log-uniform), ``float:0:0.5`` (uniform), ``int:2:16``
(integers, uniform), ``logint:16:256`` (integers, log-uniform); any other text is a list
of values, as with ``--set``. ``PATH`` starts with

- a node id (``body.repeat=4,8`` sets ``nodes.body.repeat``),
- a block name (``step.net.hidden=...`` sets it in every entry of the block that has it),
- ``train`` (``train.lr=1e-3,3e-3`` sets a training setting), or
- a field name: it is set in every node and block entry that has that field
  (``net.hidden=[32],[64]`` changes every ``net:``); a name no entry has but that is a
  training setting (``lr``, ``batch_size``) sets that setting.

A field is set where it is; where it is nowhere, it is added where its parent mapping is.
The training seed is never a parameter: seeds are replicates (``--seeds``). A path that
matches nothing is a located error (E940) pointing at the nearest place in the user's spec,
with a did-you-mean hint. Torch-free: the space is checked before any trial starts.
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass
from typing import Any, Literal, cast

import yaml

from flowspec.diagnostics import Diagnostic, SpecError, SpecPath, did_you_mean
from flowspec.spec.loader import LoadedSpec, load_spec_text
from flowspec.spec.training import TrainSettings

__all__ = [
    "Axis",
    "SpaceError",
    "apply_values",
    "label",
    "parse_search",
    "parse_set",
    "resolve",
    "short",
]

RangeKind = Literal["float", "log", "int", "logint"]
_RANGE = re.compile(r"(float|log|int|logint):([^:]+):([^:]+)")
_PATH = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")
_TRAIN_FIELDS = tuple(TrainSettings.model_fields)


class SpaceError(ValueError):
    """A ``--set`` or ``--search`` option that cannot be read (a usage error)."""


@dataclass(frozen=True)
class Axis:
    """One study parameter: its dotted spec path and either the values it takes
    (``choices``) or a range (``kind``, ``low``, ``high``)."""

    path: tuple[str, ...]
    choices: tuple[Any, ...] = ()
    kind: RangeKind | None = None
    low: float = 0.0
    high: float = 0.0
    option: str = "--set"

    @property
    def name(self) -> str:
        return ".".join(self.path)

    @property
    def is_range(self) -> bool:
        return self.kind is not None

    @property
    def log(self) -> bool:
        return self.kind in ("log", "logint")

    @property
    def integer(self) -> bool:
        return self.kind in ("int", "logint")

    def representatives(self) -> tuple[Any, ...]:
        """The values checked against the spec before any trial: every choice, or both
        ends of a range."""
        if not self.is_range:
            return self.choices
        ends = (self.low, self.high)
        return tuple(int(v) for v in ends) if self.integer else ends

    def describe(self) -> str:
        if self.is_range:
            return f"{self.name}={self.kind}:{short(self.low)}:{short(self.high)}"
        return f"{self.name}={','.join(short(v) for v in self.choices)}"

    def to_json(self) -> dict[str, Any]:
        return {
            "path": list(self.path),
            "choices": list(self.choices),
            "kind": self.kind,
            "low": self.low,
            "high": self.high,
            "option": self.option,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Axis:
        return cls(
            tuple(data["path"]),
            tuple(data["choices"]),
            data["kind"],
            data["low"],
            data["high"],
            data["option"],
        )


def short(value: Any) -> str:
    """A value as one line of flow-style YAML (``[64, 64]``, ``{kind: affine}``)."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return repr(value)
    text = yaml.safe_dump(value, default_flow_style=True, width=10**6).strip()
    return text.removesuffix("...").strip()


def label(values: dict[str, Any]) -> str:
    """``name=value, ...`` of one configuration."""
    return ", ".join(f"{name}={short(value)}" for name, value in values.items())


def _split_top_level(text: str) -> list[str]:
    """``text`` split at commas outside brackets and braces."""
    parts, depth, current = [], 0, ""
    for char in text:
        depth += char in "[{"
        depth -= char in "]}"
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current]


def _path_and_text(option: str, text: str) -> tuple[tuple[str, ...], str]:
    path, equals, values = text.partition("=")
    if not equals or not _PATH.fullmatch(path.strip()):
        example = "lr=log:1e-4:1e-2" if option == "--search" else "net.hidden=[32],[64]"
        raise SpaceError(f"{option} '{text}' is not PATH=VALUES (e.g. {example})")
    return tuple(path.strip().split(".")), values


def _choices(option: str, text: str, values: str) -> tuple[Any, ...]:
    parsed = []
    for part in _split_top_level(values):
        if not part.strip():
            raise SpaceError(f"{option} '{text}' has an empty value")
        try:  # read as the spec is: YAML 1.2 (1e-3 is a number, no is a string)
            parsed.append(load_spec_text(f"value: {part}").data["value"])
        except SpecError:
            raise SpaceError(f"value '{part}' in {option} '{text}' is not valid YAML") from None
    if len({short(v) for v in parsed}) < len(parsed):
        raise SpaceError(f"{option} '{text}' lists a value twice")
    return tuple(parsed)


def parse_set(text: str) -> Axis:
    """``PATH=V1,V2`` as an :class:`Axis` of choices; :class:`SpaceError` when malformed."""
    path, values = _path_and_text("--set", text)
    return Axis(path, _choices("--set", text, values))


def parse_search(text: str) -> Axis:
    """``PATH=KIND:LOW:HIGH`` (a range) or ``PATH=V1,V2`` (choices) as an :class:`Axis`."""
    path, values = _path_and_text("--search", text)
    found = _RANGE.fullmatch(values.strip())
    if found is None:
        if re.match(r"\s*(float|log|int|logint):", values):
            raise SpaceError(
                f"--search '{text}': a range is KIND:LOW:HIGH with KIND float, log, int or "
                "logint (e.g. lr=log:1e-4:1e-2, body.repeat=int:2:16)"
            )
        return Axis(path, _choices("--search", text, values), option="--search")
    kind, *ends = found.groups()
    try:
        low, high = (int(v) if kind in ("int", "logint") else float(v) for v in ends)
    except ValueError:
        number = "integers" if kind in ("int", "logint") else "numbers"
        raise SpaceError(
            f"--search '{text}': the ends of a {kind} range must be {number}"
        ) from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise SpaceError(f"--search '{text}': the range needs LOW < HIGH, finite")
    if kind in ("log", "logint") and low <= 0:
        raise SpaceError(f"--search '{text}': a log range needs LOW > 0")
    return Axis(path, (), cast(RangeKind, kind), low, high, "--search")


# --- where an axis lands in the spec -------------------------------------------------------


def _has(entry: Any, path: tuple[str, ...]) -> bool:
    for key in path:
        if not isinstance(entry, dict) or key not in entry:
            return False
        entry = entry[key]
    return True


def _entries(data: dict) -> list[tuple[SpecPath, dict]]:
    """Every node and block entry of the spec, with its spec path."""
    nodes, blocks = data.get("nodes") or {}, data.get("blocks") or {}
    found: list[tuple[SpecPath, dict]] = [
        (("nodes", name), entry) for name, entry in nodes.items() if isinstance(entry, dict)
    ]
    for name, chain in blocks.items():
        for index, entry in enumerate(chain if isinstance(chain, list) else []):
            if isinstance(entry, dict):
                found.append((("blocks", name, index), entry))
    return found


def _present(entries: list[tuple[SpecPath, dict]], path: tuple[str, ...]) -> list[SpecPath]:
    """The full spec paths of ``path`` in the entries that have it."""
    return [(*where, *path) for where, entry in entries if _has(entry, path)]


def _where(entries: list[tuple[SpecPath, dict]], path: tuple[str, ...]) -> list[SpecPath]:
    """Where ``path`` is in the entries, else where it would be added: in the entries that
    have its parent mapping."""
    present = _present(entries, path)
    if present:
        return present
    parent = path[:-1]
    return [
        (*where, *path)
        for where, entry in entries
        if _has(entry, parent) and isinstance(_deep_get(entry, parent), dict)
    ]


def _field_names(value: Any) -> set[str]:
    """Every mapping key inside ``value``, at any depth."""
    if isinstance(value, dict):
        return {str(k) for k in value} | {n for v in value.values() for n in _field_names(v)}
    if isinstance(value, list):
        return {n for v in value for n in _field_names(v)}
    return set()


def _problem(
    loaded: LoadedSpec, option: str, axis: Axis, code: str, message: str, at: SpecPath, hint: str
) -> Diagnostic:
    return Diagnostic(
        code, f"{option} {axis.name}: {message}", at, loaded.source.locate(at), hint=hint
    )


def _train_target(
    loaded: LoadedSpec, option: str, axis: Axis, name: str
) -> list[SpecPath] | Diagnostic:
    at: SpecPath = ("train",) if "train" in loaded.data else ()
    if name == "seed":
        return _problem(
            loaded,
            option,
            axis,
            "E941",
            "the training seed cannot be a study parameter",
            (*at, "seed") if at else at,
            "seeds are replicates: --seeds K trains every configuration with seeds S..S+K-1 "
            "and reports the mean and standard deviation of its NLLs",
        )
    if name not in _TRAIN_FIELDS:
        close = did_you_mean(name, _TRAIN_FIELDS)
        return _problem(
            loaded,
            option,
            axis,
            "E940",
            f"'{name}' is not a training setting",
            at,
            close or f"training settings: {', '.join(_TRAIN_FIELDS)}",
        )
    return [("train", name)]


def resolve(loaded: LoadedSpec, axes: list[Axis]) -> dict[str, list[SpecPath]]:
    """The spec paths each axis sets in the spec ``loaded`` (see the module doc), by axis
    name; raises :class:`SpecError` with a located E940/E941 diagnostic for every axis that
    matches nothing."""
    found = {axis.name: _targets(loaded, axis, axis.option) for axis in axes}
    problems = [where for where in found.values() if isinstance(where, Diagnostic)]
    if problems:
        raise SpecError(problems)
    return {name: where for name, where in found.items() if not isinstance(where, Diagnostic)}


def _targets(loaded: LoadedSpec, axis: Axis, option: str) -> list[SpecPath] | Diagnostic:
    data = loaded.data
    nodes, blocks = data.get("nodes") or {}, data.get("blocks") or {}
    head, rest = axis.path[0], axis.path[1:]
    if head == "train" and len(rest) == 1:
        return _train_target(loaded, option, axis, rest[0])
    if head in nodes and rest:
        found = _where([(("nodes", head), nodes[head])], rest)
        hint = "write the field's parent mapping in the spec first"
        if "block" in nodes[head]:
            hint = f"node '{head}' uses block '{nodes[head]['block']}': set {nodes[head]['block']}.{'.'.join(rest)}"
        scope, at = f"node '{head}'", ("nodes", head)
    elif head in blocks and rest:
        chain = [(w, e) for w, e in _entries(data) if w[:2] == ("blocks", head)]
        found = _where(chain, rest)
        scope, at = f"block '{head}'", ("blocks", head)
        hint = "write the field's parent mapping in the spec first"
    else:
        entries = _entries(data)
        found = _present(entries, axis.path)
        if found:
            return found
        if not rest and head in _TRAIN_FIELDS:
            return _train_target(loaded, option, axis, head)
        return _unmatched_field(loaded, option, axis, entries)
    if found:
        return found
    close = did_you_mean(rest[-1], _field_names(_deep_get(data, at)))
    return _problem(
        loaded,
        option,
        axis,
        "E940",
        f"{scope} has no mapping to hold '{'.'.join(rest)}'",
        at,
        close or hint,
    )


def _unmatched_field(
    loaded: LoadedSpec, option: str, axis: Axis, entries: list[tuple[SpecPath, dict]]
) -> Diagnostic:
    """E940 for a field path no entry has: located at the longest part of it some entry
    has (``net`` of ``net.hiden``), with the closest key there; else at ``nodes``."""
    data, path = loaded.data, axis.path
    for length in range(len(path) - 1, 0, -1):
        holders = _present(entries, path[:length])
        mappings = [_deep_get(data, p) for p in holders]
        keys = {str(k) for m in mappings if isinstance(m, dict) for k in m}
        if keys:
            close = did_you_mean(path[length], keys)
            return _problem(
                loaded,
                option,
                axis,
                "E940",
                f"no node or block entry has '{axis.name}' ('{'.'.join(path[:length])}' has "
                f"no field '{path[length]}')",
                holders[0],
                close or f"fields there: {', '.join(sorted(keys))}",
            )
    nodes, blocks = data.get("nodes") or {}, data.get("blocks") or {}
    names = [*nodes, *blocks, *_field_names(nodes), *_field_names(blocks), *_TRAIN_FIELDS]
    close = did_you_mean(path[0], names)
    listing = f"node ids: {', '.join(nodes) or 'none'}; blocks: {', '.join(blocks) or 'none'}"
    return _problem(
        loaded,
        option,
        axis,
        "E940",
        f"no node id, block, node field or training setting is called '{path[0]}'",
        ("nodes",),
        f"{close + ' ' if close else ''}({listing}); write the field in the spec to vary it",
    )


def _deep_get(value: Any, path: SpecPath) -> Any:
    for key in path:
        value = value[key]
    return value


def apply_values(data: dict, targets: dict[str, list[SpecPath]], values: dict[str, Any]) -> dict:
    """A copy of the spec ``data`` with each axis's value set at its targets."""
    data = copy.deepcopy(data)
    for name, value in values.items():
        for path in targets[name]:
            entry: Any = data
            for key in path[:-1]:
                if isinstance(entry, dict) and key not in entry:
                    entry[key] = {}
                entry = entry[key]
            entry[path[-1]] = copy.deepcopy(value)
    return data
