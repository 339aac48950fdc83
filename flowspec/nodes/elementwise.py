"""Elementwise maps: a fixed strictly monotone ``fn`` (scale_shift, leaky_relu, sigmoid,
logit, tanh, exp, log, softplus), or any ``transformer`` with parameters learned per feature.

A scalar map applied to every element is a bijection exactly when it is strictly monotone,
and its Jacobian is diagonal, so ``log|det dz/dx| = sum_i log|f'(x_i)|`` (Rezende and
Mohamed 2015, arXiv:1505.05770, for the diagonal-Jacobian view; the logit with ``alpha`` is
the data preprocessing of Dinh et al. 2016, RealNVP, arXiv:1605.08803, Sec. 4.1). The maths,
domains and images live in the transformers (:mod:`flowspec.transformers`): ``fn: logit``
is the ``logit`` transformer with the node's ``alpha``, so the compiler knows, for instance,
that a sigmoid's output lives in ``(0, 1)`` and that a logit needs such values, and a
coupling with ``transformer: {kind: logit}`` is checked the same way.

With ``transformer:`` instead of ``fn:``, the node learns that transformer's parameters
freely, one set per feature and unconditioned (zuko's unconditional transforms, e.g. a
learned spline per feature before the couplings; Durkan et al. 2019, arXiv:1906.04032).
They start at zero, the identity for affine, additive and rq_spline.

Example::

    - {kind: elementwise, fn: logit, alpha: 0.05}
    - {kind: elementwise, transformer: {kind: rq_spline, bins: 8, bound: 3.0}}
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field

from flowspec.core.example import Example
from flowspec.core.node import NodeCheck, NodeSpec
from flowspec.core.ports import PortInfo, Support, numel
from flowspec.core.properties import Cost, Costs
from flowspec.core.registry import NOT_INVERTIBLE, transformer_kinds
from flowspec.diagnostics import did_you_mean
from flowspec.nodes._checks import check_continuous
from flowspec.transformers._monotone import MonotoneMapSpec
from flowspec.transformers.base import TransformerSpec
from flowspec.transformers.choice import TransformerChoice

if TYPE_CHECKING:
    from flowspec.layers.elementwise import Elementwise

__all__ = ["ElementwiseSpec", "FUNCTIONS", "NON_MONOTONE"]


#: The valid ``fn`` names: the fixed monotone transformers, by kind.
FUNCTIONS: dict[str, type[MonotoneMapSpec]] = {
    name: cls for name, cls in transformer_kinds().items() if issubclass(cls, MonotoneMapSpec)
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


def _fn_setting(fn: str, name: str) -> Any:
    """The node's field for a setting of fn ``fn``: the transformer's default and text."""
    field = FUNCTIONS[fn].model_fields[name]
    text = field.description or ""
    return Field(default=field.default, description=f"{fn}: {text[:1].lower()}{text[1:]}")


class ElementwiseSpec(NodeSpec):
    """A fixed strictly monotone map, or a transformer with learned per-feature parameters,
    applied to every element of the input."""

    kind: Literal["elementwise"] = "elementwise"
    fn: str | None = Field(
        default=None,
        description="A fixed map: one of " + ", ".join(FUNCTIONS) + " (or give transformer).",
        json_schema_extra={"enum": list(FUNCTIONS)},
    )
    transformer: TransformerChoice | None = Field(
        default=None,
        description="Instead of fn: any transformer, its parameters learned freely per feature "
        "(no conditioner), starting at the identity where the transformer allows, e.g. "
        "{kind: rq_spline, bins: 8, bound: 3.0}.",
    )
    scale: float = _fn_setting("scale_shift", "scale")
    shift: float = _fn_setting("scale_shift", "shift")
    learnable: bool = _fn_setting("scale_shift", "learnable")
    negative_slope: float = _fn_setting("leaky_relu", "negative_slope")
    alpha: float = _fn_setting("logit", "alpha")

    summary = (
        "strictly monotone elementwise map: a fixed fn (scale_shift, logit, ...) or a "
        "transformer learned per feature"
    )
    reference = (
        "Dinh et al. 2016, Density estimation using Real NVP, arXiv:1605.08803 (logit "
        "preprocessing); Rezende and Mohamed 2015, arXiv:1505.05770"
    )
    contribution = "sum log|f'(x)|"

    has_parameters = True  # a learnable scale_shift's, or a transformer's per feature
    examples = (
        Example(
            {"fn": "logit", "alpha": 0.05},
            (PortInfo((3,), Support(0.0, 1.0, closed_low=True, closed_high=True)),),
            label="fn",
        ),
        Example(
            {"fn": "scale_shift", "scale": -2.0, "shift": 0.5, "learnable": True},
            (PortInfo((2, 2)),),
            label="learnable fn",
        ),
        Example(
            {"transformer": {"kind": "rq_spline", "bins": 4, "bound": 3.0}},
            (PortInfo((1, 2, 2)),),
            label="transformer",
        ),
    )

    @staticmethod
    def fn_fields() -> dict[str, tuple[str, ...]]:
        """The node's fields that only some fns use, and the fns that use them (each fixed
        map's own settings)."""
        users: dict[str, tuple[str, ...]] = {}
        for name, cls in FUNCTIONS.items():
            for field in cls.model_fields:
                if field != "kind":
                    users[field] = (*users.get(field, ()), name)
        return users

    def map(self) -> TransformerSpec:
        """The transformer this node applies: ``transformer``, or the fixed map ``fn`` with
        the node's settings for it (``fn`` must be valid: see :meth:`check_static`)."""
        if self.transformer is not None:
            return self.transformer
        assert self.fn is not None, "check_static requires fn or transformer"
        cls = FUNCTIONS[self.fn]
        return cls(**{name: getattr(self, name) for name in cls.model_fields if name != "kind"})

    def _subject(self) -> str:
        return (
            f"fn '{self.fn}'"
            if self.transformer is None
            else (f"transformer '{self.transformer.kind}'")
        )

    def describe(self) -> dict[str, Any]:
        """Only the fields the chosen map uses, for tables and drawings."""
        if self.transformer is not None:
            return {"transformer": self.transformer.describe()}
        settings = super().describe()
        fields = self.fn_fields()
        return {
            name: value
            for name, value in settings.items()
            if name != "transformer" and (name not in fields or self.fn in fields[name])
        }

    def preserves_volume(self) -> bool:
        # No fixed map preserves volume (a scale_shift's log|scale| may be 0, but not always).
        return self.transformer is not None and self.transformer.volume_preserving

    def rebuild_error(self, inputs: tuple[PortInfo, ...]) -> float:
        return self.map().rebuild_error(inputs[0].support)

    def costs(self) -> Costs:
        # The density applies the map; generation inverts it: analytic for every fixed map,
        # by bisection for some transformers.
        inverse = Cost.ONE_PASS if self.transformer is None else self.transformer.inverse_cost
        return Costs(Cost.ONE_PASS, max(Cost.ONE_PASS, inverse))

    def _check_fn(self, check: NodeCheck) -> bool:
        assert self.fn is not None, "check_static requires fn or transformer"
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
        for name, users in self.fn_fields().items():
            if name not in self.model_fields_set:
                continue
            if self.transformer is not None:
                inside = name in type(self.transformer).model_fields
                check.warning(
                    "W430",
                    f"field '{name}' is ignored next to transformer: (it sets fn "
                    f"{', '.join(users)})",
                    name,
                    hint=f"move it into the transformer: transformer: {{kind: "
                    f"{self.transformer.kind}, {name}: ...}}"
                    if inside
                    else f"remove '{name}'",
                )
            elif self.fn not in users:
                check.warning(
                    "W420",
                    f"field '{name}' is ignored by fn '{self.fn}' (only {', '.join(users)} "
                    "uses it)",
                    name,
                    hint=f"remove '{name}'",
                )

    def check_static(self, check: NodeCheck) -> None:
        """Exactly one of fn (a known strictly monotone map) and transformer, and valid
        settings for it."""
        if self.fn is not None and self.transformer is not None:
            check.error(
                "E611",
                "give either fn (a fixed map) or transformer (learned per feature), not both",
                "transformer",
                hint=f"remove fn, or use transformer: {{kind: {self.fn}}}",
            )
            return
        if self.fn is None and self.transformer is None:
            check.error(
                "E103",
                "elementwise needs fn (a fixed map) or transformer (learned per feature)",
                "fn",
                hint=f"e.g. fn: tanh (one of {', '.join(FUNCTIONS)}), or "
                "transformer: {kind: rq_spline, bins: 8}",
            )
            return
        if self.transformer is not None:
            self._check_fields(check)
            self.transformer.check_static(check, "transformer")
        elif self._check_fn(check):
            self._check_fields(check)
            self.map().check_static(check)

    def infer(
        self, inputs: tuple[PortInfo, ...], context: PortInfo | None, check: NodeCheck
    ) -> tuple[PortInfo, ...] | None:
        (x,) = inputs
        subject = self._subject()
        if not check_continuous(x, f"elementwise {subject}", check):
            return None
        transformer = self.map()
        if not transformer.check_domain(x.support, check, "E422", subject, "in"):
            return None
        return (PortInfo(x.shape, transformer.output_support(x.support)),)

    def parameter_count(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> int:
        """The transformer's own parameters (a learnable scale_shift's two), plus, with
        ``transformer:``, its parameters per feature for every feature."""
        transformer = self.map()  # a fixed fn has no parameters per feature
        return transformer.parameter_count() + numel(inputs[0].shape) * (
            transformer.params_per_feature()
        )

    def build(self, inputs: tuple[PortInfo, ...], context: PortInfo | None) -> Elementwise:
        from flowspec.layers.elementwise import Elementwise

        transformer = self.map()
        return Elementwise(
            transformer.build(), list(inputs[0].shape), transformer.params_per_feature()
        )
