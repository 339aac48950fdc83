"""The settings a box shows: what a reader needs to tell the nodes of a flow apart, in a
few words each (an elementwise map's ``fn``, a coupling's mask, a network's widths and
activation, split sizes, what a slice keeps and drops).

A setting is shown when the kind requires it, the spec sets it, or it is a network (a
nested model, summarised as ``mlp [64, 64] relu``); the kind's own ``describe()`` decides
which settings exist at all (an elementwise map only lists what its ``fn`` uses).
Defaults the user never wrote (an epsilon, a seed) stay in the tooltip.

Example: ``{kind: affine_coupling, net: {kind: mlp, hidden: [64, 64]}}`` on 4 features
draws ``net: mlp [64, 64] relu`` and ``mask: half = 1100``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from flowspec.core.node import NodeSpec
from flowspec.core.ports import PortInfo

__all__ = ["settings", "value_text", "MAX_ITEMS"]

#: List entries shown before the rest is elided (the length is given instead).
MAX_ITEMS = 8
#: Settings that matter even when left at their default.
SHOWN_ALWAYS = frozenset({"mask"})
#: Settings that never tell a reader the architecture (repetitions draw their own seeds).
HIDDEN = frozenset({"seed"})
#: Network fields shown as bare words (``mlp [64, 64] relu``).
BARE = frozenset({"kind", "hidden", "activation"})
#: Masks on at most this many features are also drawn as their 0/1 pattern.
MAX_MASK = 16


def value_text(value: Any) -> str:
    """One setting's value, compactly: numbers without noise, long lists elided, nested
    models in a few words."""
    if isinstance(value, BaseModel):
        return _model_text(value)
    if isinstance(value, (list, tuple)):
        items = ", ".join(value_text(item) for item in value[:MAX_ITEMS])
        more = f", … ({len(value)} in all)" if len(value) > MAX_ITEMS else ""
        return f"[{items}{more}]"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _shown(model: BaseModel, name: str) -> bool:
    field = type(model).model_fields[name]
    return name not in HIDDEN and (
        field.is_required()
        or name in model.model_fields_set
        or name in SHOWN_ALWAYS
        or isinstance(getattr(model, name), BaseModel)
    )


def _model_text(model: BaseModel) -> str:
    """A nested model (a network, a decoder) in a few words: ``mlp [64, 64] relu``."""
    words = []
    for name in type(model).model_fields:
        value = getattr(model, name)
        if name in BARE or isinstance(value, BaseModel):
            words.append(value_text(value))
        elif _shown(model, name):
            words.append(f"{name} {value_text(value)}")
    return " ".join(words)


def _features(inputs: tuple[PortInfo, ...] | None) -> int | None:
    if not inputs or inputs[0] is None or not inputs[0].shape:
        return None
    return inputs[0].shape[0]


def _mask(spec: NodeSpec, text: str, inputs: tuple[PortInfo, ...] | None) -> str:
    """A coupling's mask with its pattern (1: passes through and conditions, 0: changes)."""
    features = _features(inputs)
    if features is None or features > MAX_MASK or not hasattr(spec, "mask_vector"):
        return text
    if getattr(spec, "splits_pixels", False):  # pixels, not a pattern along event axis 0
        return text
    pattern = "".join(str(bit) for bit in spec.mask_vector(features))
    return pattern if isinstance(getattr(spec, "mask", None), list) else f"{text} = {pattern}"


def _keep(spec: NodeSpec, text: str, inputs: tuple[PortInfo, ...] | None) -> str:
    """What a slice keeps and what it drops (to its decoder) of the input's features."""
    features = _features(inputs)
    if features is None:
        return text
    keep = spec.describe()["keep"]
    return f"{keep} of {features}, drops {features - keep}"


#: Settings drawn with the input's shape at hand: setting name -> formatter.
DETAILS: dict[str, Callable[[NodeSpec, str, tuple[PortInfo, ...] | None], str]] = {
    "mask": _mask,
    "keep": _keep,
}


def settings(spec: NodeSpec, inputs: tuple[PortInfo, ...] | None) -> list[tuple[str, str]]:
    """The (name, value) pairs a box shows for ``spec``, whose inputs are ``inputs``
    (None when shape inference did not reach it)."""
    fields = type(spec).model_fields
    names = {field.alias or name: name for name, field in fields.items()}
    shown = []
    for key, described in spec.describe().items():
        name = names.get(key)
        if name is None:
            shown.append((key, value_text(described)))
            continue
        if not _shown(spec, name):
            continue
        text = value_text(getattr(spec, name))
        if name in DETAILS:
            text = DETAILS[name](spec, text, inputs)
        shown.append((key, text))
    return shown
