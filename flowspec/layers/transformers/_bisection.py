"""Inversion by bisection, shared by every transformer without a closed-form inverse.

``bisect`` halves a bracket ``[lower, upper]`` a fixed number of times with ``torch.where``
(no data-dependent Python branch, static shapes: ``torch.compile(fullgraph=True)`` unrolls
it), then takes :data:`NEWTON_STEPS` Newton steps from the midpoint, each kept inside the
bracket (which every evaluation also narrows): bisection guarantees the bracket, Newton's
quadratic convergence near a simple root brings the error from the bracket's width to the
dtype's resolution (the safeguarded Newton of Press et al., Numerical Recipes, 3rd ed.,
section 9.4). So a few halvings meet a tight tolerance: 8 halvings of a bracket of width 2
left errors of 4e-3, above the default tolerance 1e-4; with the Newton steps they are below
1e-6. The bracket comes from the transformer: for the logit of a mixture of logistic CDFs
(Flow++, NAF's sigmoidal flows) the root lies between the roots of the extreme components,
so no bracket expansion is needed. ``BisectionTransformer`` records the largest error
``|tau(x) - z|`` of its last inverse in the buffer ``last_inverse_error``; the model checks
it after sampling and warns, naming the node, when it exceeds ``inverse_tolerance``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.nn import functional as F

from flowspec.layers.transformers.base import Transformer

__all__ = ["bisect", "BisectionTransformer"]


#: Newton steps after the halvings (each one evaluation of the map and its slope).
NEWTON_STEPS = 3


def bisect(
    fn: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]],
    target: torch.Tensor,
    lower: torch.Tensor,
    upper: torch.Tensor,
    iterations: int,
) -> torch.Tensor:
    """``x`` in ``[lower, upper]`` with ``fn(x)[0] = target`` for an increasing elementwise
    map; ``fn`` returns the map's value and its log-slope ``log d fn / dx``. ``iterations``
    halvings, then :data:`NEWTON_STEPS` Newton steps clamped into the bracket."""
    for _ in range(iterations):
        middle = (lower + upper) / 2
        below = fn(middle)[0] < target
        lower = torch.where(below, middle, lower)
        upper = torch.where(below, upper, middle)
    x = (lower + upper) / 2
    for _ in range(NEWTON_STEPS):
        value, log_slope = fn(x)
        below = value < target
        lower = torch.where(below, x, lower)
        upper = torch.where(below, upper, x)
        step = x - (value - target) * torch.exp(-log_slope)
        x = torch.where(torch.isfinite(step), step, x).clamp(lower, upper)
    return x


class BisectionTransformer(Transformer):
    """A transformer inverted by bisection, reporting the error its last inverse reached."""

    last_inverse_error: torch.Tensor

    def __init__(self, tolerance: float, iterations: int) -> None:
        super().__init__()
        self.inverse_tolerance = tolerance
        self.iterations = iterations
        self.register_buffer("last_inverse_error", torch.zeros(()), persistent=False)

    def record_error(self, x: torch.Tensor, z: torch.Tensor, params: torch.Tensor) -> None:
        """Keep ``max |tau(x) - z|`` (zero for an empty batch) in ``last_inverse_error``."""
        error = (self.forward(x, params)[0] - z).abs().detach().flatten()
        self.last_inverse_error.copy_(F.pad(error, (0, 1)).amax())
