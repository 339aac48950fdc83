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
from typing import Any, Callable, ClassVar, Literal

import torch
import torch.nn.functional as F
from pydantic import Field
from torch import nn

from flowspec.core.layer import FlowLayer
from flowspec.core.node import NodeCheck, NodeSpec
from flowspec.core.ports import REAL, PortInfo, Support
from flowspec.core.registry import NOT_INVERTIBLE
from flowspec.diagnostics import did_you_mean
from flowspec.nodes._checks import check_continuous

__all__ = [
    "ElementwiseSpec",
    "Elementwise",
    "ScaleShift",
    "LeakyReLU",
    "Sigmoid",
    "Logit",
    "Tanh",
    "Exp",
    "Log",
    "Softplus",
    "FUNCTIONS",
    "NON_MONOTONE",
]

LOG2 = math.log(2.0)

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

    def domain(self) -> tuple[float, float]:
        """The values the map accepts, as a closed interval."""
        if self.fn == "logit":
            width = 1.0 - 2.0 * self.alpha
            return (-self.alpha / width, (1.0 - self.alpha) / width)
        return FUNCTIONS[self.fn]

    def scalar_map(self) -> Callable[[torch.Tensor], torch.Tensor]:
        """The map on float64 tensors, used to carry support endpoints through it."""
        if self.fn == "scale_shift":
            return lambda v: self.scale * v + self.shift
        if self.fn == "leaky_relu":
            return lambda v: F.leaky_relu(v, self.negative_slope)
        if self.fn == "logit":
            return lambda v: torch.logit(self.alpha + (1.0 - 2.0 * self.alpha) * v)
        return {
            "sigmoid": torch.sigmoid,
            "tanh": torch.tanh,
            "exp": torch.exp,
            "log": torch.log,
            "softplus": F.softplus,
        }[self.fn]

    def image(self, support: Support) -> Support:
        """Where the map sends the interval ``support`` (monotone: map the endpoints)."""
        if self.fn == "scale_shift" and self.learnable and not support.is_real_line:
            return REAL  # the learned scale and shift can move the interval anywhere
        ends = self.scalar_map()(torch.tensor([support.low, support.high], dtype=torch.float64))
        low, high = sorted(float(v) for v in ends)
        return Support(low, high)

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
        low, high = self.domain()
        if not x.support.within(low, high):
            required = Support(low, high)
            if self.fn == "logit":
                before = "{kind: elementwise, fn: sigmoid} (or data scaled to [0, 1])"
            else:
                before = "{kind: elementwise, fn: exp} or softplus"
            check.error(
                "E422",
                f"fn '{self.fn}' needs inputs in {required}, but its input lives in "
                f"{x.support}",
                "in",
                hint=f"put a map onto {required} before it, e.g. {before}",
            )
            return None
        return (PortInfo(x.shape, self.image(x.support)),)

    def build(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> Elementwise:
        if self.fn == "scale_shift":
            return ScaleShift(self.scale, self.shift, self.learnable)
        if self.fn == "leaky_relu":
            return LeakyReLU(self.negative_slope)
        if self.fn == "logit":
            return Logit(self.alpha)
        return {"sigmoid": Sigmoid, "tanh": Tanh, "exp": Exp, "log": Log, "softplus": Softplus}[
            self.fn
        ]()


class Elementwise(FlowLayer):
    """Base of the elementwise maps: subclasses give the map with its log-derivative per
    element, and the inverse map; the contribution sums the log-derivatives per sample."""

    fn: ClassVar[str] = ""

    def transform(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(f(x), log|f'(x)|)`` elementwise."""
        raise NotImplementedError

    def untransform(self, z: torch.Tensor) -> torch.Tensor:
        """``f^-1(z)`` elementwise."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor, context: torch.Tensor | None = None):
        z, log_derivative = self.transform(x)
        return z, log_derivative.reshape(x.shape[0], -1).sum(1)

    def inverse(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        return self.untransform(z)

    def extra_repr(self) -> str:
        return f"fn={self.fn}"


class ScaleShift(Elementwise):
    """``z = scale * x + shift``; when learnable, ``scale = sign * exp(log_scale)``."""

    fn = "scale_shift"

    def __init__(self, scale: float, shift: float, learnable: bool = False):
        super().__init__()
        log_scale = torch.tensor(math.log(abs(scale)))
        shift_t = torch.tensor(float(shift))
        # The sign, and the values when not learnable, come from the spec: not saved.
        self.register_buffer("sign", torch.tensor(math.copysign(1.0, scale)), persistent=False)
        if learnable:
            self.log_scale = nn.Parameter(log_scale)
            self.shift = nn.Parameter(shift_t)
        else:
            self.register_buffer("log_scale", log_scale, persistent=False)
            self.register_buffer("shift", shift_t, persistent=False)

    def transform(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.sign * torch.exp(self.log_scale) * x + self.shift
        return z, self.log_scale.expand_as(x)

    def untransform(self, z: torch.Tensor) -> torch.Tensor:
        return (z - self.shift) * torch.exp(-self.log_scale) * self.sign


class LeakyReLU(Elementwise):
    """``z = x`` for ``x >= 0`` and ``negative_slope * x`` below."""

    fn = "leaky_relu"

    def __init__(self, negative_slope: float):
        super().__init__()
        self.negative_slope = float(negative_slope)
        self.log_slope = math.log(self.negative_slope)

    def transform(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        positive = x >= 0
        z = torch.where(positive, x, x * self.negative_slope)
        log_slope = torch.full_like(x, self.log_slope)
        return z, torch.where(positive, torch.zeros_like(x), log_slope)

    def untransform(self, z: torch.Tensor) -> torch.Tensor:
        return torch.where(z >= 0, z, z / self.negative_slope)


class Sigmoid(Elementwise):
    """``z = 1 / (1 + exp(-x))``, real -> (0, 1).

    ``log sigmoid'(x) = -softplus(-x) - softplus(x)``, stable for large ``|x|``."""

    fn = "sigmoid"

    def transform(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.sigmoid(x), -F.softplus(-x) - F.softplus(x)

    def untransform(self, z: torch.Tensor) -> torch.Tensor:
        return torch.logit(z)


class Logit(Elementwise):
    """``z = logit(alpha + (1 - 2 alpha) x)``, [0, 1] -> real (RealNVP, Sec. 4.1).

    With ``u = alpha + (1 - 2 alpha) x``, ``dz/dx = (1 - 2 alpha) / (u (1 - u))`` and
    ``-log u = softplus(-z)``, ``-log(1 - u) = softplus(z)``.
    """

    fn = "logit"

    def __init__(self, alpha: float = 0.0):
        super().__init__()
        self.alpha = float(alpha)
        self.width = 1.0 - 2.0 * self.alpha
        self.log_width = math.log(self.width)

    def transform(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        u = self.alpha + self.width * x
        z = torch.log(u) - torch.log1p(-u)
        return z, self.log_width + F.softplus(-z) + F.softplus(z)

    def untransform(self, z: torch.Tensor) -> torch.Tensor:
        return (torch.sigmoid(z) - self.alpha) / self.width


class Tanh(Elementwise):
    """``z = tanh(x)``, real -> (-1, 1); ``log(1 - tanh^2 x) = 2 (log 2 - x - softplus(-2x))``."""

    fn = "tanh"

    def transform(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.tanh(x), 2.0 * (LOG2 - x - F.softplus(-2.0 * x))

    def untransform(self, z: torch.Tensor) -> torch.Tensor:
        return torch.atanh(z)


class Exp(Elementwise):
    """``z = exp(x)``, real -> (0, inf); ``log exp'(x) = x``."""

    fn = "exp"

    def transform(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.exp(x), x

    def untransform(self, z: torch.Tensor) -> torch.Tensor:
        return torch.log(z)


class Log(Elementwise):
    """``z = log(x)``, (0, inf) -> real; ``log log'(x) = -log x = -z``."""

    fn = "log"

    def transform(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = torch.log(x)
        return z, -z

    def untransform(self, z: torch.Tensor) -> torch.Tensor:
        return torch.exp(z)


class Softplus(Elementwise):
    """``z = log(1 + exp(x))``, real -> (0, inf); ``log softplus'(x) = -softplus(-x)``."""

    fn = "softplus"

    def transform(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return F.softplus(x), -F.softplus(-x)

    def untransform(self, z: torch.Tensor) -> torch.Tensor:
        # x = log(exp(z) - 1) = z + log(1 - exp(-z))
        return z + torch.log(-torch.expm1(-z))
