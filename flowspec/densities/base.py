"""The base of conditional density specs: the parts that model what a SurVAE node drops,
adds or proposes (slice decoders, augment encoders, dequantizers, VAE posteriors).

A density spec is torch-free: it says which values it can model (``check_event``), how
many numbers its network must produce per event (``param_count``: the shape rule) and
builds its torch module (``flowspec.layers.densities``) lazily. Given a context it is
``p(v | c)``; without one (``context_features == 0``) its parameters are learned directly.

SurVAE flows (Nielsen et al. 2020, arXiv:2007.02731) combine such densities with
surjections; the kinds are chosen by ``kind`` like the conditioners.
"""

from __future__ import annotations

from abc import abstractmethod
from typing import TYPE_CHECKING, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from flowspec.conditioners.choice import NetChoice
from flowspec.conditioners.mlp import MLPSpec
from flowspec.core.example import Example
from flowspec.core.node import NodeCheck
from flowspec.core.ports import PortInfo
from flowspec.core.properties import Cost, Costs, Likelihood

if TYPE_CHECKING:
    from torch import nn

    from flowspec.layers.densities.base import Density

__all__ = ["DensitySpec"]


class DensitySpec(BaseModel):
    """A (conditional) density over one event; subclasses declare ``kind``."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, allow_inf_nan=False)

    kind: str
    net: NetChoice = Field(
        default_factory=MLPSpec,
        description="Network from the flattened context to the density's parameters (its "
        "last layer starts at zero, except in a vae). Unused when there is no context: the "
        "parameters are then learned directly.",
    )

    #: One line for tables: what it is.
    summary: ClassVar[str] = ""
    #: The paper it comes from.
    reference: ClassVar[str] = ""
    #: The values it models, in words (shown by ``validate``).
    models: ClassVar[str] = ""
    #: Small valid uses: settings, the values modelled (one port: event shape and
    #: support) and the context, if any (:mod:`flowspec.core.example`).
    examples: ClassVar[tuple[Example, ...]] = ()

    def likelihood(self) -> Likelihood:
        """What ``log_prob`` of this density is; the node using it takes the weaker of its
        own class and this one. Default: exact."""
        return Likelihood.EXACT

    def tolerance(self) -> str | None:
        """For a density exact to a tolerance: which one, in words. Default: None."""
        return None

    def costs(self) -> Costs:
        """What scoring given values (inference) and drawing (generation) cost. Default:
        one pass each."""
        return Costs(Cost.ONE_PASS, Cost.ONE_PASS)

    def inference_remedy(self) -> str:
        """When scoring given values is not available: what would make it so."""
        return ""

    @abstractmethod
    def check_event(self, event: PortInfo, check: NodeCheck, *field: str | int) -> bool:
        """Report (under ``field``) why this density cannot model values like ``event``."""

    def check_scoring(self, check: NodeCheck, *field: str | int) -> bool:
        """For a density that scores given values (a decoder: ``log p(x | z)`` of the data,
        not of its own draws), whether it can compute that density; report why not under
        ``field``. Default: it can."""
        return True

    @abstractmethod
    def param_count(self, event: PortInfo) -> int:
        """How many numbers parameterise the density of one event (the network's width)."""

    def describe(self) -> str:
        """Short text for tables: the kind and its network."""
        hidden = getattr(self.net, "hidden", None)
        return f"{self.kind} ({self.net.kind} {hidden})" if hidden is not None else self.kind

    def build(self, event: PortInfo, context_features: int, *, zero_init: bool = True) -> Density:
        """The torch module ``p(v | c)``; ``context_features == 0`` for an unconditional one.

        With ``zero_init`` the network's last layer starts at zero, so the density starts
        the same for every context (a standard normal for a gaussian); ``zero_init=False``
        keeps PyTorch's default initialisation, so it depends on the context from the first
        step (a VAE's encoder and decoder: see :mod:`flowspec.nodes.vae`)."""
        net = (
            self.net.build(context_features, self.param_count(event), zero_init=zero_init)
            if context_features
            else None
        )
        return self._build(event, net)

    @abstractmethod
    def _build(self, event: PortInfo, net: nn.Module | None) -> Density:
        """The torch module given its (possibly absent) network; import it lazily."""

    def density_parameter_count(self, event: PortInfo, context_features: int) -> int:
        """How many learned parameters :meth:`build` creates (torch-free): the network's,
        or the learned parameter vector of an unconditional density."""
        outputs = self.param_count(event)
        return self.net.parameter_count(context_features, outputs) if context_features else outputs
