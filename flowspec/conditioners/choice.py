"""The types of conditioner fields: any registered conditioner that can play the role,
chosen by ``kind`` (so the JSON Schema and the errors list exactly the kinds that fit).
A coupling conditioner or a plain network without ``kind`` is an mlp."""

from __future__ import annotations

from flowspec.core.registry import conditioner_kinds, kind_union

__all__ = ["NetChoice", "CouplingConditionerChoice", "AutoregressiveConditionerChoice"]


def _playing(role: str) -> dict:
    return {name: cls for name, cls in conditioner_kinds().items() if role in cls.roles}


#: A flat network ``in_features -> out_features`` (decoders, encoders, conditional bases).
NetChoice = kind_union(_playing("plain"), default="mlp")
#: The conditioner of a coupling layer: kept part -> the changed part's parameters.
CouplingConditionerChoice = kind_union(_playing("coupling"), default="mlp")
#: The conditioner of an autoregressive layer: x -> every feature's parameters, in order.
AutoregressiveConditionerChoice = kind_union(_playing("autoregressive"), default="made")
