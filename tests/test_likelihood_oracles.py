"""Likelihood oracles beyond the bundled specs: a bound never exceeds the exact value it
bounds, importance weighting closes the gap, and a slice keeps the density normalized."""

import math

import torch
from oracles import randomize_

import flowspec

AUGMENTED_1D = """
flowspec: "1"
name: augmented-1d
inputs:
  x: {shape: [1]}
blocks:
  step:
    - {kind: affine_coupling, net: {hidden: [16]}}
    - {kind: reverse}
nodes:
  pad: {kind: augment, extra: 1, in: x, encoder: {net: {hidden: [16]}}}
  body: {block: step, repeat: 3, in: pad}
  prior: {kind: standard_normal, in: body}
"""

SLICED_2D = """
flowspec: "1"
name: sliced-2d
inputs:
  x: {shape: [2]}
blocks:
  step:
    - {kind: affine_coupling, net: {hidden: [16]}}
    - {kind: reverse}
nodes:
  body: {block: step, repeat: 2, in: x}
  drop: {kind: slice, keep: 1, in: body, decoder: {net: {hidden: [16]}}}
  tail: {kind: elementwise, fn: scale_shift, scale: 1.5, shift: 0.2, in: drop}
  prior: {kind: diagonal_normal, in: tail}
"""


def joint_log_density(checked, model, x: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
    """log p(x, e) of the flow after the augment node, for given x and e."""
    h = torch.cat([x, e], dim=1)
    total = torch.zeros(len(h), dtype=h.dtype)
    for node in checked.graph.layers[1:]:
        layer = model.nodes[node.id]
        if node.spec.terminal:
            total = total + layer(h)
        else:
            h, contribution = layer(h)
            total = total + contribution
    return total


def test_augmented_bound_stays_below_the_exact_marginal_and_iwbo_closes_the_gap():
    """For a 1-D input augmented by one dimension, compute by quadrature over e both the
    exact log p(x) = log int p(x, e) de and the exact ELBO E_q[log p(x, e) - log q(e|x)];
    the ELBO is below log p(x) (their gap is a KL divergence), the model's one-sample
    log_prob estimates the ELBO, and the importance-weighted bound approaches log p(x)."""
    torch.manual_seed(0)
    checked = flowspec.check(AUGMENTED_1D)
    model = checked.build_model().double()
    for node in checked.graph.layers[1:]:
        randomize_(model.nodes[node.id], scale=0.1, seed=1)
    model.eval()
    x = torch.tensor([[-1.0], [0.3], [1.7]], dtype=torch.float64)
    grid = torch.linspace(-20, 20, 8001, dtype=torch.float64).unsqueeze(1)
    step = (grid[1] - grid[0]).item()
    encoder = model.nodes["pad"].encoder
    exact, elbo = [], []
    with torch.no_grad():
        for row in x:
            joint = joint_log_density(checked, model, row.expand(len(grid), 1), grid)
            mean, scale = encoder.params(row.unsqueeze(0))
            log_q = torch.distributions.Normal(mean, scale).log_prob(grid).squeeze(1)
            exact.append(torch.logsumexp(joint, 0) + math.log(step))
            elbo.append((log_q.exp() * (joint - log_q)).sum() * step)
        exact, elbo = torch.stack(exact), torch.stack(elbo)
        torch.manual_seed(1)
        draws = model.log_prob(x.repeat(20000, 1)).view(20000, 3)
        iwbo = torch.stack([model.iwbo(x, k=2000) for _ in range(5)]).mean(0)
    assert (elbo < exact - 0.05).all(), (elbo, exact)
    standard_error = draws.std(0) / math.sqrt(len(draws))
    assert ((draws.mean(0) - elbo).abs() < 4 * standard_error).all(), (draws.mean(0), elbo)
    assert ((exact - iwbo).abs() < 0.25 * (exact - elbo)).all(), (iwbo, elbo, exact)


def test_a_slice_keeps_the_density_normalized():
    torch.manual_seed(0)
    model = flowspec.compile(SLICED_2D).double()
    randomize_(model, scale=0.2)
    assert model.likelihood == "exact"
    model.eval()
    axis = torch.linspace(-10, 10, 500, dtype=torch.float64)
    grid = torch.cartesian_prod(axis, axis)
    with torch.no_grad():
        mass = model.log_prob(grid).exp().sum() * (axis[1] - axis[0]) ** 2
    assert abs(mass.item() - 1.0) < 0.01
