"""The support checks densities share: which values each one can model."""

from __future__ import annotations

from flowspec.core.node import NodeCheck
from flowspec.core.ports import PortInfo

__all__ = ["check_continuous_event", "check_discrete_event"]


def check_continuous_event(kind: str, event: PortInfo, check: NodeCheck, *field: str | int) -> bool:
    """A density of real values cannot give probabilities to discrete ones (E800); fed
    values that do not fill the real line, it wastes mass outside them and marks its node
    unnormalized (W800, reported by the shape pass once per cause: a lower bound)."""
    if not event.support.discrete and not event.support.is_real_line:
        check.unnormalized_input("W800", event.support, *field, density=f"the {kind} density")
    if event.support.discrete:
        check.error(
            "E800",
            f"the {kind} density models real values, but the values it would model are "
            f"discrete {event.support}",
            *field,
            hint="use {kind: categorical} or {kind: discretized_logistic} for integers, "
            "{kind: bernoulli} for binary values",
        )
        return False
    return True


def check_discrete_event(
    kind: str, event: PortInfo, check: NodeCheck, *field: str | int, levels: int | None = None
) -> bool:
    """A pmf needs integer values (E801), with ``levels`` of them when given (E802)."""
    if not event.support.discrete:
        check.error(
            "E801",
            f"the {kind} density is a probability mass function over integers, but the "
            f"values it would model are continuous {event.support}",
            *field,
            hint="declare levels on the input, or use {kind: gaussian} for real values",
        )
        return False
    if levels is not None and event.support.levels != levels:
        check.error(
            "E802",
            f"the {kind} density models {levels} levels, but the values have "
            f"{event.support.levels}",
            *field,
            hint="use {kind: categorical} for more than two levels",
        )
        return False
    return True
