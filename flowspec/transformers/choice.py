"""The type of a ``transformer:`` field: any registered transformer, chosen by ``kind``."""

from __future__ import annotations

from flowspec.core.registry import kind_union, transformer_kinds

__all__ = ["TransformerChoice"]

TransformerChoice = kind_union(transformer_kinds())
