"""Elementwise strictly monotone maps: scale-shift, leaky ReLU, sigmoid, logit, tanh, exp, ...

A scalar map ``f`` applied to every element is a bijection exactly when it is strictly
monotone, and its Jacobian is diagonal, so ``log|det dz/dx| = sum_i log|f'(x_i)|``
(Rezende and Mohamed 2015, arXiv:1505.05770, for the diagonal-Jacobian view; the logit with
``alpha`` is the data preprocessing of Dinh et al. 2016, RealNVP, arXiv:1605.08803, Sec. 4.1).
Each map has a domain and sends the input's support to its image, so the compiler knows,
for instance, that a sigmoid's output lives in ``(0, 1)`` and that a logit needs such values.

Example::

    {kind: elementwise, fn: logit, alpha: 0.05}
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from flowspec.core.node import NodeCheck, NodeSpec
from flowspec.core.ports import PortInfo, Support
from flowspec.core.registry import NOT_INVERTIBLE
from flowspec.diagnostics import did_you_mean
from flowspec.nodes._checks import check_continuous

if TYPE_CHECKING:
    from flowspec.layers.elementwise import Elementwise

__all__ = ["ElementwiseSpec", "FUNCTIONS", "NON_MONOTONE"]


#: The valid ``fn`` names with their domain (the closed hull of the values they accept;
#: endpoints map to +-inf where the map is open there). The logit's domain depends on
#: ``alpha`` and is computed by :meth:`ElementwiseSpec.domain`.
FUNCTIONS: dict[str, tuple[float, float]] = {
    "scale_shift": (-math.inf, math.inf),
    "leaky_relu": (-math.inf, math.inf),
    "sigmoid": (-math.inf, math.inf),
    "logit": (0.0, 1.0),
    "tanh": (-math.inf, math.inf),
    "exp": (-math.inf, math.inf),
    "log": (0.0, math.inf),
    "softplus": (-math.inf, math.inf),
}

#: Names users reach for that are not strictly monotone on the real line, with what to do.
NON_MONOTONE: dict[str, str] = {
    **NOT_INVERTIBLE,
    "relu6": "relu6 is constant below 0 and above 6; use {kind: elementwise, fn: leaky_relu} "
    "or sigmoid/tanh for a bounded output",
    "hardtanh": "hardtanh is constant outside [-1, 1]; use {kind: elementwise, fn: tanh}",
    "sin": "sin is periodic; use a strictly monotone fn such as tanh or leaky_relu",
    "cos": "cos is periodic; use a strictly monotone fn such as tanh or leaky_relu",
    "gelu": "gelu has a minimum near x = -0.75, so two inputs share each value below 0; "
    "use {kind: elementwise, fn: leaky_relu} or softplus",
    "silu": "silu (swish) has a minimum near x = -1.28; use {kind: elementwise, fn: "
    "leaky_relu} or softplus",
    "swish": "swish has a minimum near x = -1.28; use {kind: elementwise, fn: leaky_relu} "
    "or softplus",
    "sign": "sign takes three values only; elementwise maps must be strictly monotone",
    "round": "round is piecewise constant; for discrete data use "
    "{kind: uniform_dequantization} instead",
    "floor": "floor is piecewise constant; for discrete data use "
    "{kind: uniform_dequantization} instead",
}

#: Fields that only some fns use, and the fns that use them.
FN_FIELDS: dict[str, tuple[str, ...]] = {
    "scale": ("scale_shift",),
    "shift": ("scale_shift",),
    "learnable": ("scale_shift",),
    "negative_slope": ("leaky_relu",),
    "alpha": ("logit",),
}


class ElementwiseSpec(NodeSpec):
    """A strictly monotone scalar map applied to every element of the input."""

    kind: Literal["elementwise"] = "elementwise"
    fn: str = Field(
        description="The map: one of " + ", ".join(FUNCTIONS) + ".",
        json_schema_extra={"enum": list(FUNCTIONS)},
    )
    scale: float = Field(default=1.0, description="scale_shift: the (nonzero) scale.")
    shift: float = Field(default=0.0, description="scale_shift: the shift.")
    learnable: bool = Field(
        default=False,
        description="scale_shift: learn the scale (as sign * exp(log_scale), so it keeps its "
        "sign) and the shift, starting from the given values.",
    )
    negative_slope: float = Field(
        default=0.01, description="leaky_relu: the slope for negative inputs (> 0)."
    )
    alpha: float = Field(
        default=0.0,
        description="logit: squeeze the input into [alpha, 1 - alpha] first, "
        "z = logit(alpha + (1 - 2 alpha) x), with 0 <= alpha < 0.5 (RealNVP preprocessing).",
    )

    summary = "strictly monotone elementwise map (scale_shift, leaky_relu, sigmoid, logit, ...)"
    reference = (
        "Dinh et al. 2016, Density estimation using Real NVP, arXiv:1605.08803 (logit "
        "preprocessing); Rezende and Mohamed 2015, arXiv:1505.05770"
    )
    contribution = "sum log|f'(x)|"

    def describe(self) -> dict[str, Any]:
        """Only the fields the chosen fn uses, for tables and drawings."""
        settings = super().describe()
        return {
            name: value
            for name, value in settings.items()
            if name not in FN_FIELDS or self.fn in FN_FIELDS[name]
        }

    def domain(self) -> Support:
        """The values the map accepts: an end where the map is infinite (0 for log, the
        ends of the logit's) is open, so inputs declared in the closed [0, 1] do not fit
        a logit without ``alpha``."""
        if self.fn == "logit":
            width = 1.0 - 2.0 * self.alpha
            low, high = -self.alpha / width, (1.0 - self.alpha) / width
        else:
            low, high = FUNCTIONS[self.fn]
        return Support(
            low,
            high,
            closed_low=math.isfinite(self.scalar_map(low)),
            closed_high=math.isfinite(self.scalar_map(high)),
        )

    def scalar_map(self, v: float) -> float:
        """The map at one float (+-inf allowed), used to carry support endpoints through
        it; plain Python, so that checking a spec needs no torch."""
        if self.fn == "scale_shift":
            return self.scale * v + self.shift
        if self.fn == "leaky_relu":
            return v if v >= 0 else self.negative_slope * v
        if self.fn == "logit":
            u = self.alpha + (1.0 - 2.0 * self.alpha) * v
            return -math.inf if u <= 0.0 else math.inf if u >= 1.0 else math.log(u / (1.0 - u))
        if self.fn == "sigmoid":
            return 1.0 / (1.0 + math.exp(-v)) if v >= 0 else math.exp(v) / (1.0 + math.exp(v))
        if self.fn == "tanh":
            return math.tanh(v)
        if self.fn == "exp":
            return math.exp(v) if v < 710.0 else math.inf
        if self.fn == "log":
            return math.log(v) if v > 0.0 else -math.inf
        # softplus, linear above 20 as torch's
        return v if v > 20.0 else math.log1p(math.exp(v))

    def image(self, support: Support) -> Support:
        """Where the map sends the interval ``support`` (monotone: map the endpoints)."""
        if self.fn == "scale_shift" and self.learnable:
            return support.moved()  # the learned scale and shift can move it anywhere
        ends = [
            (self.scalar_map(support.low), support.closed_low),
            (self.scalar_map(support.high), support.closed_high),
        ]
        (low, closed_low), (high, closed_high) = sorted(ends, key=lambda end: end[0])
        return Support(
            low,
            high,
            closed_low=closed_low and math.isfinite(low),
            closed_high=closed_high and math.isfinite(high),
            partial=support.partial,
        )

    def _check_fn(self, check: NodeCheck) -> bool:
        if self.fn in FUNCTIONS:
            return True
        name = self.fn.strip().lower()
        if name in NON_MONOTONE:
            check.error(
                "E421",
                f"fn '{self.fn}' is not strictly monotone, so it is not invertible",
                "fn",
                hint=NON_MONOTONE[name],
            )
        else:
            suggestion = did_you_mean(self.fn, FUNCTIONS)
            check.error(
                "E420",
                f"unknown elementwise fn '{self.fn}'; expected one of {', '.join(FUNCTIONS)}",
                "fn",
                hint=suggestion,
            )
        return False

    def _check_fields(self, check: NodeCheck) -> None:
        for name, users in FN_FIELDS.items():
            if name in self.model_fields_set and self.fn not in users:
                check.warning(
                    "W420",
                    f"field '{name}' is ignored by fn '{self.fn}' (only {', '.join(users)} "
                    "uses it)",
                    name,
                    hint=f"remove '{name}'",
                )
        if self.fn == "scale_shift" and self.scale == 0.0:
            check.error(
                "E423",
                f"scale_shift needs a nonzero scale, got {self.scale} (a zero scale maps "
                "everything to the shift and cannot be inverted)",
                "scale",
                hint="use a nonzero scale, e.g. 1.0",
            )
        if self.fn == "leaky_relu" and not (self.negative_slope > 0.0):
            check.error(
                "E424",
                f"leaky_relu needs negative_slope > 0, got {self.negative_slope} "
                "(slope 0 is relu, which is not invertible; a negative slope is not monotone)",
                "negative_slope",
                hint="use a small positive slope such as 0.01",
            )
        if self.fn == "logit" and not (0.0 <= self.alpha < 0.5):
            check.error(
                "E425",
                f"logit needs 0 <= alpha < 0.5, got {self.alpha}",
                "alpha",
                hint="alpha squeezes [0, 1] into [alpha, 1 - alpha]; 0.05 is usual for images",
            )

    def check_static(self, check: NodeCheck) -> None:
        """The fn must be a known strictly monotone map, and its settings valid for it."""
        if self._check_fn(check):
            self._check_fields(check)

    def infer(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None, check: NodeCheck
    ) -> tuple[PortInfo, ...] | None:
        (x,) = inputs
        if not check_continuous(x, f"elementwise fn '{self.fn}'", check):
            return None
        required = self.domain()
        if not x.support.inside(required):
            if self.fn == "logit":
                before = "{kind: elementwise, fn: sigmoid} (or data scaled to [0, 1])"
            else:
                before = "{kind: elementwise, fn: exp} or softplus"
            hint = f"put a map onto {required} before it, e.g. {before}"
            if x.support.within(required.low, required.high):  # only an included end fails
                fix = "set alpha, e.g. 0.05, " if self.fn == "logit" else ""
                hint = (
                    f"an input exactly at an end of {x.support} maps to an infinite value "
                    f"(log_prob = nan): {fix}or declare the input with 'bounds: open' if "
                    "its values never reach the ends"
                )
            check.error(
                "E422",
                f"fn '{self.fn}' needs inputs in {required}, but its input lives in "
                f"{x.support}",
                "in",
                hint=hint,
            )
            return None
        return (PortInfo(x.shape, self.image(x.support)),)

    def parameter_count(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> int:
        """A learnable scale_shift learns its log-scale and its shift; no other fn learns."""
        return 2 if self.fn == "scale_shift" and self.learnable else 0

    def build(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> Elementwise:
        from flowspec.layers.elementwise import (
            Exp,
            LeakyReLU,
            Log,
            Logit,
            ScaleShift,
            Sigmoid,
            Softplus,
            Tanh,
        )

        if self.fn == "scale_shift":
            return ScaleShift(self.scale, self.shift, self.learnable)
        if self.fn == "leaky_relu":
            return LeakyReLU(self.negative_slope)
        if self.fn == "logit":
            return Logit(self.alpha)
        return {"sigmoid": Sigmoid, "tanh": Tanh, "exp": Exp, "log": Log, "softplus": Softplus}[
            self.fn
        ]()


