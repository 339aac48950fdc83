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
from typing import TYPE_CHECKING, ClassVar

from pydantic import BaseModel, ConfigDict

from flowspec.core.ports import Support
from flowspec.core.properties import Cost

if TYPE_CHECKING:
    from flowspec.core.node import NodeCheck
    from flowspec.layers.transformers.base import Transformer

__all__ = ["TransformerSpec"]


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

    @classmethod
    def kind_name(cls) -> str:
        return cls.model_fields["kind"].default

    @abstractmethod
    def params_per_feature(self) -> int:
        """How many numbers the conditioner computes for each transformed feature."""

    def check_static(self, check: NodeCheck, *field: str | int) -> None:
        """Checks of the settings alone, reported at ``field`` of the node using it."""

    def accepts(self, support: Support) -> bool:
        """Whether inputs with this support lie in the transformer's domain (default: any
        continuous values; the node checks continuity)."""
        return True

    def output_support(self, support: Support) -> Support:
        """The support of the outputs for inputs with ``support`` (default: anywhere on the
        real line, yet bounded inputs still do not fill it: see :meth:`Support.moved`)."""
        return support.moved()

    def likelihood_tolerance(self) -> float | None:
        """The tolerance of the iterative inverse, when there is one."""
        return None

    @abstractmethod
    def build(self) -> Transformer:
        """The torch module (imported inside this method)."""

    def describe(self) -> str:
        """A short label for tables and drawings, e.g. ``affine`` or ``rq_spline(8 bins)``."""
        return self.kind
