"""Glow's invertible 1x1 convolution on images, LU-parameterised.

Kingma and Dhariwal 2018, "Glow: Generative Flow with Invertible 1x1 Convolutions",
arXiv:1807.03039, Sec. 3.2: at every pixel the channels are mixed by the same invertible
matrix ``W = P L (U + diag(s))``, so ``log|det| = H * W * sum(log|s|)``. It is
:mod:`flowspec.nodes.lu_linear` (which mixes event axis 0 of any shape) restricted to
image-shaped inputs ``[C, H, W]``, so that a flat input is reported rather than read as
``D`` channels of one pixel.

Example::

    {kind: invconv1x1, seed: 1}
"""

from __future__ import annotations

from typing import Literal

from flowspec.core.example import Example
from flowspec.core.node import NodeCheck
from flowspec.core.ports import PortInfo
from flowspec.nodes._checks import check_image
from flowspec.nodes.lu_linear import LULinearSpec

__all__ = ["InvConv1x1Spec"]


class InvConv1x1Spec(LULinearSpec):
    """Invertible 1x1 convolution over the channels of ``[C, H, W]`` (Glow), LU form."""

    kind: Literal["invconv1x1"] = "invconv1x1"  # type: ignore[assignment]
    summary = "Glow invertible 1x1 convolution on [C, H, W], W = P L (U + diag(s))"

    examples = (Example({"seed": 1}, (PortInfo((3, 2, 2)),)),)

    def infer(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None, check: NodeCheck
    ) -> tuple[PortInfo, ...] | None:
        if not check_image(inputs[0], self.kind, check):
            return None
        return super().infer(inputs, context, check)
