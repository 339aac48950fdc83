"""The torch modules of Glow actnorm (spec, shape rule and formulas:
:mod:`flowspec.nodes.actnorm`)."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from flowspec.core.layer import FlowLayer

__all__ = ["ActNorm"]


class ActNorm(FlowLayer):
    """``z = (x + bias) * exp(log_scale)`` per feature (tensor dim 1).

    ``initialized`` is a persistent buffer, so a saved model does not re-initialise when
    loaded; the forward pass tests its plain-bool mirror ``is_initialized`` (kept in sync
    by :meth:`_load_from_state_dict`) rather than the tensor, so tracing sees a constant.
    Run one inference batch before wrapping the layer in ``torch.func`` transforms or
    ``torch.compile``, since the initialisation writes to the parameters.
    """

    initialized: torch.Tensor

    def __init__(
        self, features: int, rank: int, positions: int, eps: float = 1e-6, data_init: bool = True
    ) -> None:
        super().__init__()
        self.features = features
        self.positions = positions
        self.eps = eps
        self.broadcast = (1, features) + (1,) * (rank - 1)
        # Flat inputs broadcast the parameters as they are: no view ops (each op's
        # dispatch shows on small models).
        self.flat = rank == 1
        self.bias = nn.Parameter(torch.zeros(features))
        self.log_scale = nn.Parameter(torch.zeros(features))
        self.register_buffer("initialized", torch.tensor(not data_init))
        self.is_initialized = not data_init

    @torch.no_grad()
    def initialize_(self, x: torch.Tensor) -> None:
        """Set bias and scale so that ``x`` comes out with zero mean, unit variance per
        feature. With a single value per feature the std is undefined: only centre.

        A batch holding inf or nan (a logit of exactly 0 or 1, say) would become the
        parameters and make every later log_prob nan: it raises instead, and the layer
        stays uninitialised. (Inside a compiled first call, which cannot raise on data,
        such a batch leaves the parameters at the identity instead of storing nan.)"""
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
        self.initialized.fill_(True)
        self.is_initialized = True

    def _load_from_state_dict(
        self,
        state_dict: dict[str, Any],
        prefix: str,
        local_metadata: dict[str, Any],
        strict: bool,
        missing_keys: list[str],
        unexpected_keys: list[str],
        error_msgs: list[str],
    ) -> None:
        super()._load_from_state_dict(
            state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys, error_msgs
        )
        self.is_initialized = bool(self.initialized)

    def _per_feature(self, parameter: torch.Tensor) -> torch.Tensor:
        return parameter if self.flat else parameter.view(self.broadcast)

    def _log_det(self, x: torch.Tensor) -> torch.Tensor:
        total = self.log_scale.sum()
        return (total if self.positions == 1 else total * self.positions).expand(x.shape[0])

    def forward(
        self, x: torch.Tensor, context: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if not self.is_initialized:
            self.initialize_(x)
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
