"""Reshape and flatten the event: change the shape, keep the values.

A pure re-indexing, used between image-shaped layers ([C, H, W]) and flat layers ([D]),
e.g. around the squeeze/factor-out steps of multi-scale flows (Dinh et al. 2016, RealNVP,
arXiv:1605.08803). It is a bijection that preserves volume: contribution zero, and the
support of every value is unchanged.

Examples::

    flat: {kind: flatten, in: image}
    image: {kind: reshape, in: flat, shape: [1, 8, 8]}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

from pydantic import Field

from flowspec.core.example import Example
from flowspec.core.node import MAX_EVENT_NUMEL, NodeCheck, NodeSpec
from flowspec.core.ports import PortInfo, numel

if TYPE_CHECKING:
    from flowspec.layers.reshape import Reshape

__all__ = ["ReshapeSpec", "FlattenSpec"]


class ReshapeSpec(NodeSpec):
    """Reshape the event to ``shape`` (same number of elements, row-major order)."""

    kind: Literal["reshape"] = "reshape"
    shape: list[Annotated[int, Field(gt=0, le=MAX_EVENT_NUMEL)]] = Field(
        min_length=1,
        description="The new event shape, without the batch axis; its number of elements "
        "must equal the input's.",
    )
    summary = "reshape the event (values unchanged)"
    reference = "Dinh et al. 2016, Density estimation using Real NVP, arXiv:1605.08803"
    contribution = "0"
    volume_preserving = True
    has_parameters = False

    examples = (
        Example({"shape": [2, 3]}, (PortInfo((6,)),), label="to a matrix"),
        Example({"shape": [1, 8, 8]}, (PortInfo((64,)),), label="to an image"),
    )

    def infer(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None, check: NodeCheck
    ) -> tuple[PortInfo, ...] | None:
        (x,) = inputs
        shape = tuple(self.shape)
        if numel(shape) != x.numel:
            check.error(
                "E460",
                f"cannot reshape {x} ({x.numel} elements) to "
                f"[{', '.join(map(str, shape))}] ({numel(shape)} elements)",
                "shape",
                hint=f"choose a shape whose sizes multiply to {x.numel}",
            )
            return None
        return (x.with_shape(shape),)

    def build(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> Reshape:
        from flowspec.layers.reshape import Reshape

        return Reshape(inputs[0].shape, tuple(self.shape))


class FlattenSpec(NodeSpec):
    """Flatten the event to one axis ``[numel]``."""

    kind: Literal["flatten"] = "flatten"
    summary = "flatten the event to [numel] (values unchanged)"
    reference = "Dinh et al. 2016, Density estimation using Real NVP, arXiv:1605.08803"
    contribution = "0"
    volume_preserving = True
    has_parameters = False

    examples = (
        Example({}, (PortInfo((2, 3)),), label="matrix"),
        Example({}, (PortInfo((1, 2, 2)),), label="image"),
    )

    def infer(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None, check: NodeCheck
    ) -> tuple[PortInfo, ...] | None:
        (x,) = inputs
        return (x.with_shape((x.numel,)),)

    def build(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> Reshape:
        from flowspec.layers.reshape import Reshape

        return Reshape(inputs[0].shape, (inputs[0].numel,))
