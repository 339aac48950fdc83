"""The logarithm, ``z = log(x)``, from (0, inf) to the real line; ``log dz/dx = -z``.

Papamakarios et al. 2021, "Normalizing Flows for Probabilistic Modeling and Inference",
arXiv:1912.02762, section 2.2: positive data (scales, rates) made unbounded before a flow
on the real line.

Example::

    {kind: elementwise, fn: log}
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

from flowspec.core.example import Example
from flowspec.core.ports import PortInfo, Support
from flowspec.transformers._monotone import MonotoneMapSpec

if TYPE_CHECKING:
    from flowspec.layers.transformers.log import LogTransformer

__all__ = ["LogSpec"]


class LogSpec(MonotoneMapSpec):
    """``z = log(x)``: (0, inf) -> real."""

    kind: Literal["log"] = "log"
    summary = "z = log(x), (0, inf) -> real"
    reference = "Papamakarios et al. 2021, arXiv:1912.02762"
    interval = (0.0, math.inf)
    domain_fix = "{kind: elementwise, fn: exp} or softplus"
    examples = (Example({}, (PortInfo((3,), Support(0.0, math.inf)),)),)

    def scalar_map(self, v: float) -> float:
        return math.log(v) if v > 0.0 else -math.inf

    def build(self) -> LogTransformer:
        from flowspec.layers.transformers.log import LogTransformer

        return LogTransformer()
