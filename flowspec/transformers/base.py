"""The base of elementwise transformer specs.

The lecture splits a coupling or autoregressive layer into an elementwise *transformer*
``z_i = tau(x_i; theta_i)`` (strictly monotone in ``x_i``) and a *conditioner* that computes
``theta_i`` from the features ``x_i`` may depend on (Papamakarios et al. 2021, "Normalizing
Flows for Probabilistic Modeling and Inference", JMLR, arXiv:1912.02762, section 3.1).
A transformer spec says how many parameters it takes per feature, which values it accepts,
and how its inverse is computed; its torch module (same file name under
``flowspec/layers/transformers``) computes the map, its inverse and its log-derivative.

Subclasses declare ``kind: Literal["name"] = "name"``; they are found by
:func:`flowspec.core.registry.transformer_kinds`, so adding one is adding two files.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import TYPE_CHECKING, Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from flowspec.core.example import Example
from flowspec.core.ports import REAL, Support
from flowspec.core.properties import Cost

if TYPE_CHECKING:
    from flowspec.core.node import NodeCheck
    from flowspec.layers.transformers.base import Transformer

__all__ = ["TransformerSpec", "LogScaleBound", "MAX_LOG_SCALE_BOUND"]

#: The largest bound B on a soft-bounded log-scale: exp(B) must stay finite in float32
#: (exp(88.7) overflows), and a larger B made B * tanh(s / B) NaN.
MAX_LOG_SCALE_BOUND = 80.0

#: A bound on a log-scale, s = B * tanh(s_raw / B): above 0, at most MAX_LOG_SCALE_BOUND.
LogScaleBound = Annotated[float, Field(gt=0, le=MAX_LOG_SCALE_BOUND)]


class TransformerSpec(BaseModel):
    """An elementwise, strictly monotone map with per-feature parameters."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, allow_inf_nan=False)

    kind: str

    summary: ClassVar[str] = ""
    reference: ClassVar[str] = ""
    #: How the inverse (generation direction, latent -> data) is computed.
    inverse_cost: ClassVar[Cost] = Cost.ONE_PASS
    #: The log-derivative is always zero (additive): the layer contributes nothing.
    volume_preserving: ClassVar[bool] = False
    #: The map is ``z = a x + b`` in ``x`` (``a``, ``b`` from the parameters); its torch
    #: module then has ``scale_shift(params)``, which optimized code composes adjacent
    #: elementwise affine maps from (:mod:`flowspec.optimize.affine`).
    linear: ClassVar[bool] = False
    #: What to put before the node when its input lies outside :meth:`domain` (a hint).
    domain_fix: ClassVar[str] = ""
    #: Small valid uses: settings, and a port whose support the inputs are drawn from
    #: (:mod:`flowspec.core.example`).
    examples: ClassVar[tuple[Example, ...]] = ()

    @classmethod
    def kind_name(cls) -> str:
        return cls.model_fields["kind"].default

    @abstractmethod
    def params_per_feature(self) -> int:
        """How many numbers the conditioner computes for each transformed feature."""

    def check_static(self, check: NodeCheck, *field: str | int) -> None:
        """Checks of the settings alone, reported at ``field`` of the node using it."""

    def domain(self) -> Support:
        """The values the map accepts (default: the real line; the node checks continuity).
        An end where the map is infinite (0 for ``log``) is open."""
        return REAL

    def accepts(self, support: Support) -> bool:
        """Whether inputs with this support lie in the transformer's domain."""
        return support.inside(self.domain())

    def check_domain(
        self, support: Support, check: NodeCheck, code: str, subject: str, *field: str | int
    ) -> bool:
        """Report ``code`` at ``field`` when inputs with ``support`` leave the domain, with
        a hint: a map onto the domain to put before, or, when only an included end is
        outside (``[0, 1]`` into a logit), what keeps values off that end."""
        if self.accepts(support):
            return True
        required = self.domain()
        hint = f"put a map onto {required} before it, e.g. {self.domain_fix}"
        if support.within(required.low, required.high):  # only an included end fails
            hint = (
                f"an input exactly at an end of {support} maps to an infinite value "
                f"(log_prob = nan): {self.end_fix()}or declare the input with 'bounds: open' "
                "if its values never reach the ends"
            )
        check.error(
            code,
            f"{subject} needs inputs in {required}, but its input lives in {support}",
            *field,
            hint=hint,
        )
        return False

    def check_conditioned(
        self, check: NodeCheck, conditioner: tuple[str, ...], *field: str | int
    ) -> None:
        """:meth:`check_static` for a transformer inside a coupling or autoregressive layer,
        whose conditioner (at ``conditioner``) computes its parameters: with none to
        compute (a fixed map such as tanh), the conditioner's weights are never used."""
        self.check_static(check, *field)
        if self.params_per_feature() == 0:
            check.warning(
                "W430",
                f"transformer '{self.kind}' takes no parameters, so the conditioner computes "
                "nothing and its weights are never used",
                *conditioner,
                hint="use a transformer with parameters (affine, rq_spline, ...), or "
                f"{{kind: elementwise, fn: {self.kind}}} to apply the map to every feature",
            )

    def end_fix(self) -> str:
        """A setting that keeps inputs at an included end of the domain finite, as the
        start of a hint (``"set alpha, e.g. 0.05, "``); default: none."""
        return ""

    def output_support(self, support: Support) -> Support:
        """The support of the outputs for inputs with ``support`` (default: anywhere on the
        real line, yet bounded inputs still do not fill it: see :meth:`Support.moved`)."""
        return support.moved()

    def parameter_count(self) -> int:
        """Learned parameters the transformer's module holds itself, whatever the features
        (a learnable scale_shift's scale and shift); default none. Parameters per feature
        come from the conditioner, or from the elementwise node that learns them freely."""
        return 0

    def rebuild_error(self, support: Support) -> float:
        """A bound on the relative error, in units of the dtype's resolution, of an input
        in ``support`` rebuilt from this transformer's output by its inverse (``train:
        {memory: invertible}``). Default 1: a learned map's error depends on its learned
        values and is measured at run time (``memory_check``); fixed maps compute it."""
        return 1.0

    def likelihood_tolerance(self) -> float | None:
        """The tolerance of the iterative inverse, when there is one."""
        return None

    @abstractmethod
    def build(self) -> Transformer:
        """The torch module (imported inside this method)."""

    def describe(self) -> str:
        """A short label for tables and drawings, e.g. ``affine`` or ``rq_spline(8 bins)``."""
        return self.kind
