"""flowspec: a declarative compiler for normalizing flows.

Write a flow as a YAML graph of bijective, surjective and stochastic nodes; flowspec checks
it, draws it, and compiles it into a PyTorch module whose ``log_prob`` is the sum of every
node's likelihood contribution (the SurVAE-flows view).
"""

from flowspec.api import CheckedSpec, build_nodes, check, compile, emit, load
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
    "emit",
    "load",
]
__version__ = "0.1.0"
