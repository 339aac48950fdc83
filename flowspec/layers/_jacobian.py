"""Per-sample Jacobians by autograd, one backward pass per output feature: what the exact
log-determinant of a residual block and the exact trace of a CNF's dynamics cost."""

from __future__ import annotations

import torch

__all__ = ["batch_jacobian"]


def batch_jacobian(out: torch.Tensor, x: torch.Tensor, create_graph: bool) -> torch.Tensor:
    """``J[b, i, j] = d out[b, i] / d x[b, j]`` for a map acting on each sample separately
    (``out`` and ``x`` of shape ``(batch, D)``, ``x`` in ``out``'s graph)."""
    rows = [
        torch.autograd.grad(out[:, i].sum(), x, create_graph=create_graph, retain_graph=True)[0]
        for i in range(out.shape[1])
    ]
    return torch.stack(rows, dim=1)
