"""Checks that several node kinds share: feature axis, continuity, real-valuedness."""

from __future__ import annotations

from pydantic import BaseModel

from flowspec.core.node import NodeCheck
from flowspec.core.ports import PortInfo

__all__ = [
    "check_feature_axis",
    "check_continuous",
    "check_real_valued",
    "check_fills_integers",
    "check_unused_settings",
    "learned_feature_map",
    "check_image",
]


def check_feature_axis(x: PortInfo, kind: str, check: NodeCheck) -> bool:
    """Kinds that act on event axis 0 need one (E411)."""
    if len(x.shape) == 0:
        check.error(
            "E411",
            f"{kind} acts on the feature axis (event axis 0) but its input is a scalar event {x}",
            "in",
            hint="give the input an event shape such as [D]",
        )
        return False
    return True


def check_continuous(x: PortInfo, kind: str, check: NodeCheck) -> bool:
    """Continuous bijections change volume (or density); fed with discrete values they
    give a log_prob that is not a likelihood of the data. Report it (E410)."""
    if x.support.discrete:
        check.error(
            "E410",
            f"{kind} is a map of continuous values but its input is discrete {x.support}",
            "in",
            hint="add {kind: uniform_dequantization} after the discrete input",
        )
        return False
    return True


def check_real_valued(x: PortInfo, check: NodeCheck) -> None:
    """A density on the whole real line fed with bounded or discrete values gives a
    log_prob that is not a normalized density of the data: discrete values are an error
    (E501), values that do not fill the line mark the node unnormalized (W501, reported by
    the shape pass once per cause; the model is then at best a lower bound)."""
    if x.support.discrete:
        check.error(
            "E501",
            f"a continuous density cannot model discrete values {x.support}",
            "in",
            hint="add {kind: uniform_dequantization} after the input",
        )
    elif not x.support.is_real_line:
        check.unnormalized_input("W501", x.support, "in", density="this density")


def check_fills_integers(x: PortInfo, check: NodeCheck) -> None:
    """W501's rule for a probability mass function over all integers: values with levels
    moved by integer flows reach only part of them, so the pmf's mass on the data's values
    is below one (the model is at best a lower bound)."""
    if x.support.integers and x.support.partial:
        check.unnormalized_input("W501", x.support, "in", density="this pmf")


def learned_feature_map(x: PortInfo, kind: str, check: NodeCheck) -> tuple[PortInfo] | None:
    """The shape rule of a learned invertible map over the feature axis (actnorm, LU):
    it needs a feature axis and continuous values. A learned map can move bounded values
    anywhere, but not onto the whole line: their support becomes a part of it."""
    if not check_feature_axis(x, kind, check) or not check_continuous(x, kind, check):
        return None
    return (PortInfo(x.shape, x.support.moved()),)


def check_image(x: PortInfo, what: str, check: NodeCheck, *field: str | int) -> bool:
    """Kinds and masks made for images need an image-shaped input ``[C, H, W]`` (E650)."""
    if len(x.shape) != 3:
        check.error(
            "E650",
            f"{what} needs an image-shaped input [C, H, W], got {x}",
            *(field or ("in",)),
            hint="reshape the input first, e.g. {kind: reshape, shape: [1, 8, 8]}",
        )
        return False
    return True


def check_unused_settings(
    settings: BaseModel,
    names: tuple[str, ...],
    because: str,
    check: NodeCheck,
    *field: str | int,
    hint: str | None = None,
) -> None:
    """W430 for each of ``names`` given explicitly in ``settings`` (at ``field``), which
    ``because`` says the other settings leave unused."""
    for name in names:
        if name in settings.model_fields_set:
            check.warning(
                "W430",
                f"{name} is ignored: {because}",
                *field,
                name,
                hint=hint or f"remove '{name}'",
            )
