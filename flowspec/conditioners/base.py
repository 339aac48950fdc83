"""The base of conditioner specs: the networks that compute a layer's parameters.

The lecture splits coupling and autoregressive layers into an elementwise transformer and a
*conditioner* (Papamakarios et al. 2021, "Normalizing Flows for Probabilistic Modeling and
Inference", arXiv:1912.02762, section 3.1). A conditioner serves in one or more roles:

- ``coupling``: from the kept part ``x_a`` (event shape ``in_shape``) and the context to the
  parameters of the transformed part (``(batch, *out_shape, params)``);
- ``autoregressive``: from ``x`` to the parameters of every feature, each depending only on
  the features before it in the conditioner's order (``(batch, *shape, params)``);
- ``plain``: a flat network ``in_features -> out_features`` (decoders, encoders).

Each conditioner declares its roles and checks the shapes it is given; its torch module
lives under ``flowspec/layers/conditioners`` with the same file name. Subclasses declare
``kind: Literal["name"] = "name"``; the registry finds them.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, ClassVar

from pydantic import BaseModel, ConfigDict

from flowspec.core.example import Example
from flowspec.core.ports import PortInfo

if TYPE_CHECKING:  # torch is imported where networks are built
    from torch import nn

    from flowspec.core.node import NodeCheck

__all__ = ["ConditionerSpec", "check_flat_context", "context_width", "no_empty_layer_warning"]


def check_flat_context(user: str, context: PortInfo | None, check: NodeCheck) -> bool:
    """A network reads a flat context ``[C]`` (E406 for another shape, naming its ``user``)."""
    if context is not None and len(context.shape) != 1:
        check.error(
            "E406",
            f"context for {user} must be flat [C], got {context}",
            "context",
            hint="declare the context input flat ([C], the values of an image in a row): a "
            "context is given, not transformed, so no node can flatten it",
        )
        return False
    return True


def context_width(context: PortInfo | None) -> int:
    """The features a context adds to a network's input (0 without one)."""
    return 0 if context is None else context.numel


@contextmanager
def no_empty_layer_warning() -> Iterator[None]:
    """Build a conditioner for a transformer without parameters quietly: its last layer has
    no outputs, and torch warns that initialising an empty tensor does nothing. The spec
    checks already warned the user that such a conditioner is unused (W430)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Initializing zero-element tensors is a no-op")
        yield


class ConditionerSpec(BaseModel):
    """A network that computes parameters; see the module docstring for its roles."""

    # No inf or NaN in any number field; strict: "8" is not the integer 8.
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, allow_inf_nan=False)

    kind: str

    #: The roles this conditioner can play: "coupling", "autoregressive", "plain".
    roles: ClassVar[frozenset[str]] = frozenset()
    #: One line for tables: what it is.
    summary: ClassVar[str] = ""
    #: The paper it comes from.
    reference: ClassVar[str] = ""
    #: Small valid uses in each role it plays (:mod:`flowspec.core.example`).
    examples: ClassVar[tuple[Example, ...]] = ()

    @classmethod
    def kind_name(cls) -> str:
        return cls.model_fields["kind"].default

    def check_static(self, check: NodeCheck, *field: str | int) -> None:
        """Checks of the settings alone, reported under ``field`` of the node using it."""

    def check_flat_context(self, context: PortInfo | None, check: NodeCheck) -> bool:
        """A flat conditioner takes a flat context ``[C]``."""
        return check_flat_context(f"a {self.kind} conditioner", context, check)

    def check_coupling(
        self,
        kept: tuple[int, ...],
        changed: tuple[int, ...],
        context: PortInfo | None,
        check: NodeCheck,
        *field: str | int,
    ) -> bool:
        """Coupling role: whether this conditioner can map a kept part of shape ``kept``
        (and the context) to the parameters of a changed part of shape ``changed``."""
        raise NotImplementedError(f"conditioner '{self.kind}' has no coupling role")

    def check_autoregressive(
        self, x: PortInfo, context: PortInfo | None, check: NodeCheck, *field: str | int
    ) -> bool:
        """Autoregressive role: whether this conditioner can serve inputs like ``x``."""
        raise NotImplementedError(f"conditioner '{self.kind}' has no autoregressive role")

    def build(self, in_features: int, out_features: int, *, zero_init: bool = True) -> nn.Module:
        """The plain network ``in_features -> out_features``; with ``zero_init`` its last
        layer starts at zero, so the layer it parameterizes starts at the identity."""
        raise NotImplementedError(f"conditioner '{self.kind}' has no plain role")

    def parameter_count(self, in_features: int, out_features: int) -> int:
        """Plain role: how many learned parameters :meth:`build` creates (without building
        it, so that checking a spec stays torch-free)."""
        raise NotImplementedError(f"conditioner '{self.kind}' has no plain role")

    def coupling_parameter_count(
        self,
        kept: tuple[int, ...],
        changed: tuple[int, ...],
        params: int,
        context_shape: tuple[int, ...] | None,
    ) -> int:
        """Coupling role: the parameters :meth:`build_coupling` creates (without building
        it, so that checking a spec stays torch-free)."""
        raise NotImplementedError(f"conditioner '{self.kind}' has no coupling role")

    def autoregressive_parameter_count(
        self, shape: tuple[int, ...], params: int, context_shape: tuple[int, ...] | None
    ) -> int:
        """Autoregressive role: the parameters :meth:`build_autoregressive` creates (without
        building it)."""
        raise NotImplementedError(f"conditioner '{self.kind}' has no autoregressive role")

    def autoregressive_ranks(self, shape: tuple[int, ...]) -> list[int]:
        """Autoregressive role: each flattened feature's position in the order this
        conditioner keeps, for inputs of event shape ``shape``. The parameters of feature
        ``i`` depend only on the features ``j`` with ``ranks[j] < ranks[i]`` (and on the
        context); features of equal rank are transformed independently of each other."""
        raise NotImplementedError(f"conditioner '{self.kind}' has no autoregressive role")

    def build_coupling(
        self,
        kept: tuple[int, ...],
        changed: tuple[int, ...],
        params: int,
        context_shape: tuple[int, ...] | None,
    ) -> nn.Module:
        """A module ``(x_a, context) -> (batch, *changed, params)``, starting at zero."""
        raise NotImplementedError(f"conditioner '{self.kind}' has no coupling role")

    def build_autoregressive(
        self, shape: tuple[int, ...], params: int, context_shape: tuple[int, ...] | None
    ) -> nn.Module:
        """A module ``(x, context) -> (batch, *shape, params)``, autoregressive in the
        conditioner's order, starting at zero."""
        raise NotImplementedError(f"conditioner '{self.kind}' has no autoregressive role")

    def for_repetition(self, repetition: int) -> ConditionerSpec:
        """The settings in repetition ``repetition`` of a block (random orders differ)."""
        return self

    def describe(self) -> str:
        """A short label for tables and drawings."""
        return self.kind
