"""The partitions of a coupling layer's input into a kept and a transformed part (spec:
:mod:`flowspec.nodes._coupling`).

A partition has ``split(x) -> (a, b)``: the conditioner's input ``a`` and the values ``b``
the transformer maps; ``merge(a, z_b) -> z``; and ``total(log_derivative) -> (batch,)``,
the sum of the transformer's elementwise log-derivatives over the transformed values."""

from __future__ import annotations

import torch

from flowspec.core.layer import Layer

__all__ = ["MaskedSplit", "CheckerboardSplit", "ColumnSplit"]


class MaskedSplit(Layer):
    """Splits tensor dim 1 (the features, or an image's channels) into the kept part ``a``
    and the transformed part ``b`` and merges them back. A mask keeping a leading block
    ('half', 'channel') uses slicing; other masks index with buffers."""

    keep_index: torch.Tensor
    change_index: torch.Tensor
    merge_index: torch.Tensor

    def __init__(self, mask: list[int]) -> None:
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

    def split_adjoint(self, grad_a: torch.Tensor, grad_b: torch.Tensor) -> torch.Tensor:
        """The gradient of ``x`` from those of ``split(x)``'s parts (disjoint features:
        they are merged)."""
        return self.merge(grad_a, grad_b)

    def total(self, log_derivative: torch.Tensor) -> torch.Tensor:
        # A flat log-derivative skips the no-op flatten (each op shows on small models).
        flat = log_derivative if log_derivative.dim() == 2 else log_derivative.flatten(1)
        return flat.sum(1)


class CheckerboardSplit(Layer):
    """The checkerboard mask of RealNVP (Dinh et al. 2016, arXiv:1605.08803) on
    ``(batch, C, H, W)``: pixel ``(h, w)`` of every channel is kept when ``h + w`` is even
    (odd when ``flipped``). ``a = x * mask`` (the transformed pixels read as zero), ``b = x``
    whole; ``merge`` keeps ``a`` where the mask is 1 and the transformer's output elsewhere,
    and ``total`` sums the log-derivative only where values were transformed."""

    keep: torch.Tensor

    def __init__(self, shape: list[int], flipped: bool = False) -> None:
        super().__init__()
        channels, height, width = shape
        self.flipped = flipped
        rows = torch.arange(height).view(-1, 1)
        columns = torch.arange(width).view(1, -1)
        keep = ((rows + columns) % 2 == int(flipped)).expand(channels, height, width)
        self.register_buffer("keep", keep.unsqueeze(0).clone(), persistent=False)

    def split(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return x * self.keep, x

    def merge(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.where(self.keep, a, b)

    def split_adjoint(self, grad_a: torch.Tensor, grad_b: torch.Tensor) -> torch.Tensor:
        """The gradient of ``x`` from those of ``split(x) = (x * keep, x)``."""
        return grad_a * self.keep + grad_b

    def total(self, log_derivative: torch.Tensor) -> torch.Tensor:
        return torch.where(self.keep, 0.0, log_derivative).flatten(1).sum(1)


class ColumnSplit(Layer):
    """Flow++'s split of ``(batch, C, H, W)`` into its even and odd columns (Ho et al.
    2019, arXiv:1902.00275; ``CheckerboardSplit`` in its code): ``a`` the even columns,
    ``b`` the odd ones (swapped when ``flipped``), each a dense ``(batch, C, H, W / 2)``
    image; ``merge`` interleaves them back."""

    def __init__(self, flipped: bool = False) -> None:
        super().__init__()
        self.flipped = flipped

    def split(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        even, odd = x[..., 0::2], x[..., 1::2]
        return (odd, even) if self.flipped else (even, odd)

    def merge(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        even, odd = (b, a) if self.flipped else (a, b)
        return torch.stack([even, odd], dim=-1).flatten(-2)

    def split_adjoint(self, grad_a: torch.Tensor, grad_b: torch.Tensor) -> torch.Tensor:
        """The gradient of ``x`` from those of its two disjoint halves."""
        return self.merge(grad_a, grad_b)

    def total(self, log_derivative: torch.Tensor) -> torch.Tensor:
        return log_derivative.flatten(1).sum(1)
