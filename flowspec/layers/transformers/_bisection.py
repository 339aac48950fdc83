"""Inversion by bisection, shared by every transformer without a closed-form inverse.

``bisect`` halves a bracket ``[lower, upper]`` a fixed number of times with ``torch.where``
(no data-dependent Python branch, static shapes: ``torch.compile(fullgraph=True)`` unrolls
it). The bracket comes from the transformer: for the logit of a mixture of logistic CDFs
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


def bisect(
    fn: Callable[[torch.Tensor], torch.Tensor],
    target: torch.Tensor,
    lower: torch.Tensor,
    upper: torch.Tensor,
    iterations: int,
) -> torch.Tensor:
    """``x`` in ``[lower, upper]`` with ``fn(x) = target`` for an increasing elementwise
    ``fn``, to within ``(upper - lower) / 2 ** (iterations + 1)``."""
    for _ in range(iterations):
        middle = (lower + upper) / 2
        below = fn(middle) < target
        lower = torch.where(below, middle, lower)
        upper = torch.where(below, upper, middle)
    return (lower + upper) / 2


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
