"""A study's configurations: the axes resolved against the user's spec, the grid of a
sweep, and every configuration checked before any trial starts, its errors located in the
user's spec file.

A configuration is checked as the user's spec with the configuration's values put in,
located through the user's own source map: an error about a set value points at the place
in the user's file where that field is (or, for an added field, at its parent), and says
which ``--set``/``--search`` value it comes from. A trial trains the same data written out
as YAML (:meth:`Space.spec_text`).

Example::

    >>> space = Space.of(flowspec.load("spec.yaml"), [parse_set("body.repeat=2,4")])  # doctest: +SKIP
    >>> space.check(space.grid())      # raises SpecError with located diagnostics  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from flowspec.diagnostics import Diagnostic, SpecError, SpecPath
from flowspec.spec.loader import LoadedSpec
from flowspec.study.space import Axis, apply_values, label, resolve, short

__all__ = ["Space"]


@dataclass(frozen=True)
class Space:
    """The axes of a study and the spec paths each one sets in the user's spec."""

    loaded: LoadedSpec
    axes: tuple[Axis, ...]
    targets: dict[str, list[SpecPath]]

    @classmethod
    def of(cls, loaded: LoadedSpec, axes: list[Axis]) -> Space:
        """Resolve ``axes`` against ``loaded``; :class:`SpecError` (E940, E941) for every
        path that matches nothing, and a :class:`ValueError` for a path given twice."""
        names = [axis.name for axis in axes]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"{', '.join(twice)} is given more than once")
        return cls(loaded, tuple(axes), resolve(loaded, axes))

    @property
    def names(self) -> list[str]:
        return [axis.name for axis in self.axes]

    def grid(self) -> list[dict[str, Any]]:
        """Every combination of the axes' values (ranges give their two ends)."""
        names = self.names
        product = itertools.product(*(axis.representatives() for axis in self.axes))
        return [dict(zip(names, values, strict=False)) for values in product]

    def corners(self) -> list[dict[str, Any]]:
        """Each axis's every choice (or range end) with the other axes at their first: the
        configurations a search checks before its first trial."""
        first = {axis.name: axis.representatives()[0] for axis in self.axes}
        found = [first]
        for axis in self.axes:
            found += [first | {axis.name: v} for v in axis.representatives()[1:]]
        return found

    @classmethod
    def override(cls, loaded: LoadedSpec, values: Mapping[str, Any]) -> LoadedSpec:
        """``loaded`` with each ``PATH: value`` of ``values`` put in (paths as ``--set``
        reads them: a node id, a block name, ``train`` or a field wherever it is); the
        source map stays the user's, so diagnostics point into the user's file.
        :class:`SpecError` (E940) for a path that matches nothing."""
        axes = [
            Axis(tuple(path.split(".")), (value,), option="override")
            for path, value in values.items()
        ]
        space = cls.of(loaded, axes)
        return LoadedSpec(space.data(dict(values)), loaded.source, loaded.text)

    def data(self, values: dict[str, Any]) -> dict:
        """The user's spec data with ``values`` put in."""
        return apply_values(self.loaded.data, self.targets, values)

    def spec_text(self, values: dict[str, Any]) -> str:
        """The spec of a configuration as YAML text (what a trial trains and stores)."""
        return yaml.safe_dump(self.data(values), sort_keys=False, allow_unicode=True)

    def training(self, values: dict[str, Any]) -> dict[str, Any]:
        """The training settings a configuration sets (``train.lr=...``, ``lr=...``)."""
        return {
            str(paths[0][1]): values[name]
            for name, paths in self.targets.items()
            if paths and paths[0][0] == "train"
        }

    def check(self, configurations: list[dict[str, Any]]) -> None:
        """Check every configuration as a spec; :class:`SpecError` with each distinct
        problem once, located in the user's file and naming the value it comes from."""
        import flowspec

        problems: dict[tuple, Diagnostic] = {}
        for values in configurations:
            loaded = LoadedSpec(self.data(values), self.loaded.source, self.loaded.text)
            try:
                flowspec.check(loaded)
            except SpecError as error:
                for diagnostic in error.diagnostics:
                    if diagnostic.severity != "error":
                        continue
                    found = self._attributed(diagnostic, values)
                    problems.setdefault((found.format(),), found)
        if problems:
            raise SpecError(problems.values())

    def _attributed(self, diagnostic: Diagnostic, values: dict[str, Any]) -> Diagnostic:
        """``diagnostic`` with the value that caused it: the axis whose path holds it, or
        else the whole configuration."""
        path = diagnostic.path
        for axis in self.axes:
            if any(path[: len(target)] == target for target in self.targets[axis.name]):
                cause = f"{axis.option} {axis.name}={short(values[axis.name])}"
                break
        else:
            cause = f"the configuration {label(values)}"
        return dataclasses.replace(diagnostic, message=f"{diagnostic.message} (with {cause})")
