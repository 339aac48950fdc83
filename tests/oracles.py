"""Independent checks that node kinds are tested against: autograd Jacobians in float64,
grid integrals of densities, random valid specs."""

from __future__ import annotations

import itertools
import math
from typing import Any

import torch
from torch.func import jacrev

from flowspec.core.node import NodeCheck, NodeSpec
from flowspec.core.ports import PortInfo, Support
from flowspec.core.registry import node_kinds
from flowspec.diagnostics import Reporter

__all__ = [
    "values_in",
    "in_support",
    "mass_computable",
    "total_mass",
    "make_node",
    "infer_node",
    "run_checks",
    "autograd_logdet",
    "assert_logdet_matches",
    "randomize_",
    "grid_mass_2d",
]


def values_in(
    info: PortInfo, batch: int, generator: torch.Generator, dtype: torch.dtype = torch.float64
) -> torch.Tensor:
    """``batch`` values of ``info``'s shape drawn inside its support: integers for discrete
    supports, values strictly inside an interval (and exactly at each closed end, which
    the support says may occur), normal draws on the real line."""
    shape = (batch, *info.shape)
    support = info.support
    if support.levels is not None:
        return torch.randint(0, support.levels, shape, generator=generator).to(dtype)
    if support.integers:
        return torch.randint(-4, 5, shape, generator=generator).to(dtype)
    normal = torch.randn(shape, generator=generator, dtype=dtype)
    if support.sorted_by is not None:  # the layout a sort leaves: ascending in one coordinate
        return sorted_rows(2 * normal, support.sorted_by)
    low, high = support.low, support.high
    if math.isinf(low) and math.isinf(high):
        return 2 * normal
    if math.isinf(high):
        values = low + torch.exp(normal)
    elif math.isinf(low):
        values = high - torch.exp(normal)
    else:
        values = low + (high - low) * (
            0.02 + 0.96 * torch.rand(shape, generator=generator, dtype=dtype)
        )
    flat = values.view(batch, -1)
    if support.closed_low:
        flat[0, 0] = low
    if support.closed_high:
        flat[-1, -1] = high
    return values


def sorted_rows(values: torch.Tensor, by: int) -> torch.Tensor:
    """Each example's set ``[N]`` sorted ascending, or its points ``[N, d]`` ordered by
    coordinate ``by``."""
    if values.dim() == 2:
        return values.sort(dim=1).values
    order = values[..., by].argsort(dim=1)
    return values.gather(1, order.unsqueeze(-1).expand_as(values))


def in_support(values: torch.Tensor, support: Support) -> bool:
    """Whether every value lies in ``support``, minding its open and closed ends (a value
    at an open end, or an infinite one, is outside)."""
    if not bool(torch.isfinite(values).all()):
        return False
    if support.discrete:
        integral = bool((values == values.round()).all())
        if support.levels is None:
            return integral
        return integral and bool(((values >= 0) & (values <= support.levels - 1)).all())
    above = values >= support.low if support.closed_low else values > support.low
    below = values <= support.high if support.closed_high else values < support.high
    return bool((above & below).all())


def mass_computable(info: PortInfo) -> bool:
    """Whether :func:`total_mass` can sum a density over ``info``'s values: a finite discrete
    event of at most 4096 values, one unbounded integer, or one or two reals."""
    support = info.support
    if support.levels is not None:
        return support.levels**info.numel <= 4096
    return info.numel == 1 if support.integers else info.numel <= 2


def total_mass(log_prob, info: PortInfo, draws: torch.Tensor) -> float:
    """The total mass of ``exp(log_prob)`` over the values of ``info`` (flat rows in, one
    log-density per row out): the sum over every value of a finite discrete event, over
    ``-200 .. 200`` for one unbounded integer, or the midpoint rule on a grid reaching
    half again past the farthest of ``draws`` (samples of the density) for one or two
    reals."""
    support = info.support
    if support.levels is not None:
        values = itertools.product(range(support.levels), repeat=info.numel)
        return log_prob(torch.tensor(list(values), dtype=torch.float64)).exp().sum().item()
    if support.integers:
        return log_prob(torch.arange(-200, 201, dtype=torch.float64)[:, None]).exp().sum().item()
    limit = max(12.0, 1.5 * draws.abs().max().item())
    if info.numel == 2:
        return grid_mass_2d(log_prob, limit=limit, n=600)
    step = 2 * limit / 40000
    grid = torch.linspace(-limit + step / 2, limit - step / 2, 40000, dtype=torch.float64)
    return log_prob(grid[:, None]).exp().sum().item() * step


def make_node(
    spec: dict[str, Any],
    *shapes: tuple[int, ...],
    support: Support | None = None,
    context: tuple[int, ...] | None = None,
    dtype: torch.dtype = torch.float64,
) -> tuple[NodeSpec, torch.nn.Module, tuple[PortInfo, ...]]:
    """Validate a node spec, run its shape rule (asserting no errors) and build its module."""
    node = node_kinds()[spec["kind"]].model_validate(spec)
    inputs = tuple(PortInfo(tuple(s), support or Support()) for s in shapes)
    ctx = PortInfo(tuple(context)) if context is not None else None
    reporter = Reporter()
    outputs = run_checks(node, inputs, ctx, NodeCheck(reporter, "node", ("nodes", "node")))
    assert not reporter.has_errors, [d.format() for d in reporter.diagnostics]
    assert outputs is not None
    return node, node.build(inputs, ctx).to(dtype), outputs


def infer_node(
    spec: dict[str, Any], *shapes: tuple[int, ...], support: Support | None = None
) -> tuple[tuple[PortInfo, ...] | None, Reporter]:
    """Run only the shape rule; return the outputs and the reporter to inspect diagnostics."""
    node = node_kinds()[spec["kind"]].model_validate(spec)
    inputs = tuple(PortInfo(tuple(s), support or Support()) for s in shapes)
    reporter = Reporter()
    outputs = run_checks(node, inputs, None, NodeCheck(reporter, "node", ("nodes", "node")))
    return outputs, reporter


def run_checks(
    node: NodeSpec, inputs: tuple[PortInfo, ...], context: PortInfo | None, check: NodeCheck
) -> tuple[PortInfo, ...] | None:
    """What the compiler does for one node: the settings checks, then (if they pass) the
    shape rule."""
    node.check_static(check)
    return None if check.errors else node.infer(inputs, context, check)


def autograd_logdet(fn, x: torch.Tensor) -> torch.Tensor:
    """log|det dz/dx| per sample, from the full autograd Jacobian of a single-sample map.

    ``fn`` maps a batch ``(B, *event)`` to a batch ``(B, *event')`` with the same number of
    elements per sample; each sample's Jacobian is computed separately.
    """
    results = []
    for row in x:
        jac = jacrev(lambda v: fn(v.unsqueeze(0)).squeeze(0))(row)
        n = row.numel()
        results.append(torch.linalg.slogdet(jac.reshape(n, n))[1])
    return torch.stack(results)


def assert_logdet_matches(layer: torch.nn.Module, x: torch.Tensor, atol: float = 1e-8) -> None:
    """The layer's contribution equals log|det| of its autograd Jacobian (float64)."""
    layer.eval()
    _, contribution = layer(x)
    expected = autograd_logdet(lambda v: layer(v)[0], x)
    torch.testing.assert_close(contribution, expected, atol=atol, rtol=1e-7)


def randomize_(module: torch.nn.Module, scale: float = 0.5, seed: int = 0) -> torch.nn.Module:
    """Move every parameter away from its (often identity) initialisation, so that tests
    exercise a non-trivial map."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.add_(scale * torch.randn(p.shape, generator=generator, dtype=p.dtype))
    return module


def grid_mass_2d(log_prob, limit: float = 12.0, n: int = 400) -> float:
    """The integral of exp(log_prob) over [-limit, limit]^2 by the midpoint rule (float64)."""
    step = 2 * limit / n
    axis = torch.linspace(-limit + step / 2, limit - step / 2, n, dtype=torch.float64)
    grid = torch.cartesian_prod(axis, axis)
    with torch.no_grad():
        density = torch.cat([log_prob(chunk).exp() for chunk in grid.split(40_000)])
    return density.sum().item() * step**2
