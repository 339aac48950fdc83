"""The batch-norm bijection (``batch_norm``, Dinh et al. 2016): its log-det against autograd
in float64 in training mode (at the batch's statistics) and in evaluation mode (at the
running ones), the running averages it keeps, and an evaluation-mode density that integrates
to one and does not depend on the batch."""

from __future__ import annotations

import copy

import torch
from oracles import grid_mass_2d

import flowspec
from flowspec.graph.memory import memory_plan
from flowspec.layers.batch_norm import BatchNorm

F64 = torch.float64
SPEC = """
flowspec: "1"
name: batch-norm-2d
inputs:
  x: {shape: [2]}
nodes:
  norm: {kind: batch_norm, momentum: 0.5, in: x}
  prior: {kind: standard_normal, in: norm}
"""


def per_example_log_det(layer: BatchNorm, x: torch.Tensor) -> torch.Tensor:
    """log|det| of each example's map through ``layer`` (in evaluation mode), by autograd."""
    rows = []
    for row in x:
        jacobian = torch.autograd.functional.jacobian(
            lambda v: layer(v.view(1, *x.shape[1:]))[0].flatten(), row
        )
        rows.append(torch.linalg.slogdet(jacobian.reshape(row.numel(), row.numel()))[1])
    return torch.stack(rows)


def image_batch() -> torch.Tensor:
    generator = torch.Generator().manual_seed(0)
    return 3.0 + 2.0 * torch.randn(4, 2, 3, 3, generator=generator, dtype=F64)


def test_training_log_det_is_autograds_at_the_batch_statistics() -> None:
    x = image_batch()
    layer = BatchNorm(2, 3, 9, eps=1e-5, momentum=0.1).to(F64).train()
    z, contribution = layer(x)
    # The same map with the batch's statistics as running ones, differentiated by autograd.
    at_batch = copy.deepcopy(layer).eval()
    var, mean = torch.var_mean(x, dim=[0, 2, 3], correction=0)
    at_batch.running_mean.copy_(mean)
    at_batch.running_var.copy_(var)
    torch.testing.assert_close(z, at_batch(x)[0], atol=1e-12, rtol=0)
    torch.testing.assert_close(contribution, per_example_log_det(at_batch, x), atol=1e-9, rtol=0)
    # The batch comes out standardised; the running averages moved a tenth of the way.
    torch.testing.assert_close(z.mean(dim=[0, 2, 3]), torch.zeros(2, dtype=F64), atol=1e-12, rtol=0)
    torch.testing.assert_close(layer.running_mean, 0.1 * mean, atol=1e-12, rtol=0)
    torch.testing.assert_close(layer.running_var, 0.9 + 0.1 * var, atol=1e-12, rtol=0)


def test_evaluation_log_det_is_autograds_and_the_inverse_undoes_it() -> None:
    x = image_batch()
    layer = BatchNorm(2, 3, 9, momentum=1.0).to(F64).train()
    layer(x)  # momentum 1: the running statistics become this batch's
    trained = layer.running_mean.clone(), layer.running_var.clone()
    layer.eval()
    z, contribution = layer(x)
    torch.testing.assert_close(contribution, per_example_log_det(layer, x), atol=1e-9, rtol=0)
    torch.testing.assert_close(layer.inverse(z), x, atol=1e-12, rtol=0)
    assert torch.equal(layer.running_mean, trained[0]) and torch.equal(
        layer.running_var, trained[1]
    )


def test_evaluation_density_is_normalised_and_ignores_the_batch() -> None:
    model = flowspec.compile(SPEC).double()
    generator = torch.Generator().manual_seed(1)
    data = torch.tensor([4.0, -2.0], dtype=F64) + torch.tensor([3.0, 0.5], dtype=F64) * torch.randn(
        64, 2, generator=generator, dtype=F64
    )
    model.train()
    before = model.log_prob(data[:2]).detach()
    model.log_prob(data)  # training batches move the running statistics
    model.eval()
    buffers = [b.clone() for b in model.buffers()]
    with torch.no_grad():
        first = model.log_prob(data)
        alone = model.log_prob(data[:1])
        torch.testing.assert_close(model.log_prob(data[:2]), first[:2], atol=1e-12, rtol=0)
    assert not torch.allclose(before, first[:2])  # the running statistics did move
    assert all(torch.equal(a, b) for a, b in zip(buffers, model.buffers(), strict=True))
    torch.testing.assert_close(alone, first[:1], atol=1e-12, rtol=0)
    assert abs(grid_mass_2d(model.log_prob, limit=20.0) - 1.0) < 1e-3


def test_memory_options_keep_or_recompute_it_never_rebuild_it() -> None:
    """Its inverse undoes the evaluation map only, so a training pass cannot be rebuilt."""
    graph = flowspec.check(SPEC).graph
    for memory, treatment in (("invertible", "stored"), ("checkpoint", "checkpointed")):
        (segment,) = [s for s in memory_plan(graph, memory) if "norm" in s.nodes]
        assert segment.treatment == treatment
        assert "batch statistics" in segment.reason
