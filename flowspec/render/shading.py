"""Boxes coloured by each node's mean term of ``log p(x)`` (``flowspec render --weights``).

The SurVAE decomposition (Nielsen et al. 2020, arXiv:2007.02731) gives one term per node;
:mod:`flowspec.train.by_node` measures them on data and this module turns them into fills
on a diverging scale: blue where a node raises the likelihood, red where it lowers it,
white at zero, the strongest term at full colour (linear in nats, so colours compare as the
numbers do). A folded box (one position of a repeated block) shows the sum over its
repetitions. Torch-free: it takes plain numbers.

Example::

    >>> shade = Shading({"a": 1.0, "b": -2.0}, dims=2)
    >>> shade.fill(["b"]), shade.fill(["a"]), shade.fill([])
    ('#d6604d', '#a1c9e1', '#ffffff')
    >>> shade.text(["a"])
    '+1.0000 nats (+0.7213 bits/dim)'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["Shading", "UNITS"]

#: What a shaded box's number is.
UNITS = "mean term of log p(x), nats per example (bits/dim = nats / (D ln 2))"
_WHITE = (255, 255, 255)
_RAISES = (67, 147, 195)  # ColorBrewer RdBu blue
_LOWERS = (214, 96, 77)  # ColorBrewer RdBu red


def _mix(colour: tuple[int, int, int], weight: float) -> str:
    channels = (round(w + (c - w) * weight) for w, c in zip(_WHITE, colour, strict=True))
    return "#" + "".join(f"{channel:02x}" for channel in channels)


@dataclass(frozen=True)
class Shading:
    """Each node's mean term in nats per example, on data of ``dims`` values per example."""

    terms: dict[str, float]
    dims: int

    @property
    def scale(self) -> float:
        """The largest magnitude: full colour."""
        return max((abs(v) for v in self.terms.values()), default=0.0) or 1.0

    def value(self, nodes: Sequence[str]) -> float:
        """The summed term of ``nodes`` (a folded box's repetitions)."""
        return sum(self.terms.get(node, 0.0) for node in nodes)

    def colour(self, value: float) -> str:
        weight = min(abs(value) / self.scale, 1.0)
        return _mix(_RAISES if value >= 0 else _LOWERS, weight)

    def fill(self, nodes: Sequence[str]) -> str:
        return self.colour(self.value(nodes))

    def bits(self, nats: float) -> float:
        return nats / (self.dims * math.log(2.0))

    def text(self, nodes: Sequence[str]) -> str:
        """The box's figure with its units, summed over repetitions when folded."""
        value = self.value(nodes)
        summed = f" in all {len(nodes)}" if len(nodes) > 1 else ""
        return f"{value:+.4f} nats{summed} ({self.bits(value):+.4f} bits/dim)"

    def ticks(self) -> list[tuple[float, str]]:
        """The legend's swatches: -scale, -scale/2, 0, scale/2, scale, with their colours."""
        return [(f * self.scale, self.colour(f * self.scale)) for f in (-1, -0.5, 0, 0.5, 1)]
