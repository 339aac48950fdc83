"""The exponential, ``z = exp(x)``, from the real line to (0, inf); ``log dz/dx = x``.

Papamakarios et al. 2021, "Normalizing Flows for Probabilistic Modeling and Inference",
arXiv:1912.02762, section 2.2 (an elementwise bijection onto positive values).

Example::

    {kind: elementwise, fn: exp}
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

from flowspec.core.example import Example
from flowspec.core.ports import PortInfo
from flowspec.transformers._monotone import MonotoneMapSpec

if TYPE_CHECKING:
    from flowspec.layers.transformers.exp import ExpTransformer

__all__ = ["ExpSpec"]


class ExpSpec(MonotoneMapSpec):
    """``z = exp(x)``: real -> (0, inf)."""

    kind: Literal["exp"] = "exp"
    summary = "z = exp(x), real -> (0, inf)"
    reference = "Papamakarios et al. 2021, arXiv:1912.02762"
    examples = (Example({}, (PortInfo((3,)),)),)

    def scalar_map(self, v: float) -> float:
        return math.exp(v) if v < 710.0 else math.inf

    def build(self) -> ExpTransformer:
        from flowspec.layers.transformers.exp import ExpTransformer

        return ExpTransformer()
