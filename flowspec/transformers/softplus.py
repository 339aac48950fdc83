"""The softplus, ``z = log(1 + exp(x))``, from the real line to (0, inf).

A smooth bijection onto positive values (Papamakarios et al. 2021, "Normalizing Flows for
Probabilistic Modeling and Inference", arXiv:1912.02762, section 2.2);
``log dz/dx = -softplus(-x)``.

Example::

    {kind: elementwise, fn: softplus}
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Literal

from flowspec.core.example import Example
from flowspec.core.ports import PortInfo
from flowspec.transformers._monotone import MonotoneMapSpec

if TYPE_CHECKING:
    from flowspec.layers.transformers.softplus import SoftplusTransformer

__all__ = ["SoftplusSpec"]


class SoftplusSpec(MonotoneMapSpec):
    """``z = softplus(x)``: real -> (0, inf)."""

    kind: Literal["softplus"] = "softplus"
    summary = "z = log(1 + exp(x)), real -> (0, inf)"
    reference = "Papamakarios et al. 2021, arXiv:1912.02762"
    examples = (Example({}, (PortInfo((3,)),)),)

    def scalar_map(self, v: float) -> float:
        return v if v > 20.0 else math.log1p(math.exp(v))  # linear above 20, as torch's

    def build(self) -> SoftplusTransformer:
        from flowspec.layers.transformers.softplus import SoftplusTransformer

        return SoftplusTransformer()
