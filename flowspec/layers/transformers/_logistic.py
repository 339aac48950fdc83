"""The logit of a mixture of logistic CDFs: Flow++'s transformer and NAF's sigmoidal layer.

``y = logit(sum_k w_k sigmoid((x - mu_k) / s_k))`` (Ho et al. 2019, Flow++,
arXiv:1902.00275; Huang et al. 2018, NAF's deep sigmoidal flow ``sigma^-1(w^T sigma(a x +
b))`` with ``mu = -b / a``, ``s = 1 / a``, arXiv:1804.00779). Everything is computed in
log space (``logsigmoid`` and ``logsumexp``), so it stays finite far in the tails.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F

from flowspec.layers.transformers._bisection import bisect

__all__ = ["mixture_logit", "invert_mixture_logit"]


def mixture_logit(
    x: torch.Tensor, log_weights: torch.Tensor, loc: torch.Tensor, log_scale: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(y, log dy/dx)``; the mixture parameters carry the components on a last axis,
    ``log_weights`` normalised (``logsumexp = 0``)."""
    u = (x.unsqueeze(-1) - loc) * torch.exp(-log_scale)
    log_cdf = torch.logsumexp(log_weights + F.logsigmoid(u), dim=-1)
    log_survival = torch.logsumexp(log_weights + F.logsigmoid(-u), dim=-1)
    log_pdf = torch.logsumexp(log_weights + F.logsigmoid(u) + F.logsigmoid(-u) - log_scale, dim=-1)
    # dy/dx = f / F + f / (1 - F) = f / (F (1 - F)).
    return log_cdf - log_survival, log_pdf - log_cdf - log_survival


def invert_mixture_logit(
    y: torch.Tensor,
    log_weights: torch.Tensor,
    loc: torch.Tensor,
    log_scale: torch.Tensor,
    iterations: int,
) -> torch.Tensor:
    """``x`` with ``mixture_logit(x) = y``, by bisection and Newton steps. The bracket is analytic: the
    mixture CDF lies between its components', so ``x`` lies between the components' own
    solutions ``mu_k + s_k y``."""
    roots = loc + torch.exp(log_scale) * y.unsqueeze(-1)
    return bisect(
        lambda v: mixture_logit(v, log_weights, loc, log_scale),
        y,
        roots.amin(-1),
        roots.amax(-1),
        iterations,
    )
