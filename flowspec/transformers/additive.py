"""The additive transformer of NICE.

Dinh, Krueger and Bengio 2014, "NICE: Non-linear Independent Components Estimation",
arXiv:1410.8516.

``z = x + t``: volume-preserving, so the layer's contribution is zero.

Example::

    transformer: {kind: additive}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from flowspec.core.example import Example
from flowspec.core.ports import PortInfo
from flowspec.transformers.base import TransformerSpec

if TYPE_CHECKING:
    from flowspec.layers.transformers.additive import AdditiveTransformer

__all__ = ["AdditiveSpec"]


class AdditiveSpec(TransformerSpec):
    """Shift only: ``z = x + t`` (log-derivative zero)."""

    kind: Literal["additive"] = "additive"
    summary = "z = x + t (volume-preserving)"
    reference = "Dinh et al. 2014, arXiv:1410.8516"
    volume_preserving = True
    linear = True
    examples = (Example({}, (PortInfo((3,)),)),)

    def params_per_feature(self) -> int:
        return 1

    def build(self) -> AdditiveTransformer:
        from flowspec.layers.transformers.additive import AdditiveTransformer

        return AdditiveTransformer()
