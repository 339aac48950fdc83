"""The hyperbolic tangent, ``z = tanh(x)``, from the real line to (-1, 1).

An elementwise bijection onto a bounded interval (Papamakarios et al. 2021, "Normalizing
Flows for Probabilistic Modeling and Inference", arXiv:1912.02762, section 2.2);
``log dz/dx = log(1 - tanh^2 x) = 2 (log 2 - x - softplus(-2x))``.

Example::

    {kind: elementwise, fn: tanh}
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

from flowspec.core.example import Example
from flowspec.core.ports import PortInfo
from flowspec.transformers._monotone import MonotoneMapSpec

if TYPE_CHECKING:
    from flowspec.layers.transformers.tanh import TanhTransformer

__all__ = ["TanhSpec"]


class TanhSpec(MonotoneMapSpec):
    """``z = tanh(x)``: real -> (-1, 1)."""

    kind: Literal["tanh"] = "tanh"
    summary = "z = tanh(x), real -> (-1, 1)"
    reference = "Papamakarios et al. 2021, arXiv:1912.02762"
    examples = (Example({}, (PortInfo((3,)),)),)

    def scalar_map(self, v: float) -> float:
        return math.tanh(v)

    def build(self) -> TanhTransformer:
        from flowspec.layers.transformers.tanh import TanhTransformer

        return TanhTransformer()
