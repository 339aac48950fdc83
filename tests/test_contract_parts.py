"""The contract of every transformer, conditioner and density, checked on their declared
examples (``tests/declared.py``) against the torch modules they build, in float64: what a
transformer says it is (linear, parameters per feature, iterative inverse, volume, its
image) against its map; a conditioner's parameter count, zero start and autoregressive
order (the zero pattern of its Jacobian); a density's samples, scores and total mass.
How each part behaves inside its node is checked with the nodes
(``tests/test_contract_nodes.py``)."""

from __future__ import annotations

import pytest
import torch
from declared import CONDITIONER_PARAMS, Case, cases, coupling_parts, parameter_count
from oracles import in_support, mass_computable, randomize_, total_mass, values_in

from flowspec.core.ports import PortInfo, Support
from flowspec.core.properties import Cost
from flowspec.layers.transformers._bisection import BisectionTransformer
from flowspec.layers.transformers.base import LinearTransformer

BATCH = 3
F64 = torch.float64


def params_of(case: Case) -> list:
    return [pytest.param(c, id=c.id) for c in cases(case)]


def free_parameters(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


# --- transformers ----------------------------------------------------------------------------


def transformer_inputs(case: Case, dtype: torch.dtype = F64):
    """The spec, its module (parameters moved), inputs drawn in the example's support and
    random per-feature parameters (None for a fixed map)."""
    spec = case.spec()
    module = randomize_(spec.build().to(dtype), scale=0.3)
    (port,) = case.example.inputs
    generator = torch.Generator().manual_seed(0)
    x = values_in(port, BATCH, generator, dtype)
    count = spec.params_per_feature()
    shape = (BATCH, *port.shape, count)
    params = 0.5 * torch.randn(shape, generator=generator, dtype=dtype) if count else None
    return spec, module, x, params


@pytest.mark.parametrize("case", params_of("transformer"))
def test_transformer_facts_agree_with_its_module(case: Case) -> None:
    spec, module, x, params = transformer_inputs(case)
    assert spec.linear == isinstance(module, LinearTransformer)
    assert (spec.params_per_feature() > 0) == module.takes_params
    iterative = spec.inverse_cost == Cost.ITERATIVE
    assert iterative == isinstance(module, BisectionTransformer)
    assert iterative == (spec.likelihood_tolerance() is not None)
    assert spec.parameter_count() == free_parameters(module) == parameter_count(case)
    _, log_derivative = module(x, params)
    assert torch.equal(log_derivative, torch.zeros_like(x)) == spec.volume_preserving


@pytest.mark.parametrize("case", params_of("transformer"))
def test_transformer_log_derivative_is_the_autograd_derivative(case: Case) -> None:
    """``log |dz_i/dx_i|`` by autograd, and no ``z_i`` depends on another ``x_j``."""
    _, module, x, params = transformer_inputs(case)
    x = x.requires_grad_()
    z, log_derivative = module(x, params)
    assert z.shape == log_derivative.shape == x.shape
    (derivative,) = torch.autograd.grad(z.sum(), x)
    torch.testing.assert_close(log_derivative, derivative.abs().log(), atol=1e-9, rtol=1e-9)
    row_params = None if params is None else params[0]
    jac = torch.autograd.functional.jacobian(lambda v: module(v, row_params)[0], x[0].detach())
    off_diagonal = jac.reshape(x[0].numel(), -1) * (1 - torch.eye(x[0].numel(), dtype=F64))
    assert torch.equal(off_diagonal, torch.zeros_like(off_diagonal))


@pytest.mark.parametrize("case", params_of("transformer"))
def test_transformer_round_trips_both_ways(case: Case) -> None:
    """``inverse(forward(x)) == x`` on the example's inputs, and ``forward(inverse(z)) == z``
    for ``z`` drawn from the image of the whole domain, the inverse landing in the domain."""
    spec, module, x, params = transformer_inputs(case)
    atol = 1e-7 if spec.inverse_cost == Cost.ITERATIVE else 1e-10
    z, _ = module(x, params)
    torch.testing.assert_close(module.inverse(z, params), x, atol=atol, rtol=0)
    (port,) = case.example.inputs
    image = PortInfo(port.shape, spec.output_support(spec.domain()))
    latent = values_in(image, BATCH, torch.Generator().manual_seed(1))
    back = module.inverse(latent, params)
    assert in_support(back, spec.domain())
    torch.testing.assert_close(module(back, params)[0], latent, atol=atol, rtol=atol)


@pytest.mark.parametrize("case", params_of("transformer"))
def test_transformer_is_strictly_monotone(case: Case) -> None:
    """On a fine grid across the example's support, with each feature's parameters fixed:
    increasing (or, for a negative scale, decreasing) at every step."""
    _, module, _, params = transformer_inputs(case)
    (port,) = case.example.inputs
    low, high = max(port.support.low, -8.0), min(port.support.high, 8.0)
    grid = torch.linspace(low, high, 2003, dtype=F64)[1:-1, None]
    row = None if params is None else params[0, :1].expand(grid.shape[0], -1, -1)
    z, log_derivative = module(grid, row)
    steps = z.diff(dim=0)
    assert (steps > 0).all() or (steps < 0).all()
    assert torch.isfinite(log_derivative).all()


def extremes(support: Support, dtype: torch.dtype) -> torch.Tensor:
    """The values of ``support`` nearest its ends in ``dtype``: the ends themselves where
    closed, one step inside where open, and huge values toward an infinite end."""
    values = []
    for end, inward, closed in (
        (support.low, 1.0, support.closed_low),
        (support.high, -1.0, support.closed_high),
    ):
        if end in (float("inf"), float("-inf")):
            values += [-inward * 1e30, -inward * 40.0]
            continue
        at = torch.tensor(end, dtype=dtype)
        values.append(end if closed else torch.nextafter(at, at + inward).item())
    return torch.tensor(values, dtype=dtype)


@pytest.mark.parametrize("dtype", [F64, torch.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("case", params_of("transformer"))
def test_transformer_keeps_to_its_supports_at_their_ends(case: Case, dtype: torch.dtype) -> None:
    """Inputs at the ends of the example's support map inside the declared image (the
    layers clamp saturating maps into their open images), and values at the ends of the
    image invert inside the domain: in float32 too, where saturation comes early."""
    spec, module = transformer_inputs(case, dtype)[:2]
    (port,) = case.example.inputs
    x = extremes(port.support, dtype)
    count = spec.params_per_feature()
    params = 0.5 * torch.randn(*x.shape, count, dtype=dtype) if count else None
    z, log_derivative = module(x, params)
    assert in_support(z, spec.output_support(port.support)), z
    assert torch.isfinite(log_derivative).all()
    image = spec.output_support(spec.domain())
    latent = extremes(image, dtype)
    params = 0.5 * torch.randn(*latent.shape, count, dtype=dtype) if count else None
    assert in_support(module.inverse(latent, params), spec.domain())


# --- conditioners ----------------------------------------------------------------------------


def conditioner_module(case: Case) -> tuple[torch.nn.Module, torch.Tensor, tuple[int, ...]]:
    """The conditioner built in its example's role, an input for it, and the shape of its
    output (without the batch axis)."""
    spec, example = case.spec(), case.example
    context_shape = example.context.shape if example.context is not None else None
    generator = torch.Generator().manual_seed(0)
    if example.role == "plain":
        inputs, outputs = example.inputs
        module = spec.build(inputs.numel, outputs.numel)
        return module.to(F64), values_in(inputs, BATCH, generator), outputs.shape
    if example.role == "coupling":
        kept, changed = coupling_parts(case)
        module = spec.build_coupling(kept, changed, CONDITIONER_PARAMS, context_shape)
        x = values_in(PortInfo(kept), BATCH, generator)
        return module.to(F64), x, (*changed, CONDITIONER_PARAMS)
    (port,) = example.inputs
    module = spec.build_autoregressive(port.shape, CONDITIONER_PARAMS, context_shape)
    return module.to(F64), values_in(port, BATCH, generator), (*port.shape, CONDITIONER_PARAMS)


def call(module: torch.nn.Module, case: Case, x: torch.Tensor, context: torch.Tensor | None):
    return module(x) if case.example.role == "plain" else module(x, context)


def context_of(case: Case, seed: int = 0) -> torch.Tensor | None:
    port = case.example.context
    return None if port is None else values_in(port, BATCH, torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("case", params_of("conditioner"))
def test_conditioner_plays_its_role_from_zero_with_the_parameters_it_counts(case: Case) -> None:
    """The role is declared, the module holds the parameters the spec counts (torch-free),
    and it starts at zero (so the layer it serves starts at the identity)."""
    assert case.example.role in case.cls.roles
    module, x, shape = conditioner_module(case)
    assert free_parameters(module) == parameter_count(case)
    out = call(module, case, x, context_of(case))
    assert out.shape == (BATCH, *shape)
    assert torch.equal(out, torch.zeros_like(out))


@pytest.mark.parametrize(
    "case",
    [pytest.param(c, id=c.id) for c in cases("conditioner") if c.example.context is not None],
)
def test_conditioner_context_reaches_its_outputs(case: Case) -> None:
    module, x, _ = conditioner_module(case)
    randomize_(module, scale=0.3).eval()
    given = call(module, case, x, context_of(case))
    assert not torch.allclose(given, call(module, case, x, context_of(case, seed=1)))


@pytest.mark.parametrize(
    "case",
    [pytest.param(c, id=c.id) for c in cases("conditioner") if c.example.role == "autoregressive"],
)
def test_autoregressive_conditioner_keeps_its_order(case: Case) -> None:
    """The parameters of feature ``i`` depend on feature ``j`` only when ``j`` comes first
    in the order the conditioner states (``autoregressive_ranks``); every feature with a
    predecessor uses some, and most allowed dependencies are used."""
    module, x, _ = conditioner_module(case)
    randomize_(module, scale=0.3).eval()
    (port,) = case.example.inputs
    features = port.numel
    context = context_of(case)
    row_context = None if context is None else context[:1]
    jac = torch.autograd.functional.jacobian(
        lambda v: module(v.unsqueeze(0), row_context).squeeze(0), x[0]
    )
    nonzero = (jac.reshape(features, CONDITIONER_PARAMS, features) != 0).any(1)
    ranks = torch.tensor(case.spec().autoregressive_ranks(port.shape))
    allowed = ranks[None, :] < ranks[:, None]
    assert not (nonzero & ~allowed).any(), "a feature's parameters see a later feature"
    has_past = allowed.any(1)
    assert nonzero.any(1)[has_past].all()
    assert nonzero.sum() >= 0.75 * allowed.sum()


# --- densities -------------------------------------------------------------------------------


def density_module(case: Case) -> torch.nn.Module:
    example = case.example
    context = example.context.numel if example.context is not None else 0
    module = case.spec().build(example.inputs[0], context).to(F64)
    return randomize_(module, scale=0.3).eval()


@pytest.mark.parametrize("case", params_of("density"))
def test_density_holds_the_parameters_it_counts(case: Case) -> None:
    example = case.example
    context = example.context.numel if example.context is not None else 0
    module = case.spec().build(example.inputs[0], context)
    assert free_parameters(module) == parameter_count(case)


@pytest.mark.parametrize("case", params_of("density"))
def test_density_draws_in_its_support_and_scores_its_draws(case: Case) -> None:
    """Draws have the event's shape and lie in its support; ``sample_and_log_prob``
    scores them as ``log_prob`` does."""
    module = density_module(case)
    (event,) = case.example.inputs
    context = context_of(case)
    n = None if context is not None else BATCH
    torch.manual_seed(0)
    draws = module.sample(context, n)
    assert draws.shape == (BATCH, *event.shape) and in_support(draws, event.support)
    torch.manual_seed(1)
    value, log_prob = module.sample_and_log_prob(context, n)
    assert log_prob.shape == (BATCH,) and torch.isfinite(log_prob).all()
    assert in_support(value, event.support)
    torch.testing.assert_close(log_prob, module.log_prob(value, context), atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize(
    "case",
    [pytest.param(c, id=c.id) for c in cases("density") if mass_computable(c.example.inputs[0])],
)
def test_density_is_normalised(case: Case) -> None:
    """The mass of the density sums to one for one context (see ``oracles.total_mass``)."""
    module = density_module(case)
    (event,) = case.example.inputs
    context = context_of(case)
    rows = None if context is None else context[:1]
    n = 4000 if rows is None else None
    torch.manual_seed(0)
    with torch.no_grad():
        draws = module.sample(None if rows is None else rows.expand(4000, -1), n)

    def log_prob(v: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            given = None if rows is None else rows.expand(v.shape[0], -1)
            return module.log_prob(v.reshape(v.shape[0], *event.shape), given)

    assert total_mass(log_prob, event, draws) == pytest.approx(1.0, abs=2e-3)
