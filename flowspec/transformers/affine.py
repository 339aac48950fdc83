"""The affine transformer of RealNVP, MAF and IAF.

Dinh et al. 2016, "Density estimation using Real NVP", arXiv:1605.08803; Papamakarios et al.
2017, "Masked Autoregressive Flow for Density Estimation", arXiv:1705.07057.

``z = x * exp(s) + t`` with ``log|dz/dx| = s``. The raw log-scale is soft-bounded,
``s = B * tanh(s_raw / B)``, so a layer can never scale by more than ``exp(B)``.

Example::

    transformer: {kind: affine, scale_bound: 3.0}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from flowspec.core.example import Example
from flowspec.core.ports import PortInfo
from flowspec.transformers.base import LogScaleBound, TransformerSpec

if TYPE_CHECKING:
    from flowspec.layers.transformers.affine import AffineTransformer

__all__ = ["AffineSpec"]


class AffineSpec(TransformerSpec):
    """Scale and shift: ``z = x * exp(s) + t``."""

    kind: Literal["affine"] = "affine"
    scale_bound: LogScaleBound = Field(
        default=2.0, description="Bound B on the log-scale: s = B * tanh(s_raw / B)."
    )
    summary = "z = x * exp(s) + t, s soft-bounded by B"
    reference = "Dinh et al. 2016, arXiv:1605.08803"
    linear = True
    examples = (Example({"scale_bound": 3.0}, (PortInfo((3,)),)),)

    def params_per_feature(self) -> int:
        return 2

    def build(self) -> AffineTransformer:
        from flowspec.layers.transformers.affine import AffineTransformer

        return AffineTransformer(self.scale_bound)
