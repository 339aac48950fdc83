"""Standalone emission: one Python file that needs only torch.

The file holds the source of every layer class the model uses (and what those classes
reference: helper functions, constants, their base classes, the ``FlowModel`` runtime),
copied from flowspec's own modules, followed by the generated straight-line model and a
``build_model()`` that rebuilds the tree of layers from their recorded constructor
arguments (:class:`flowspec.core.layer.Layer`). Load trained weights into it with
``load_state_dict``.

What may be emitted is checked, not assumed: constructor arguments must be plain values
or layers; referenced names must be flowspec code, plain constants, or come from torch
and a few standard-library modules. Anything else raises :class:`StandaloneError`.
"""

from __future__ import annotations

import ast
import builtins
import inspect
import math
import sys
import textwrap
import types
from dataclasses import dataclass, field
from typing import Any

from torch import nn

from flowspec.core.layer import Layer
from flowspec.diagnostics import Locator
from flowspec.emit.codegen import class_name, emit_class, header
from flowspec.emit.runtime import FlowModel, Trace
from flowspec.graph.model import FlowGraph
from flowspec.optimize.program import Program

__all__ = ["StandaloneError", "emit_standalone"]

#: Modules a standalone file may import from.
ALLOWED_IMPORTS = (
    "torch",
    "torchdiffeq",
    "math",
    "abc",
    "functools",
    "itertools",
    "dataclasses",
    "typing",
    "collections",
    "warnings",
)
_INDENT = "        "


class StandaloneError(Exception):
    """A layer or a name it uses cannot be written as torch-only source."""


@dataclass
class _Collector:
    """Walks classes and functions, gathering their dependencies in definition order."""

    imports: set[str] = field(default_factory=set)
    constants: dict[str, str] = field(default_factory=dict)
    definitions: dict[str, str] = field(default_factory=dict)
    _seen: dict[str, object] = field(default_factory=dict)
    _bindings: dict[str, str] = field(default_factory=dict)

    def add(self, obj: Any) -> None:
        """Include a class or function ``obj`` and what it references."""
        name = obj.__name__
        if name in self._seen:
            if self._seen[name] is not obj:
                raise StandaloneError(f"two different definitions are both named {name!r}")
            return
        self._seen[name] = obj
        self._bind(name, f"the definition of {obj.__module__}.{obj.__qualname__}")
        source = textwrap.dedent(inspect.getsource(obj))
        module = sys.modules[obj.__module__]
        for used in sorted(_loaded_names(ast.parse(source))):
            if used in vars(module) and used != name:
                self._resolve(used, vars(module)[used], obj)
        self.definitions[name] = source.rstrip() + "\n"

    def _import(self, name: str, statement: str) -> None:
        self._bind(name, statement)
        self.imports.add(statement)

    def _bind(self, name: str, statement: str) -> None:
        """Every module-level name of the file is bound once: two modules' constants or
        imports under one name would silently shadow each other."""
        earlier = self._bindings.setdefault(name, statement)
        if earlier != statement:
            raise StandaloneError(f"{name!r} would be bound twice: {earlier!r} and {statement!r}")

    def _resolve(self, name: str, value: object, user: object) -> None:
        if value is object or (isinstance(value, type) and value.__module__ == "builtins"):
            return
        if getattr(builtins, name, None) is value:
            return
        if isinstance(value, types.ModuleType):
            self._import(name, _import_module(name, value))
            return
        module = getattr(value, "__module__", None) or ""
        if module.startswith("flowspec.") and (inspect.isclass(value) or inspect.isfunction(value)):
            self.add(value)
            return
        if module.split(".")[0] in ALLOWED_IMPORTS and (inspect.isclass(value) or callable(value)):
            self._import(name, f"from {_public_module(value)} import {name}")
            return
        literal = _literal_or_none(value)
        if literal is not None:
            self._bind(name, f"{name} = {literal}")
            self.constants[name] = literal
            return
        raise StandaloneError(
            f"{getattr(user, '__qualname__', user)} uses {name!r} ({type(value).__name__} from "
            f"{module or 'unknown'}), which a torch-only file cannot include"
        )


def _loaded_names(tree: ast.AST) -> set[str]:
    """Names read in the code, leaving out annotations (never evaluated here)."""
    names: set[str] = set()

    class Visitor(ast.NodeVisitor):
        def visit_Name(self, node: ast.Name) -> None:
            if isinstance(node.ctx, ast.Load):
                names.add(node.id)

        def visit_arg(self, node: ast.arg) -> None:
            return  # skip the annotation

        def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
            if node.value is not None:
                self.visit(node.value)

        def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
            for decorator in node.decorator_list:
                self.visit(decorator)
            self.visit(node.args)
            for statement in node.body:
                self.visit(statement)

    Visitor().visit(tree)
    return names


def _import_module(alias: str, module: types.ModuleType) -> str:
    name = module.__name__
    if name.split(".")[0] not in ALLOWED_IMPORTS:
        raise StandaloneError(f"module {name!r} cannot be imported by a torch-only file")
    if alias == name:
        return f"import {name}"
    parent, _, last = name.rpartition(".")
    if parent and last == alias:
        return f"from {parent} import {alias}"
    return f"import {name} as {alias}"


def _public_module(value: object) -> str:
    """Where to import a torch or standard-library object from (its public home)."""
    module = value.__module__
    if module.startswith("torch.nn.modules"):
        return "torch.nn"
    return module


def _literal_or_none(value: Any) -> str | None:
    """Python source for a plain value, or None when it is not one."""
    if value is None or isinstance(value, (bool, int, str)):
        return repr(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "float('nan')"
        if math.isinf(value):
            return "float('inf')" if value > 0 else "-float('inf')"
        return repr(value)
    if isinstance(value, (list, tuple)):
        found = [_literal_or_none(v) for v in value]
        items = [item for item in found if item is not None]
        if len(items) != len(found):
            return None
        if isinstance(value, tuple):
            return f"({', '.join(items)}{',' if len(items) == 1 else ''})"
        return f"[{', '.join(items)}]"
    if isinstance(value, dict):
        pairs = [(_literal_or_none(k), _literal_or_none(v)) for k, v in value.items()]
        if any(k is None or v is None for k, v in pairs):
            return None
        return "{" + ", ".join(f"{k}: {v}" for k, v in pairs) + "}"
    return None


def _constructor(module: nn.Module, collector: _Collector) -> str:
    """Source that rebuilds ``module`` from its recorded constructor arguments."""
    if not isinstance(module, Layer):
        raise StandaloneError(f"{type(module).__qualname__} does not record its arguments")
    collector.add(type(module))
    args, kwargs = module.rebuild_args
    parts = [_argument(a, collector) for a in args]
    parts += [f"{key}={_argument(v, collector)}" for key, v in kwargs.items()]
    return f"{type(module).__name__}({', '.join(parts)})"


def _argument(value: Any, collector: _Collector) -> str:
    if isinstance(value, nn.Module):
        return _constructor(value, collector)
    if isinstance(value, (list, tuple)) and any(isinstance(v, nn.Module) for v in value):
        items = ", ".join(_argument(v, collector) for v in value)
        return f"[{items}]" if isinstance(value, list) else f"({items},)"
    literal = _literal_or_none(value)
    if literal is None:
        raise StandaloneError(f"cannot write the argument {value!r} as source")
    return literal


def emit_standalone(
    graph: FlowGraph,
    nodes: dict[str, nn.Module],
    locator: Locator | None = None,
    program: Program | None = None,
) -> str:
    """A torch-only Python file defining the model of ``graph`` and ``build_model()``."""
    collector = _Collector()
    collector.add(FlowModel)
    collector.add(Trace)
    constructors = {node_id: _constructor(module, collector) for node_id, module in nodes.items()}
    taken = {*collector.definitions, *collector.constants, "build_model"}
    taken |= {line.split()[-1] for line in collector.imports}
    name = class_name(graph.header.name, taken)
    lines = [
        *header(graph, "Standalone: needs only torch; load weights with load_state_dict."),
        "from __future__ import annotations",
        "",
        *sorted(collector.imports),
        "",
        *(f"{key} = {value}" for key, value in sorted(collector.constants.items())),
        "",
    ]
    for source in collector.definitions.values():
        lines += ["", source]
    lines += ["", *emit_class(graph, locator, name, program), "", ""]
    lines += [
        f"def build_model() -> {name}:",
        '    """A fresh instance of this model, untrained and in float32: load trained weights',
        '    with load_state_dict (for float64 weights, call .double() first)."""',
        f"    return {name}(",
        "        {",
        *(f"            {node_id!r}: {expr}," for node_id, expr in constructors.items()),
        "        }",
        "    )",
        "",
    ]
    return "\n".join(lines)
