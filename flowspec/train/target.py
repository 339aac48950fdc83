"""Targets of reverse-KL fitting: unnormalized log-densities ``log p~(x)`` of a batch.

A target is a bundled energy (``U1`` to ``U4``, :mod:`flowspec.train.energies`) or a
user's Python function named ``FILE.py:FUNCTION``: it takes a batch ``x`` of shape
``[n, *event]`` (a float tensor, with gradients while training) and returns ``log p~(x)``
of shape ``[n]``, computed with torch operations so that gradients flow through it, up to
an additive constant (the unknown ``log Z``).

Loading a function imports its file, which runs the file's code: :func:`resolve_target`
does it only when called with such a name (``flowspec train --target``, ``flowspec
sample --target``, ``flowspec eval --target``), never for a name read from a spec or a
checkpoint. Every way a user's file or function can go wrong is a :class:`TargetError`
located in the user's file (``FILE:LINE``) that says what was expected and what was
found: a missing file, a syntax error, an error raised on import or by the function, no
such function, a result that is not a tensor, of the wrong shape or dtype, cut off from
the gradient, NaN or ``+inf``, or ``-inf`` (zero density) where the model draws.

    >>> import torch
    >>> target = resolve_target("U2")
    >>> target.log_density(torch.zeros(3, 2)).shape
    torch.Size([3])
    >>> round(log_normalizer(target), 4)   # log Z of U2 on its grid
    2.2002
"""

from __future__ import annotations

import importlib.util
import inspect
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import torch

from flowspec.diagnostics import did_you_mean
from flowspec.spec.training import ENERGIES, is_python_target
from flowspec.train.energies import BOX
from flowspec.train.energies import ENERGIES as BUNDLED

__all__ = ["GRID_POINTS", "Target", "TargetError", "log_normalizer", "resolve_target"]

GRID_POINTS = 1401
"""Points per axis of the grid :func:`log_normalizer` integrates on (spacing 0.01 on the
bundled energies' box)."""


class TargetError(ValueError):
    """A target that cannot be loaded or returned a value that cannot be a log-density;
    the message is located in the user's file (``FILE:LINE``) where there is one."""


@dataclass(frozen=True)
class Target:
    """An unnormalized log-density: ``name`` as the user gave it (``U1``,
    ``energy.py:log_p``), the function, the event shape it requires (``[2]`` for the
    bundled energies, None when only its results can tell) and, for the bundled energies,
    the square ``box`` (both axes) that holds its mass, where ``log Z`` is computed on a
    grid; ``where`` locates a user's function (``FILE:LINE``) in messages."""

    name: str
    function: Callable[[torch.Tensor], object]
    shape: tuple[int, ...] | None = None
    box: tuple[float, float] | None = None
    where: str | None = None

    @property
    def bundled(self) -> bool:
        return self.where is None

    def log_density(self, x: torch.Tensor) -> torch.Tensor:
        """``log p~(x)``, shape ``[n]`` in ``x``'s dtype, checked (:class:`TargetError`)."""
        try:
            value = self.function(x)
        except Exception as error:  # the user's code: any exception is theirs to fix
            raise TargetError(
                f"{_raised_where(error, self.where)}: {self._called()} raised "
                f"{type(error).__name__}: {error}"
            ) from None
        return self._checked(x, value)

    def _called(self) -> str:
        if self.bundled:
            return f"target {self.name}"
        return f"function '{self.name.rpartition(':')[2]}'"

    def _fail(self, problem: str, hint: str) -> TargetError:
        where = f"{self.where}: " if self.where else ""
        return TargetError(f"{where}{self._called()} {problem}; {hint}")

    def _checked(self, x: torch.Tensor, value: object) -> torch.Tensor:
        n = x.shape[0]
        if not isinstance(value, torch.Tensor):
            raise self._fail(
                f"returned {type(value).__module__}.{type(value).__name__}, expected a torch "
                f"tensor of shape ({n},)",
                "compute log p~(x) from the tensor x with torch operations",
            )
        if tuple(value.shape) != (n,):
            raise self._fail(
                f"returned shape {tuple(value.shape)} for a batch of shape "
                f"{tuple(x.shape)}, expected ({n},): one log-density per row",
                "reduce over the event dimensions (e.g. .sum(-1)) and keep the batch axis",
            )
        if value.dtype not in (torch.float32, torch.float64):
            raise self._fail(
                f"returned dtype {value.dtype}, expected a float32 or float64 tensor",
                "log p~(x) is a real number per row",
            )
        if x.requires_grad and not value.requires_grad:
            raise self._fail(
                "returned a tensor that does not depend on x through autograd, so the "
                "reverse-KL gradient cannot flow through the target",
                "compute it with torch operations on x (no .numpy(), .item(), .detach() or "
                "torch.no_grad())",
            )
        bad = torch.isnan(value) | (value == torch.inf)
        if bool(bad.any()):
            first = int(bad.nonzero()[0])
            raise self._fail(
                f"returned {value[first].item()} for {int(bad.sum())} of {n} points "
                f"(the first at x = {_show(x[first])})",
                "log p~(x) must be a number, or -inf where the density is zero",
            )
        zero = value == -torch.inf
        if bool(zero.any()):
            first = int(zero.nonzero()[0])
            raise self._fail(
                f"returned -inf (zero density) at {int(zero.sum())} of {n} draws of the "
                f"model (the first at x = {_show(x[first])}), so the reverse KL is infinite",
                "give the flow the target's support (e.g. a sigmoid last for (0, 1)), or "
                "make log p~ finite wherever the flow can draw",
            )
        return value.to(x.dtype)


def _show(row: torch.Tensor) -> str:
    values = row.detach().flatten().tolist()
    shown = ", ".join(f"{v:.4g}" for v in values[:6])
    return f"[{shown}{', ...' if len(values) > 6 else ''}]"


def _raised_where(error: BaseException, fallback: str | None) -> str:
    """``FILE:LINE`` of the innermost frame of the user's file in ``error``'s traceback
    (the line that raised), else ``fallback`` (the function's definition)."""
    if fallback is None:
        return "flowspec"
    file = fallback.rsplit(":", 1)[0]
    frames = [
        frame
        for frame in traceback.extract_tb(error.__traceback__)
        if Path(frame.filename).resolve() == Path(file).resolve()
    ]
    return f"{file}:{frames[-1].lineno}" if frames else fallback


def resolve_target(name: str) -> Target:
    """The target ``name`` names: a bundled energy (``U1`` to ``U4``) or ``FILE.py:FUNCTION``
    (its file imported now); :class:`TargetError` saying what is wrong otherwise."""
    if name in BUNDLED:
        return Target(name, BUNDLED[name].log_density, shape=(2,), box=BOX)
    if not is_python_target(name):
        close = did_you_mean(name.upper(), list(ENERGIES))
        raise TargetError(
            f"unknown target '{name}': expected a bundled energy ({', '.join(ENERGIES)})"
            + (f" ({close})" if close else "")
            + " or a Python function FILE.py:FUNCTION"
        )
    path_text, _, function_name = name.rpartition(":")
    module = _import(Path(path_text))
    function = getattr(module, function_name, None)
    if function is None:
        defined = [
            key
            for key, value in vars(module).items()
            if inspect.isfunction(value) and value.__module__ == module.__name__
        ]
        suggestion = did_you_mean(function_name, defined)
        listed = f"it defines {', '.join(defined)}" if defined else "it defines no function"
        raise TargetError(f"{path_text}: no function '{function_name}' ({suggestion or listed})")
    if not callable(function):
        raise TargetError(
            f"{path_text}: '{function_name}' is a {type(function).__name__}, not a function "
            "taking a batch x and returning log p~(x)"
        )
    line = getattr(getattr(function, "__code__", None), "co_firstlineno", None)
    where = f"{path_text}:{line}" if line is not None else path_text
    return Target(name, function, where=where)


def _import(path: Path) -> ModuleType:
    """The user's file as a module (its folder first on ``sys.path`` while it imports, as
    when it runs as a script)."""
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "does not exist"
        raise TargetError(f"{path}: {what} (expected a Python file defining the target)")
    spec = importlib.util.spec_from_file_location(f"flowspec_target_{path.stem}", path)
    assert spec is not None and spec.loader is not None, "a .py file has a source loader"
    module = importlib.util.module_from_spec(spec)
    folder = str(path.resolve().parent)
    sys.path.insert(0, folder)
    try:
        spec.loader.exec_module(module)
    except SyntaxError as error:
        raise TargetError(
            f"{path}:{error.lineno}:{error.offset}: syntax error: {error.msg}"
        ) from None
    except (Exception, SystemExit) as error:  # the user's code, run on import
        raise TargetError(
            f"{_raised_where(error, str(path))}: importing the file raised "
            f"{type(error).__name__}: {error}"
        ) from None
    finally:
        sys.path.remove(folder)
    return module


@torch.no_grad()
def log_normalizer(target: Target, points: int = GRID_POINTS) -> float:
    """``log Z = log of the integral of p~`` over the target's box, by the midpoint rule on
    a ``points x points`` grid in float64 (the bundled energies are smooth on a scale of
    0.35 and the grid's spacing is 0.01: its error is far below the figures' digits; the
    tests compare it with a grid twice as fine). Only a target with a box has one."""
    if target.box is None:
        raise ValueError(f"target {target.name} has no box to integrate it on")
    low, high = target.box
    step = (high - low) / points
    axis = low + step * (torch.arange(points, dtype=torch.float64) + 0.5)
    grid_y, grid_x = torch.meshgrid(axis, axis, indexing="ij")
    grid = torch.stack([grid_x.reshape(-1), grid_y.reshape(-1)], dim=1)
    log_p = torch.cat([target.log_density(chunk) for chunk in grid.split(1 << 18)])
    return float(torch.logsumexp(log_p, 0)) + 2 * float(torch.log(torch.tensor(step)))
