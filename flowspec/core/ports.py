"""What flows along an edge: an event shape and the support of the values.

Shapes are event shapes, without the batch axis (``(2,)``, ``(1, 8, 8)``). The support
lets the compiler catch a logit fed with unbounded values, or a Gaussian base asked to
model values confined to ``(0, 1)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["Support", "PortInfo", "REAL", "numel"]


@dataclass(frozen=True)
class Support:
    """The set values live in: the interval ``[low, high]`` (open ends when infinite),
    the integers ``0 .. levels-1`` when ``levels`` is set, or all integers when
    ``integers`` is set (the latents of integer discrete flows)."""

    low: float = -math.inf
    high: float = math.inf
    levels: int | None = None
    integers: bool = False

    @property
    def discrete(self) -> bool:
        return self.levels is not None or self.integers

    @property
    def is_real_line(self) -> bool:
        return not self.discrete and self.low == -math.inf and self.high == math.inf

    def within(self, low: float, high: float) -> bool:
        """True when every value of this support lies in ``[low, high]``."""
        return low <= self.low and self.high <= high

    def __str__(self) -> str:
        if self.integers and self.levels is None:
            return "integers"
        if self.discrete:
            return f"{{0..{self.levels - 1}}}"
        if self.is_real_line:
            return "real"
        return f"({_fmt(self.low)}, {_fmt(self.high)})"


def _fmt(value: float) -> str:
    if math.isinf(value):
        return "-inf" if value < 0 else "inf"
    return f"{value + 0.0:g}"  # + 0.0 turns -0.0 into 0.0


REAL = Support()


@dataclass(frozen=True)
class PortInfo:
    """Everything the compiler knows about the tensor on one edge."""

    shape: tuple[int, ...]
    support: Support = REAL

    @property
    def numel(self) -> int:
        return numel(self.shape)

    def with_shape(self, shape: tuple[int, ...]) -> "PortInfo":
        return PortInfo(tuple(shape), self.support)

    def __str__(self) -> str:
        return f"[{', '.join(map(str, self.shape))}]"


def numel(shape: tuple[int, ...]) -> int:
    return math.prod(shape)
