"""The mask's split of the features that coupling layers transform part of (spec:
:mod:`flowspec.nodes._coupling`)."""

from __future__ import annotations

import torch

from flowspec.core.layer import Layer

__all__ = ["MaskedSplit"]


class MaskedSplit(Layer):
    """Splits features into the kept part ``a`` and the transformed part ``b`` and merges
    them back. A contiguous 'half' mask uses slicing; other masks index with buffers."""

    def __init__(self, mask: list[int]):
        super().__init__()
        keep = [i for i, m in enumerate(mask) if m]
        change = [i for i, m in enumerate(mask) if not m]
        self.contiguous = keep == list(range(len(keep)))
        self.n_keep = len(keep)
        order = keep + change
        self.register_buffer("keep_index", torch.tensor(keep), persistent=False)
        self.register_buffer("change_index", torch.tensor(change), persistent=False)
        self.register_buffer("merge_index", torch.argsort(torch.tensor(order)), persistent=False)

    def split(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        if self.contiguous:
            return x[:, : self.n_keep], x[:, self.n_keep :]
        return x.index_select(1, self.keep_index), x.index_select(1, self.change_index)

    def merge(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        joined = torch.cat([a, b], dim=1)
        return joined if self.contiguous else joined.index_select(1, self.merge_index)
