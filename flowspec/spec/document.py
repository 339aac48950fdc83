"""The top level of a spec file, as pydantic models.

Node entries are validated one at a time by :mod:`flowspec.spec.validate` (so every
mistake is reported with its own location); the union model built by :func:`document_model`
describes the whole file for the JSON Schema.
"""

from __future__ import annotations

import keyword
import math
import re
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, create_model, field_validator

from flowspec.core.node import MAX_AXIS, MAX_EVENT_NUMEL, PortRefs
from flowspec.core.registry import node_kinds
from flowspec.spec.training import TrainSettings

__all__ = [
    "InputSpec",
    "BlockUse",
    "NestedBlockUse",
    "Header",
    "IDENTIFIER",
    "is_identifier",
    "document_model",
    "SPEC_VERSION",
    "RESERVED",
    "MAX_LEVELS",
    "SECTIONS",
]

SPEC_VERSION = "1"
IDENTIFIER = r"^[A-Za-z][A-Za-z0-9_]*$"
_IDENTIFIER = re.compile(IDENTIFIER)
#: Names a spec may not use for inputs and nodes because generated code uses them.
RESERVED = frozenset(
    {
        "self",
        "n",
        "nodes",
        "logp",
        "latents",
        "contributions",
        "contribution",
        "context",
        "torch",
        "FlowModel",
        "Trace",
        "build_model",
        "SPEC_TEXT",
    }
)
#: The most levels a discrete input may have: uniform dequantization maps x to
#: (x + u) / K and floors z * K back, and in float32 a K much above 2^16 leaves too few
#: representable values per cell for that round trip (see
#: :mod:`flowspec.nodes.uniform_dequantization`).
MAX_LEVELS = 2**16


def is_identifier(name: object) -> bool:
    """Node ids and input names become Python identifiers in emitted code: letters, digits
    and single underscores, starting with a letter, not a keyword or a reserved name."""
    return (
        isinstance(name, str)
        and bool(_IDENTIFIER.fullmatch(name))
        and "__" not in name
        and not keyword.iskeyword(name)
        and name not in RESERVED
    )


class InputSpec(BaseModel):
    """A data input of the flow (or a conditioning input with ``context: true``)."""

    # No inf or NaN: an unbounded side is written by leaving its bound out.
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True, allow_inf_nan=False)

    shape: list[Annotated[int, Field(gt=0, le=MAX_AXIS)]] = Field(
        min_length=1,
        description=f"Event shape, without batch axis: sizes 1 .. {MAX_AXIS} (2^24), at "
        f"most {MAX_EVENT_NUMEL} (2^27) elements in all.",
    )
    levels: int | None = Field(
        default=None,
        ge=2,
        le=MAX_LEVELS,
        description=f"For discrete data: the number of values, 0 .. levels-1 (at most "
        f"{MAX_LEVELS}, which float32 dequantization still round-trips).",
    )
    low: float | None = Field(
        default=None,
        description="Lower bound of the values, a finite number; leave it out when there "
        "is none (-inf).",
    )
    high: float | None = Field(
        default=None,
        description="Upper bound of the values, a finite number; leave it out when there "
        "is none (+inf).",
    )
    bounds: Literal["closed", "open"] = Field(
        default="closed",
        description="Whether the values may equal low and high ('closed', the default: "
        "data in [0, 1] may hold an exact 0) or lie strictly between them ('open').",
    )
    context: bool = Field(
        default=False,
        description="A conditioning input: it is given, not modelled, and may feed several "
        "nodes' context.",
    )

    @field_validator("shape")
    @classmethod
    def _bounded_event(cls, shape: list[int]) -> list[int]:
        """An event's total size is bounded too (each axis alone is bounded by its type)."""
        size = math.prod(shape)
        if size > MAX_EVENT_NUMEL:
            raise ValueError(
                f"an event of shape {shape} has {size} elements; at most {MAX_EVENT_NUMEL} "
                "(2^27) are supported"
            )
        return shape


class NestedBlockUse(BaseModel):
    """A block used inside another block: its chain, repeated, in the outer chain. It
    takes its input from the element before it and the context of the outer use."""

    model_config = ConfigDict(strict=True, extra="forbid", populate_by_name=True, frozen=True)

    block: str = Field(description="Name of a block under 'blocks'.")
    repeat: PositiveInt = Field(default=1, description="How many times the chain is repeated.")


class BlockUse(NestedBlockUse):
    """An instance of a reusable block: its chain of nodes, repeated ``repeat`` times."""

    in_: PortRefs = Field(alias="in", description="Where the first node's input comes from.")
    context: str | None = Field(
        default=None, description="Context passed to every node of the block that accepts one."
    )


class Header(BaseModel):
    """The fields of a spec besides its graph."""

    model_config = ConfigDict(strict=True, extra="ignore", frozen=True)

    flowspec: Literal["1"] = Field(description="Spec format version.")
    name: str = Field(min_length=1, description="Name of the model.")
    description: str | None = Field(default=None, description="Free text.")
    train: TrainSettings | None = Field(
        default=None,
        description="How `flowspec train` fits the model (optimizer, schedule, budget, "
        "validation, device); every field optional, command-line options override it.",
    )
    accept: dict[str, Annotated[str, Field(min_length=1)]] = Field(
        default_factory=dict,
        description="Warnings this spec accepts, by code, each with the reason "
        '(W501: "RealNVP\'s logit with alpha"): not printed, but what they imply still '
        "holds (a bound stays a bound) and `flowspec validate` lists them.",
    )


class _Document(Header):
    """The header's fields, in a model that forbids unknown top-level keys."""

    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


#: The sections of a spec besides its header's fields, with what each holds.
SECTIONS = {
    "inputs": "Data and context inputs by name.",
    "blocks": "Reusable chains of nodes (and uses of other blocks), by name.",
    "nodes": "The graph: node id -> node or block use.",
}


def document_model() -> type[BaseModel]:
    """A pydantic model of the whole spec file, with every registered node kind."""
    # Unions of the kinds registered at run time: values to pydantic, not static types.
    node: Any = Annotated[Union[tuple(node_kinds().values())], Field(discriminator="kind")]  # noqa: UP007
    entry: Any = Union[node, BlockUse]  # noqa: UP007
    chain: Any = list[Union[node, NestedBlockUse]]  # noqa: UP007
    return create_model(
        "FlowSpec",
        __base__=_Document,
        __doc__="A flowspec model: inputs, reusable blocks and a graph of nodes.",
        inputs=(dict[str, InputSpec], Field(description=SECTIONS["inputs"])),
        blocks=(dict[str, chain], Field(default_factory=dict, description=SECTIONS["blocks"])),
        nodes=(dict[str, entry], Field(description=SECTIONS["nodes"])),
    )
