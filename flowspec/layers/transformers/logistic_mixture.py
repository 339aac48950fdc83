"""Torch side of :mod:`flowspec.transformers.logistic_mixture` (Ho et al. 2019, arXiv:1902.00275)."""

from __future__ import annotations

import torch

from flowspec.layers._softmax import log_softmax_last
from flowspec.layers.transformers._bisection import BisectionTransformer
from flowspec.layers.transformers._logistic import invert_mixture_logit, mixture_logit
from flowspec.layers.transformers.affine import AffineTransformer

__all__ = ["LogisticMixtureTransformer"]

#: Soft bound on each component's log-scale: s_k in [exp(-7), exp(7)].
LOG_SCALE_BOUND = 7.0


class LogisticMixtureTransformer(BisectionTransformer):
    """Params per feature: ``K`` weight logits, ``K`` locations, ``K`` log-scales, then the
    affine part's ``(a_raw, b)`` when ``scale_bound`` is given."""

    offsets: torch.Tensor

    def __init__(
        self, components: int, scale_bound: float | None, tolerance: float, iterations: int
    ) -> None:
        super().__init__(tolerance, iterations)
        self.components = components
        self.affine = AffineTransformer(scale_bound) if scale_bound is not None else None
        spread = torch.linspace(-1.0, 1.0, components) if components > 1 else torch.zeros(1)
        self.register_buffer("offsets", spread, persistent=False)

    def _mixture(self, params: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        k = self.components
        log_weights = log_softmax_last(params[..., :k])
        loc = params[..., k : 2 * k] + self.offsets
        log_scale = LOG_SCALE_BOUND * torch.tanh(params[..., 2 * k : 3 * k] / LOG_SCALE_BOUND)
        return log_weights, loc, log_scale

    def forward(self, x: torch.Tensor, params: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        y, log_derivative = mixture_logit(x, *self._mixture(params))
        if self.affine is None:
            return y, log_derivative
        z, log_scale = self.affine(y, params[..., 3 * self.components :])
        return z, log_derivative + log_scale

    def inverse(self, z: torch.Tensor, params: torch.Tensor) -> torch.Tensor:
        y = z if self.affine is None else self.affine.inverse(z, params[..., 3 * self.components :])
        x = invert_mixture_logit(y, *self._mixture(params), self.iterations)
        self.record_error(x, z, params)
        return x
