"""Parameter studies: train every combination of spec settings, in parallel processes.

``--set PATH=V1,V2,...`` names a field and its values (each value is YAML, commas inside
brackets do not split: ``net.hidden=[32],[64, 64]``). ``PATH`` starts with

- a node id (``body.repeat=4,8`` sets ``nodes.body.repeat``),
- a block name (``step.net.hidden=...`` sets it in every node of the block that has a
  ``net``; a top-level field such as ``step.kind`` is set in every node),
- ``train`` (``train.lr=1e-3,3e-3`` sets a training setting), or
- a field name: it is set in every node and block entry that has that field
  (``net.hidden=[32],[64]`` changes every ``net:``).

Each combination is a full spec, checked like any other, then trained by one worker
process (one thread each) with the same settings and data; its best checkpoint and metrics
go into the output folder. The study ends with a table and a figure of the validation and
test NLL against each parameter, as the normalizing-flows lecture's exercise asks ("study
the effect of flow layers, NN layers, NN width, activation").

Example::

    $ flowspec sweep specs/realnvp_moons.yaml --data moons --steps 1000 \\
        --set net.hidden=[32],[64],[128] --set body.repeat=4,8
"""

from __future__ import annotations

import copy
import itertools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from flowspec.diagnostics import SpecError
from flowspec.spec.loader import load_spec_text

__all__ = [
    "Axis",
    "SweepError",
    "combinations",
    "parse_assignment",
    "apply_values",
    "run_one",
    "Trial",
]


class SweepError(ValueError):
    """A ``--set`` that cannot be parsed or matches nothing in the spec."""


@dataclass(frozen=True)
class Axis:
    """One swept field: its dotted path and the values it takes."""

    path: tuple[str, ...]
    values: tuple[Any, ...]

    @property
    def name(self) -> str:
        return ".".join(self.path)


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


def parse_assignment(text: str) -> Axis:
    """``PATH=V1,V2`` as an :class:`Axis`; :class:`SweepError` when it is malformed."""
    path, equals, values = text.partition("=")
    if not equals or not re.fullmatch(r"[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*", path.strip()):
        raise SweepError(
            f"'{text}' is not PATH=VALUES (e.g. net.hidden=[32],[64] or body.repeat=4,8)"
        )
    parsed = []
    for part in _split_top_level(values):
        if not part.strip():
            raise SweepError(f"'{text}' has an empty value")
        try:  # read as the spec is: YAML 1.2 (1e-3 is a number, no is a string)
            parsed.append(load_spec_text(f"value: {part}").data["value"])
        except SpecError:
            raise SweepError(f"value '{part}' in '{text}' is not valid YAML") from None
    return Axis(tuple(path.strip().split(".")), tuple(parsed))


def _set(entry: Any, path: tuple[str, ...], value: Any, create: bool) -> bool:
    """Set ``entry[path] = value`` (creating the last key only when ``create``)."""
    *parents, last = path
    for key in parents:
        if not isinstance(entry, dict) or not isinstance(entry.get(key), dict):
            return False
        entry = entry[key]
    if not isinstance(entry, dict) or (last not in entry and not create):
        return False
    entry[last] = value
    return True


def apply_values(data: dict, axis: Axis, value: Any) -> dict:
    """A copy of the spec ``data`` with ``axis`` set to ``value`` (see the module doc)."""
    data = copy.deepcopy(data)
    head, rest = axis.path[0], axis.path[1:]
    nodes, blocks = data.get("nodes") or {}, data.get("blocks") or {}
    if head == "train" and rest:
        train = data.setdefault("train", {}) or {}
        data["train"] = train
        _set(train, rest, value, create=True)
        return data
    if head in nodes and rest:
        if not _set(nodes[head], rest, value, create=True):
            raise SweepError(
                f"cannot set '{axis.name}': node '{head}' has no mapping at {'.'.join(rest[:-1])}"
            )
        return data
    if head in blocks and rest:
        if not any([_set(entry, rest, value, create=len(rest) == 1) for entry in blocks[head]]):
            raise SweepError(f"cannot set '{axis.name}': no node of block '{head}' has '{rest[0]}'")
        return data
    entries = [*nodes.values(), *(entry for chain in blocks.values() for entry in chain)]
    hits = [_set(entry, axis.path, value, create=False) for entry in entries]
    if not any(hits):
        raise SweepError(
            f"--set {axis.name}: no node id, block or node field '{head}' in the spec (node ids: "
            f"{', '.join(nodes) or 'none'}; blocks: {', '.join(blocks) or 'none'}); write the "
            "field explicitly in the spec to sweep its value"
        )
    return data


def combinations(data: dict, axes: list[Axis]) -> list[tuple[dict[str, Any], str]]:
    """Every combination of the axes' values: its values by axis name and its spec text."""
    names = [axis.name for axis in axes]
    result = []
    for values in itertools.product(*(axis.values for axis in axes)):
        spec = data
        for axis, value in zip(axes, values, strict=True):
            spec = apply_values(spec, axis, value)
        label = ", ".join(
            f"{name}={_short(value)}" for name, value in zip(names, values, strict=True)
        )
        spec = {**spec, "name": f"{data.get('name', 'model')} [{label}]"}
        result.append(
            (dict(zip(names, values, strict=True)), yaml.safe_dump(spec, sort_keys=False))
        )
    return result


def _short(value: Any) -> str:
    return yaml.safe_dump(value, default_flow_style=True).strip().removesuffix("...").strip()


@dataclass
class Trial:
    """One trained combination."""

    values: dict[str, Any]
    checkpoint: str
    steps: int = 0
    best_step: int = 0
    val_nll: float = float("nan")
    test_nll: float = float("nan")
    bits_per_dim: float | None = None
    seconds: float = 0.0
    error: str | None = None


def run_one(values: dict[str, Any], spec_text: str, settings: dict, checkpoint: str) -> Trial:
    """Train one combination on one thread (the body of a worker process)."""
    import torch

    import flowspec
    from flowspec.spec.training import TrainSettings
    from flowspec.train.files import DataError
    from flowspec.train.loop import RunFiles, TrainingDiverged, fit
    from flowspec.train.prepare import prepare

    torch.set_num_threads(1)
    trial = Trial(values, checkpoint)
    try:
        checked = flowspec.check(load_spec_text(spec_text, file=Path(checkpoint).stem + ".yaml"))
        merged = TrainSettings.model_validate(settings)
        model, dataset = prepare(checked, merged)
        result = fit(
            model,
            dataset,
            merged,
            files=RunFiles.beside(checkpoint),
            progress=False,
            log=lambda _: None,
            meta={"data": str(merged.data), "settings": merged.model_dump_json()},
        )
    except SpecError as error:
        trial.error = error.format()
        return trial
    except (DataError, TrainingDiverged, ValueError) as error:
        trial.error = str(error)
        return trial
    trial.steps, trial.best_step = result.steps, result.best_step
    trial.val_nll, trial.test_nll = result.val_nll, result.test_nll
    trial.bits_per_dim, trial.seconds = result.bits_per_dim, result.seconds
    return trial
