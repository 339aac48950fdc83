"""flowspec's own Dormand-Prince solve (the CNF's generation without gradients): the linear
ODE's closed form exp(tA) y0 and torchdiffeq's dopri5 reached to the tolerance, forwards
and backwards in time, for every first-step rule; a CNF's sampling solve agreeing with
torchdiffeq's and inverting log_prob's inference solve; a non-finite field an error."""

import pytest
import torch
import torchdiffeq
from oracles import make_node, randomize_

from flowspec.layers._dopri5 import dopri5

TOLERANCE = {"rtol": 1e-7, "atol": 1e-9}
GENERATOR = torch.Generator().manual_seed(0)
A = torch.randn(3, 3, generator=GENERATOR, dtype=torch.float64)
Y0 = torch.randn(5, 3, generator=GENERATOR, dtype=torch.float64)


def linear(t: float, y: torch.Tensor) -> torch.Tensor:
    return y @ A.T


@pytest.mark.parametrize("first_step", [1.0, None, 0.05])
@pytest.mark.parametrize(("start", "end"), [(0.0, 1.0), (1.0, 0.0)])
def test_linear_ode_matches_its_closed_form_and_torchdiffeq(first_step, start, end):
    exact = Y0 @ torch.linalg.matrix_exp((end - start) * A).T
    ours = dopri5(linear, Y0, start, end, **TOLERANCE, first_step=first_step)
    times = torch.tensor([start, end], dtype=torch.float64)
    options = {} if first_step is None else {"first_step": first_step}
    theirs = torchdiffeq.odeint(linear, Y0, times, method="dopri5", options=options, **TOLERANCE)
    torch.testing.assert_close(ours, exact, rtol=0, atol=1e-6)
    torch.testing.assert_close(ours, theirs[-1], rtol=0, atol=1e-6)
    loose = dopri5(linear, Y0, start, end, rtol=1e-3, atol=1e-3, first_step=first_step)
    assert (loose - exact).abs().max() > (ours - exact).abs().max()


def cnf(first_step: str, context: tuple[int, ...] | None = None) -> torch.nn.Module:
    spec = {
        "kind": "cnf",
        "net": {"kind": "mlp", "hidden": [16], "activation": "tanh"},
        "trace": "exact",
        "solver": {"rtol": 1e-8, "atol": 1e-8, "first_step": first_step},
        **({} if context is None else {"context": "c"}),
    }
    _, layer, _ = make_node(spec, (2,), context=context)
    return randomize_(layer, scale=0.5)


@pytest.mark.parametrize("first_step", ["whole", "estimate"])
def test_sampling_solve_agrees_with_torchdiffeq_and_inverts_inference(first_step, monkeypatch):
    layer = cnf(first_step)
    x = torch.randn(6, 2, generator=GENERATOR, dtype=torch.float64)
    z, _ = layer(x)
    theirs = layer.inverse(z)  # with gradients: torchdiffeq
    with torch.no_grad(), monkeypatch.context() as patch:
        patch.setattr(torchdiffeq, "odeint", None)  # the no-grad solve is flowspec's own
        ours = layer.inverse(z.detach())
    torch.testing.assert_close(ours, theirs.detach(), rtol=0, atol=1e-6)
    torch.testing.assert_close(ours, x, rtol=0, atol=1e-6)


def test_conditional_sampling_solve_agrees_with_torchdiffeq():
    layer = cnf("whole", context=(3,))
    z = torch.randn(4, 2, generator=GENERATOR, dtype=torch.float64)
    c = torch.randn(4, 3, generator=GENERATOR, dtype=torch.float64)
    theirs = layer.inverse(z, c)
    with torch.no_grad():
        ours = layer.inverse(z, c)
    torch.testing.assert_close(ours, theirs.detach(), rtol=0, atol=1e-6)


def test_a_non_finite_field_is_an_error():
    with pytest.raises(RuntimeError, match="non-finite"):
        dopri5(lambda t, y: y / 0 * 0, Y0, 0.0, 1.0, rtol=1e-5, atol=1e-5, first_step=1.0)
