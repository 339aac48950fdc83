"""The torch module of ``standardize`` (spec, shape rule and formulas:
:mod:`flowspec.nodes.standardize`)."""

from __future__ import annotations

import torch

from flowspec.core.layer import FlowLayer
from flowspec.layers._data_init import DataInitialized

__all__ = ["Standardize"]


class Standardize(FlowLayer, DataInitialized):
    """``z = (x - mean) / std`` per feature (tensor dim 1); ``mean`` and ``std`` are
    buffers set from data by ``model.initialize`` (see :mod:`flowspec.layers._data_init`),
    never learned. Unset, it refuses every use: its statistics define the data's units."""

    SETS = "the mean and std of the data's standardisation, which fix the units of log p(x)"
    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, features: int, rank: int, positions: int) -> None:
        super().__init__()
        self._init_data_state(features)
        self.positions = positions
        self.broadcast = (1, features) + (1,) * (rank - 1)
        self.register_buffer("mean", torch.zeros(features))
        self.register_buffer("std", torch.ones(features))

    def set_from(self, mean: torch.Tensor, std: torch.Tensor | None) -> None:
        if std is None:
            raise ValueError("standardize needs at least two values per feature to set its std")
        constant = (std == 0).nonzero().flatten().tolist()
        if constant:
            raise ValueError(
                f"feature(s) {', '.join(map(str, constant[:8]))} have the same value in every "
                "example (std 0): their density is degenerate; drop them from the data"
            )
        self.mean.copy_(mean)
        self.std.copy_(std)

    def _per_feature(self, values: torch.Tensor) -> torch.Tensor:
        return values.view(self.broadcast)

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.is_initialized:
            self.unset_input(x)
        z = (x - self._per_feature(self.mean)) / self._per_feature(self.std)
        log_det = -self.std.log().sum() * self.positions
        return z, log_det.expand(x.shape[0])

    def inverse(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        return z * self._per_feature(self.std) + self._per_feature(self.mean)

    def extra_repr(self) -> str:
        return f"features={self.features}, positions={self.positions}"
