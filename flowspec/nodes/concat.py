"""Concatenate several inputs along the feature axis.

The inverse of ``split`` (Dinh et al. 2016, RealNVP, arXiv:1605.08803, multi-scale
architecture): it joins parts back into one tensor. Concatenation is a bijection between
the tuple of inputs and the output and preserves volume, so its contribution is zero.

Example::

    joined: {kind: concat, in: [halves.out0, other]}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from flowspec.core.example import Example
from flowspec.core.node import NodeCheck, NodeSpec
from flowspec.core.ports import PortInfo, Support

if TYPE_CHECKING:
    from flowspec.layers.concat import Concat

__all__ = ["ConcatSpec", "union_support"]


def union_support(supports: list[Support]) -> Support | None:
    """The smallest support of this module's kinds that holds every given support.

    Discrete supports ``{0..K_i-1}`` join to ``{0..max K_i - 1}`` (the concat node refuses
    different numbers of levels, E461: the fewer-level values would not fill the result);
    with unbounded integers, to the integers, ``partial`` since values with levels do not
    fill them.
    Continuous supports join to their interval hull ``[min low, max high]``, which may
    contain values no input takes (the hull of (0, 1) and (2, 3) is (0, 3)): the compiler
    only uses supports to check domains, for which a hull is a safe over-approximation,
    and marks the hull ``partial`` when some input does not fill it (so a density on the
    real line still warns about bounded inputs joined with unbounded ones).
    A mix of discrete and continuous supports has no useful common support (no density
    describes it), so the answer is None and the caller reports it.
    """
    if all(s.discrete for s in supports):
        if any(s.levels is None for s in supports):  # unbounded integers (IDF latents)
            # Values with levels, or moved ones, do not fill the integers.
            return Support(
                integers=True, partial=any(s.partial or s.levels is not None for s in supports)
            )
        return Support(levels=max(s.levels for s in supports if s.levels is not None))
    if any(s.discrete for s in supports):
        return None
    low = min(s.low for s in supports)
    high = max(s.high for s in supports)
    return Support(
        low,
        high,
        closed_low=any(s.closed_low for s in supports if s.low == low),
        closed_high=any(s.closed_high for s in supports if s.high == high),
        partial=any(s.partial or (s.low, s.high) != (low, high) for s in supports),
        ordered=any(s.ordered for s in supports),
    )


class ConcatSpec(NodeSpec):
    """Concatenate two or more inputs along the feature axis (event axis 0)."""

    kind: Literal["concat"] = "concat"
    summary = "concatenate inputs along the feature axis"
    reference = "Dinh et al. 2016, Density estimation using Real NVP, arXiv:1605.08803"
    contribution = "0"
    volume_preserving = True
    has_parameters = False

    examples = (
        Example({}, (PortInfo((2,)), PortInfo((3,))), label="flat"),
        Example({}, (PortInfo((1, 2, 2)), PortInfo((2, 2, 2)), PortInfo((1, 2, 2))), label="image"),
    )

    def input_ports(self) -> tuple[str, ...]:
        """One port per listed input; without 'in' (as inside a block), the two a concat
        needs at least, so that it is not taken for a one-input chain link."""
        if self.in_ is None:
            count = 2
        else:
            count = len(self.in_) if isinstance(self.in_, list) else 1
        return tuple(f"in{i}" for i in range(count))

    def _input_path(self, i: int) -> tuple[str | int, ...]:
        return ("in", i) if isinstance(self.in_, list) else ("in",)

    def check_static(self, check: NodeCheck) -> None:
        """Joining fewer than 2 inputs is no concatenation (a missing or empty 'in' is
        reported where references are resolved)."""
        if self.in_ and len(self.input_ports()) < 2:
            check.error(
                "E455",
                f"concat needs at least 2 inputs, got {len(self.input_ports())}",
                "in",
                hint="list the inputs to join, e.g. in: [a, b]",
            )

    def infer(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None, check: NodeCheck
    ) -> tuple[PortInfo, ...] | None:
        ok = True
        first = inputs[0]
        if len(first.shape) == 0:
            check.error(
                "E411",
                "concat needs inputs with a feature axis, got a scalar event []",
                *self._input_path(0),
                hint="give the inputs a shape such as [D]",
            )
            return None
        for i, x in enumerate(inputs[1:], start=1):
            if len(x.shape) != len(first.shape):
                check.error(
                    "E457",
                    f"concat inputs must have the same rank: input 0 is {first} "
                    f"(rank {len(first.shape)}) but input {i} is {x} (rank {len(x.shape)})",
                    *self._input_path(i),
                    hint="reshape or flatten the inputs to the same rank first",
                )
                ok = False
            elif x.shape[1:] != first.shape[1:]:
                shapes = ", ".join(str(info) for info in inputs)
                check.error(
                    "E458",
                    f"concat inputs must agree on every axis but the feature axis (axis 0): "
                    f"input 0 is {first} but input {i} is {x} (inputs: {shapes})",
                    *self._input_path(i),
                    hint="only the first entry of the shapes may differ",
                )
                ok = False
        if not ok:
            return None
        levels = sorted({x.support.levels for x in inputs if x.support.levels is not None})
        if len(levels) > 1:
            found = ", ".join(f"input {i}: {x.support}" for i, x in enumerate(inputs))
            check.error(
                "E461",
                f"concat cannot join values with different numbers of levels ({found}): the "
                f"result would be taken for {levels[-1]}-level values throughout, so the "
                "model would give mass to values the inputs with fewer levels never take",
                "in",
                hint="model the inputs separately (a base distribution each), or dequantize "
                "each input ({kind: uniform_dequantization}) and join the continuous values",
            )
            return None
        support = union_support([x.support for x in inputs])
        if support is None:
            found = ", ".join(f"input {i}: {x.support}" for i, x in enumerate(inputs))
            check.error(
                "E459",
                f"concat cannot join discrete and continuous inputs ({found})",
                "in",
                hint="add {kind: uniform_dequantization} after the discrete inputs",
            )
            return None
        features = sum(x.shape[0] for x in inputs)
        return (PortInfo((features, *first.shape[1:]), support),)

    def build(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> Concat:
        from flowspec.layers.concat import Concat

        return Concat([x.shape[0] for x in inputs])
