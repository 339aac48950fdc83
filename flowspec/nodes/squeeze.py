"""Squeeze (space-to-depth) and its inverse, unsqueeze (depth-to-space), on images.

Dinh et al. 2016, "Density estimation using Real NVP", arXiv:1605.08803, Sec. 3.6;
Kingma and Dhariwal 2018, "Glow", arXiv:1807.03039, Sec. 3: squeeze trades spatial size for
channels so that couplings with channel masks, 1x1 convolutions and factored-out latents
act at a coarser scale. With factor ``f``::

    squeeze:   [C, H, W] -> [C f^2, H / f, W / f]
    unsqueeze: [C, H, W] -> [C / f^2, H f, W f]

Output channel ``c f^2 + i f + j`` at position ``(h, w)`` holds input channel ``c`` at
``(h f + i, w f + j)``. Both are permutations of the values: zero contribution, one pass
each way, and the support of every value is unchanged.

Example::

    coarse: {kind: squeeze, in: x}                 # [1, 8, 8] -> [4, 4, 4]
    fine: {kind: unsqueeze, in: coarse, factor: 2} # [4, 4, 4] -> [1, 8, 8]
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from flowspec.core.example import Example
from flowspec.core.node import NodeCheck, NodeSpec
from flowspec.core.ports import PortInfo
from flowspec.nodes._checks import check_image

if TYPE_CHECKING:
    from flowspec.layers.squeeze import Squeeze

__all__ = ["SqueezeSpec", "UnsqueezeSpec"]

_REFERENCE = "Dinh et al. 2016, Density estimation using Real NVP, arXiv:1605.08803"


class _Resample(NodeSpec):
    """What squeeze and unsqueeze share: the factor, the shape rule's frame and the build."""

    factor: int = Field(
        default=2,
        ge=2,
        le=64,
        description="Side of the square block of pixels moved into channels (2 .. 64).",
    )
    reference = _REFERENCE
    contribution = "0"
    volume_preserving = True
    has_parameters = False

    def _output_shape(self, x: PortInfo, check: NodeCheck) -> tuple[int, int, int] | None:
        raise NotImplementedError

    def infer(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None, check: NodeCheck
    ) -> tuple[PortInfo, ...] | None:
        (x,) = inputs
        if not check_image(x, self.kind, check):
            return None
        shape = self._output_shape(x, check)
        return None if shape is None else (x.with_shape(shape),)

    def build(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> Squeeze:
        from flowspec.layers.squeeze import Squeeze

        return Squeeze(self.factor, self.kind == "unsqueeze")


class SqueezeSpec(_Resample):
    """Space-to-depth: every ``f x f`` block of pixels becomes ``f^2`` channels."""

    kind: Literal["squeeze"] = "squeeze"
    summary = "space-to-depth [C, H, W] -> [C f^2, H/f, W/f] (values unchanged)"

    examples = (
        Example({}, (PortInfo((1, 2, 2)),)),
        Example({"factor": 2}, (PortInfo((2, 4, 2)),), label="several channels"),
    )

    def _output_shape(self, x: PortInfo, check: NodeCheck) -> tuple[int, int, int] | None:
        channels, height, width = x.shape
        f = self.factor
        if height % f or width % f:
            odd = [f"{name} = {size}" for name, size in (("H", height), ("W", width)) if size % f]
            check.error(
                "E651",
                f"squeeze by {f} needs H and W divisible by {f}, but the input {x} has "
                f"{' and '.join(odd)}",
                "factor",
                hint="choose a factor that divides both sizes, or pad or crop the image "
                "before the flow",
            )
            return None
        return (channels * f * f, height // f, width // f)


class UnsqueezeSpec(_Resample):
    """Depth-to-space, the inverse of squeeze: ``f^2`` channels become an ``f x f`` block."""

    kind: Literal["unsqueeze"] = "unsqueeze"
    summary = "depth-to-space [C, H, W] -> [C/f^2, H f, W f] (values unchanged)"

    examples = (Example({}, (PortInfo((4, 1, 2)),)),)

    def _output_shape(self, x: PortInfo, check: NodeCheck) -> tuple[int, int, int] | None:
        channels, height, width = x.shape
        f = self.factor
        if channels % (f * f):
            check.error(
                "E652",
                f"unsqueeze by {f} needs the channels divisible by {f * f}, but the input "
                f"{x} has C = {channels}",
                "factor",
                hint=f"unsqueeze an input with a multiple of {f * f} channels",
            )
            return None
        return (channels // (f * f), height * f, width * f)
