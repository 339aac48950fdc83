"""The torch modules of Glow actnorm (spec, shape rule and formulas:
:mod:`flowspec.nodes.actnorm`)."""

from __future__ import annotations

import torch
from torch import nn

from flowspec.core.layer import FlowLayer
from flowspec.layers._data_init import DataInitialized

__all__ = ["ActNorm"]


class ActNorm(FlowLayer, DataInitialized):
    """``z = (x + bias) * exp(log_scale)`` per feature (tensor dim 1).

    Set from data (see :mod:`flowspec.layers._data_init`): ``model.initialize(x)`` sets
    ``bias = -mean`` and ``log_scale = -log(std + eps)`` from the whole of ``x``;
    otherwise the first batch it sees in training mode does (Glow's initialisation, for
    plain torch loops), and ``log_prob`` in eval mode before either raises. Generation
    before it is set runs the identity. Run one training batch (or ``initialize``) before
    wrapping the layer in ``torch.func`` transforms, since setting it writes to the
    parameters; a first call inside ``torch.compile`` sets it as eager code does.
    """

    GENERATES_UNSET = True
    SETS = (
        "its bias and scale (Glow's data-dependent initialisation; in training mode from "
        "its first batch)"
    )

    def __init__(
        self, features: int, rank: int, positions: int, eps: float = 1e-6, data_init: bool = True
    ) -> None:
        super().__init__()
        self._init_data_state(features, data_init)
        self.positions = positions
        self.eps = eps
        self.broadcast = (1, features) + (1,) * (rank - 1)
        # Flat inputs broadcast the parameters as they are: no view ops (each op's
        # dispatch shows on small models).
        self.flat = rank == 1
        self.bias = nn.Parameter(torch.zeros(features))
        self.log_scale = nn.Parameter(torch.zeros(features))

    def set_from(self, mean: torch.Tensor, std: torch.Tensor | None) -> None:
        """``bias = -mean``, ``log_scale = -log(std + eps)``; with a single value per
        feature the std is undefined: only centre."""
        self.bias.copy_(-mean)
        if std is not None:
            self.log_scale.copy_(-torch.log(std + self.eps))

    def unset_input(self, x: torch.Tensor) -> None:
        if self._moments is None and self.training:
            self.initialize_(x)
        else:
            super().unset_input(x)

    @torch.no_grad()
    def initialize_(self, x: torch.Tensor) -> None:
        """Set bias and scale so that the batch ``x`` comes out with zero mean, unit
        variance per feature (Glow's first batch).

        A batch holding inf or nan (a logit of exactly 0 or 1, say) would become the
        parameters and make every later log_prob nan: it raises instead, and the layer
        stays unset. (Inside a compiled first call, which cannot raise on data, such a
        batch leaves the parameters at the identity instead of storing nan.)"""
        x = x.detach()
        finite = torch.isfinite(x).all()
        if not torch.compiler.is_compiling() and not bool(finite):
            raise ValueError(
                f"actnorm cannot initialise from its first batch: it holds "
                f"{int((~torch.isfinite(x)).sum())} non-finite values (inf or nan), e.g. "
                "from a logit or log of values exactly at 0 or 1; the layer is left "
                "uninitialised. Fix the data, or the map before actnorm (logit alpha > 0), "
                "then run it again"
            )
        dims = [0, *range(2, x.dim())]
        self.bias.copy_(torch.where(finite, -x.mean(dim=dims), self.bias))
        if x.numel() // self.features > 1:
            std = x.std(dim=dims, correction=0)
            self.log_scale.copy_(torch.where(finite, -torch.log(std + self.eps), self.log_scale))
        self.mark_initialized()

    def _per_feature(self, parameter: torch.Tensor) -> torch.Tensor:
        return parameter if self.flat else parameter.view(self.broadcast)

    def _log_det(self, x: torch.Tensor) -> torch.Tensor:
        total = self.log_scale.sum()
        return (total if self.positions == 1 else total * self.positions).expand(x.shape[0])

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.is_initialized:
            self.unset_input(x)
        z = (x + self._per_feature(self.bias)) * self._per_feature(self.log_scale).exp()
        return z, self._log_det(x)

    def inverse(self, z: torch.Tensor, context: torch.Tensor | None = None) -> torch.Tensor:
        return z * self._per_feature(self.log_scale).neg().exp() - self._per_feature(self.bias)

    def affine(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(scale, shift, log|det| per sample)`` of ``z = scale * x + shift`` (once
        initialised): what optimized code composes adjacent affine maps from."""
        scale = self._per_feature(self.log_scale).exp()
        return scale, self._per_feature(self.bias) * scale, self.log_scale.sum() * self.positions

    def extra_repr(self) -> str:
        return f"features={self.features}, positions={self.positions}, eps={self.eps}"
