"""Conditional residual blocks and CNFs: the context as an input of their networks (issue 17).

A residual block's ``g(x; c)`` adds a free linear map of ``c`` to its first spectrally
normalised layer, so it stays a contraction in ``x`` for every context (Behrmann et al.
2019); a CNF's field is ``f(t, y; c)`` (Grathwohl et al. 2019). Their log-dets against
autograd in float64 and their round trips are the node contract's (the kinds'
'conditional' examples, ``tests/test_contract_nodes.py``); here: one normalised density per
context, the Lipschitz bound under huge contexts, and the error for a non-flat context.
"""

from __future__ import annotations

import pytest
import torch
from oracles import grid_mass_2d, make_node, randomize_

import flowspec
from flowspec.layers._jacobian import batch_jacobian

RESIDUAL = {
    "kind": "residual",
    "net": {"kind": "mlp", "hidden": [8], "activation": "elu"},
    "lipschitz": 0.9,
    "logdet": "exact",
}
RESIDUAL_CONV = {
    "kind": "residual",
    "net": {"kind": "conv", "channels": 3, "kernels": [3, 3], "activation": "elu"},
    "lipschitz": 0.9,
    "logdet": "exact",
}
CNF = {
    "kind": "cnf",
    "net": {"kind": "mlp", "hidden": [8], "activation": "tanh"},
    "trace": "exact",
    "solver": {"rtol": 1e-6, "atol": 1e-6},
}


@pytest.mark.parametrize("spec", [RESIDUAL, CNF], ids=["residual", "cnf"])
def test_each_context_gives_a_density_that_integrates_to_one(spec: dict) -> None:
    """log p(x | c) = log N(f(x; c); 0, I) + log|det df/dx| integrates to one over a 2-D
    grid (60x60 midpoint rule on [-7, 7]^2) for each of two contexts, which give two
    different densities."""
    torch.manual_seed(0)
    _, layer, _ = make_node(spec, (2,), context=(3,))
    randomize_(layer, scale=0.5)
    if spec["kind"] == "residual":
        layer.net.refresh()
    normal = torch.distributions.Normal(torch.tensor(0.0, dtype=torch.float64), 1.0)
    at_origin = []
    for c in (torch.tensor([[3.0, -2.0, 1.0]]), torch.tensor([[-1.0, 0.5, 4.0]])):

        def log_prob(x: torch.Tensor, c: torch.Tensor = c) -> torch.Tensor:
            z, contribution = layer(x, context=c.double().expand(len(x), -1))
            return normal.log_prob(z).sum(1) + contribution

        assert grid_mass_2d(log_prob, limit=7.0, n=60) == pytest.approx(1.0, abs=5e-3)
        at_origin.append(log_prob(torch.zeros(1, 2, dtype=torch.float64)))
    assert not torch.allclose(at_origin[0], at_origin[1])


@pytest.mark.parametrize(
    ("spec", "shape"), [(RESIDUAL, (2,)), (RESIDUAL_CONV, (1, 2, 2))], ids=["mlp", "conv"]
)
def test_the_residual_branch_is_a_contraction_in_x_under_huge_contexts(
    spec: dict, shape: tuple[int, ...]
) -> None:
    """The spectral norm of dg/dx is at most lipschitz (0.9) for contexts of scale 1e3,
    although the context's map is free (and made large here)."""
    torch.manual_seed(0)
    _, layer, _ = make_node(spec, shape, context=(3,))
    randomize_(layer, scale=5.0)
    layer.net.refresh(200)
    features = torch.Size(shape).numel()
    x = torch.randn(16, features, dtype=torch.float64, requires_grad=True)
    c = 1e3 * torch.randn(16, 3, dtype=torch.float64)
    gx = layer.net(x, c)
    assert gx.abs().max() > 10  # the context moves g: it is not ignored
    norms = torch.linalg.matrix_norm(batch_jacobian(gx, x, False), ord=2)
    assert (norms <= 0.9 + 1e-6).all()


@pytest.mark.parametrize("kind", ["residual", "cnf"])
def test_a_context_that_is_not_flat_is_a_located_error(kind: str) -> None:
    text = f"""\
flowspec: "1"
name: conditional
inputs:
  x: {{shape: [2]}}
  c: {{shape: [1, 2, 2], context: true}}
nodes:
  flow: {{kind: {kind}, in: x, context: c}}
  prior: {{kind: standard_normal, in: flow}}
"""
    with pytest.raises(flowspec.SpecError) as raised:
        flowspec.check(text)
    (error,) = [d for d in raised.value.diagnostics if d.severity == "error"]
    assert (error.code, error.node, error.location.line) == ("E406", "flow", 7)
    assert "flat" in error.message and "[1, 2, 2]" in error.message


@pytest.mark.parametrize("context", [None, (3,)], ids=["unconditional", "conditional"])
def test_the_adjoint_gives_the_gradients_of_the_direct_solve(context: tuple | None) -> None:
    """With adjoint: true the gradients of a CNF's output and log-det reach the parameters,
    the input and the context, equal to backpropagation through the solver (float64,
    tolerance 1e-9), also when the input already requires grad (a layer before it)."""
    gradients = []
    for adjoint in (True, False):
        torch.manual_seed(0)
        spec = {**CNF, "adjoint": adjoint, "solver": {"rtol": 1e-9, "atol": 1e-9}}
        _, layer, _ = make_node(spec, (2,), context=context)
        randomize_(layer)
        generator = torch.Generator().manual_seed(1)
        x = torch.randn(4, 2, dtype=torch.float64, generator=generator).requires_grad_()
        c = None if context is None else torch.randn(4, 3, dtype=torch.float64).requires_grad_()
        z, contribution = layer(x, context=c)
        (z.pow(2).sum() + contribution.sum()).backward()
        leaves = [*layer.parameters(), x, *([] if c is None else [c])]
        gradients.append([leaf.grad for leaf in leaves])
    for adjoint_gradient, direct_gradient in zip(*gradients, strict=True):
        torch.testing.assert_close(adjoint_gradient, direct_gradient, atol=1e-6, rtol=1e-6)
