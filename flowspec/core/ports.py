"""What flows along an edge: an event shape and the support of the values.

Shapes are event shapes, without the batch axis (``(2,)``, ``(1, 8, 8)``). The support
lets the compiler catch a logit fed with unbounded values, or a Gaussian base asked to
model values confined to ``(0, 1)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

__all__ = ["Support", "PortInfo", "REAL", "numel"]


@dataclass(frozen=True)
class Support:
    """The set values live in: the interval from ``low`` to ``high``, each end open
    unless ``closed_low``/``closed_high`` says it is included (infinite ends are always
    open), the integers ``0 .. levels-1`` when ``levels`` is set, or all integers when
    ``integers`` is set (the latents of integer discrete flows).

    ``partial`` marks values confined somewhere inside the interval without the compiler
    knowing where: bounded data moved by a learned map (a coupling, actnorm), or joined
    with unbounded data by a concat; with ``integers``, K-level values moved by integer
    flows. Such values do not fill the whole real line (or all integers), which is what a
    density on it needs to be normalized over the data's domain.

    ``ordered`` marks values that came out of a ``sort``: each set of N elements arrives in
    one of its N! orderings, so the values fill at most a cone of the space (a Gaussian
    gives it 1/N! of its mass), wherever later layers move them. ``sorted_by`` says that
    the layout is still the sort's own (the rows of ``[N]`` or ``[N, d]`` ascending in
    coordinate ``sorted_by``), which ``ordered_to_real`` needs; any node that moves or
    reshapes the values drops it.

    ``origin`` names the input or node where values with this support came off the whole
    real line (set by the compiler's shape pass; not part of equality): every density fed
    from one origin shares one cause, and is warned about once (W501, W800)."""

    low: float = -math.inf
    high: float = math.inf
    levels: int | None = None
    integers: bool = False
    closed_low: bool = False
    closed_high: bool = False
    partial: bool = False
    origin: str | None = field(default=None, compare=False)
    ordered: bool = False
    sorted_by: int | None = None

    def __post_init__(self) -> None:
        # An infinite end is never included.
        if math.isinf(self.low) and self.closed_low:
            object.__setattr__(self, "closed_low", False)
        if math.isinf(self.high) and self.closed_high:
            object.__setattr__(self, "closed_high", False)
        if self.sorted_by is not None:
            object.__setattr__(self, "ordered", True)

    @property
    def discrete(self) -> bool:
        return self.levels is not None or self.integers

    @property
    def is_real_line(self) -> bool:
        return (
            not self.discrete
            and not self.partial
            and not self.ordered
            and self.low == -math.inf
            and self.high == math.inf
        )

    def within(self, low: float, high: float) -> bool:
        """True when every value of this support lies in the closed interval ``[low, high]``."""
        return low <= self.low and self.high <= high

    def inside(self, domain: Support) -> bool:
        """True when every value of this support lies in ``domain``, minding open ends:
        values in ``[0, 1]`` are not inside ``(0, 1)``."""
        low_ok = domain.low < self.low or (
            domain.low == self.low and (domain.closed_low or not self.closed_low)
        )
        high_ok = self.high < domain.high or (
            self.high == domain.high and (domain.closed_high or not self.closed_high)
        )
        return low_ok and high_ok

    def moved(self) -> Support:
        """Where a learned bijection of the real line sends these values: anywhere on the
        line, but still not filling it unless they did (a bijection maps a part of the
        line onto a part)."""
        return (
            REAL
            if self.is_real_line
            else Support(partial=True, ordered=self.ordered, origin=self.origin)
        )

    def unsorted(self) -> Support:
        """These values without the sort's layout (``sorted_by``): what a node that moves or
        reshapes them passes on (they still fill only a cone: ``ordered`` stays)."""
        return replace(self, sorted_by=None) if self.sorted_by is not None else self

    def interval(self) -> Support:
        """The interval (or level set) alone, without ``partial`` or ``ordered``."""
        return replace(self, partial=False, ordered=False, sorted_by=None)

    def __str__(self) -> str:
        if self.ordered:
            where = "on the real line" if self.interval().is_real_line else f"in {self.interval()}"
            return f"sorted values {where} (one ordering of each set: a cone)"
        if self.integers and self.levels is None:
            if self.partial:
                return "a part of the integers (values with levels moved by integer flows)"
            return "integers"
        if self.levels is not None:
            return f"{{0..{self.levels - 1}}}"
        if self.is_real_line:
            return "real"
        if self.partial and self.low == -math.inf and self.high == math.inf:
            return "a part of the real line (bounded values moved by learned layers)"
        left = "[" if self.closed_low else "("
        right = "]" if self.closed_high else ")"
        return f"{left}{_fmt(self.low)}, {_fmt(self.high)}{right}"


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

    def with_shape(self, shape: tuple[int, ...]) -> PortInfo:
        """The same values in another shape (or a part of them): a sort's layout is gone."""
        return PortInfo(tuple(shape), self.support.unsorted())

    def __str__(self) -> str:
        return f"[{', '.join(map(str, self.shape))}]"


def numel(shape: tuple[int, ...]) -> int:
    return math.prod(shape)
