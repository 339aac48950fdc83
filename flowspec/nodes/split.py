"""Split along the feature axis into several outputs.

The factor-out step of multi-scale flows (Dinh et al. 2016, RealNVP, arXiv:1605.08803,
section 3.6): part of the features leaves the main chain early, e.g. to be modelled by its
own (possibly conditional) base distribution. Splitting is a bijection between the input
and the tuple of outputs and preserves volume, so its contribution is zero.

Example::

    halves: {kind: split, in: body, sizes: [4, 4]}     # ports halves.out0, halves.out1
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field, PositiveInt

from flowspec.core.example import Example
from flowspec.core.node import NodeCheck, NodeSpec
from flowspec.core.ports import PortInfo
from flowspec.nodes._checks import check_feature_axis

if TYPE_CHECKING:
    from flowspec.layers.split import Split

__all__ = ["SplitSpec"]


class SplitSpec(NodeSpec):
    """Split the feature axis (event axis 0) into consecutive parts of the given sizes."""

    kind: Literal["split"] = "split"
    sizes: list[PositiveInt] = Field(
        description="Sizes of the parts along the feature axis, in order (at least 2; they "
        "must add up to the size of that axis). Output i is port 'out<i>'."
    )
    summary = "split the feature axis into parts out0, out1, ..."
    reference = "Dinh et al. 2016, Density estimation using Real NVP, arXiv:1605.08803"
    contribution = "0"
    volume_preserving = True
    has_parameters = False

    examples = (
        Example({"sizes": [4, 4]}, (PortInfo((8,)),), label="flat"),
        Example({"sizes": [1, 1, 2]}, (PortInfo((4, 1, 2)),), label="image"),
    )

    def output_ports(self) -> tuple[str, ...]:
        return tuple(f"out{i}" for i in range(len(self.sizes)))

    def check_static(self, check: NodeCheck) -> None:
        """A split into fewer than 2 parts is no split."""
        if len(self.sizes) < 2:
            check.error(
                "E450",
                f"split needs at least 2 sizes, got {len(self.sizes)} ({self.sizes})",
                "sizes",
                hint="list the size of every part, e.g. sizes: [4, 4]",
            )

    def infer(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None, check: NodeCheck
    ) -> tuple[PortInfo, ...] | None:
        (x,) = inputs
        if not check_feature_axis(x, self.kind, check):
            return None
        features = x.shape[0]
        if sum(self.sizes) != features:
            check.error(
                "E452",
                f"sizes {self.sizes} add up to {sum(self.sizes)} but the input {x} has "
                f"{features} features along its feature axis",
                "sizes",
                hint=f"make the sizes add up to {features}",
            )
            return None
        return tuple(x.with_shape((size, *x.shape[1:])) for size in self.sizes)

    def build(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> Split:
        from flowspec.layers.split import Split

        return Split(self.sizes)
