"""A fixed (or globally learned) scale and shift, ``z = scale * x + shift``.

The elementwise affine map; ``log|dz/dx| = log|scale|`` (Papamakarios et al. 2021,
"Normalizing Flows for Probabilistic Modeling and Inference", arXiv:1912.02762, section
3.1). A negative scale reverses the order of the values. With ``learnable`` the map learns
one log-scale and one shift for all features, starting from the given values (the sign
stays); for a scale and shift per feature use ``transformer: {kind: affine}`` on an
``elementwise`` node, whose parameters are learned per feature.

Example::

    - {kind: elementwise, fn: scale_shift, scale: 0.5, shift: 0.5}
    - {kind: coupling, transformer: {kind: scale_shift, scale: -1.0, learnable: true}}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from flowspec.core.example import Example
from flowspec.core.ports import PortInfo, Support
from flowspec.transformers._monotone import FLOAT32_MAX, MonotoneMapSpec, usable_factor

if TYPE_CHECKING:
    from flowspec.core.node import NodeCheck
    from flowspec.layers.transformers.scale_shift import ScaleShiftTransformer

__all__ = ["ScaleShiftSpec"]


class ScaleShiftSpec(MonotoneMapSpec):
    """``z = scale * x + shift``, fixed or with a learned scalar scale and shift."""

    kind: Literal["scale_shift"] = "scale_shift"
    scale: float = Field(default=1.0, description="The (nonzero) scale.")
    shift: float = Field(default=0.0, description="The shift.")
    learnable: bool = Field(
        default=False,
        description="Learn the scale (as sign * exp(log_scale), so it keeps its sign) and the "
        "shift, one of each for all features, starting from the given values.",
    )
    summary = "z = scale * x + shift (fixed, or one learned scale and shift)"
    reference = "Papamakarios et al. 2021, arXiv:1912.02762"
    linear = True
    examples = (
        Example({"scale": -2.0, "shift": 0.5}, (PortInfo((3,)),), label="fixed"),
        Example(
            {"scale": 0.5, "learnable": True},
            (PortInfo((3,), Support(0.0, 1.0)),),
            label="learnable",
        ),
    )

    def scalar_map(self, v: float) -> float:
        return self.scale * v + self.shift

    def output_support(self, support: Support) -> Support:
        if self.learnable:
            return support.moved()  # the learned scale and shift can move it anywhere
        return super().output_support(support)

    def parameter_count(self) -> int:
        return 2 if self.learnable else 0

    def check_static(self, check: NodeCheck, *field: str | int) -> None:
        if not usable_factor(self.scale):
            check.error(
                "E423",
                f"scale_shift needs a nonzero scale whose inverse float32 can hold (between "
                f"{1 / FLOAT32_MAX:.3g} and {FLOAT32_MAX:.3g} in size), got {self.scale} (a "
                "zero scale, or one float32 rounds to 0 or infinity, cannot be inverted)",
                *field,
                "scale",
                hint="use a nonzero scale, e.g. 1.0",
            )
        if abs(self.shift) > FLOAT32_MAX:
            check.error(
                "E104",
                f"scale_shift needs a shift float32 can hold (at most {FLOAT32_MAX:.3g} in "
                f"size), got {self.shift}, which is infinite in the model",
                *field,
                "shift",
                hint="use a shift of a usable size, e.g. 0.0",
            )

    def build(self) -> ScaleShiftTransformer:
        from flowspec.layers.transformers.scale_shift import ScaleShiftTransformer

        return ScaleShiftTransformer(self.scale, self.shift, self.learnable)
