"""flowspec: a declarative compiler for normalizing flows.

Write a flow as a YAML graph of bijective, surjective and stochastic nodes; flowspec checks
it, draws it, and compiles it into a PyTorch module whose ``log_prob`` is the sum of every
node's likelihood contribution (the SurVAE-flows view).

The names below are imported on first use (PEP 562), so ``import flowspec`` and checking a
spec never import torch; ``flowspec.compile`` and ``FlowModel`` do. ``flowspec.emit`` is
the package that writes PyTorch source (``flowspec.source(spec)`` returns that source).
"""

from __future__ import annotations

import importlib
import importlib.util
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flowspec.api import CheckedSpec, build_nodes, check, compile, load, source
    from flowspec.diagnostics import Diagnostic, SpecError
    from flowspec.emit.runtime import FlowModel, Trace

__all__ = [
    "CheckedSpec",
    "Diagnostic",
    "FlowModel",
    "SpecError",
    "Trace",
    "build_nodes",
    "check",
    "compile",
    "load",
    "source",
]
__version__ = "0.1.0"

#: Where each public name lives.
_HOMES = {
    "CheckedSpec": "flowspec.api",
    "build_nodes": "flowspec.api",
    "check": "flowspec.api",
    "compile": "flowspec.api",
    "load": "flowspec.api",
    "source": "flowspec.api",
    "Diagnostic": "flowspec.diagnostics",
    "SpecError": "flowspec.diagnostics",
    "FlowModel": "flowspec.emit.runtime",
    "Trace": "flowspec.emit.runtime",
}


def __getattr__(name: str) -> Any:
    """A public name, imported from its home on first use; or a subpackage such as
    ``flowspec.emit``, imported when first named."""
    home = _HOMES.get(name)
    if home is not None:
        value = getattr(importlib.import_module(home), name)
    elif importlib.util.find_spec(f"{__name__}.{name}") is not None:
        value = importlib.import_module(f"{__name__}.{name}")
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
