"""Residual flows and CNFs on images: the convolutional residual branch's log-det against
autograd in float64 and its fixed-point inverse, its estimators on images, the Lipschitz
bound measured on the materialised convolution matrix after training steps, FFJORD's
convolutional field against the Jacobian of the solved map, and located errors."""

import math

import pytest
import torch
from oracles import make_node, randomize_
from torch.nn import functional as F

import flowspec
from flowspec.diagnostics import SpecError

SHAPE = (1, 4, 4)
X = torch.randn(3, *SHAPE, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
CONV = {"kind": "conv", "channels": 3, "kernels": [3, 1, 3], "activation": "lipswish"}


def residual(**settings):
    torch.manual_seed(0)  # the initial weights and power-iteration vectors
    spec = {"kind": "residual", "net": CONV, "inverse": {"tol": 1e-12, "max_iter": 500}}
    _, layer, _ = make_node({**spec, **settings}, SHAPE)
    return layer


def conv_matrix(weight: torch.Tensor, shape: tuple[int, int, int]) -> torch.Tensor:
    """The convolution ('same' padding) on images of ``shape`` as a dense matrix."""
    c, h, w = shape
    basis = torch.eye(c * h * w, dtype=weight.dtype).view(-1, c, h, w)
    return F.conv2d(basis, weight, padding=weight.shape[-1] // 2).flatten(1).T


def test_conv_residual_logdet_matches_autograd_and_inverts():
    layer = residual(logdet="exact", net={**CONV, "preact": True})
    randomize_(layer, scale=1.0)
    layer.net.refresh(500)
    x = X[:2]
    z, contribution = layer(x)
    assert z.shape == x.shape
    jacobians = [
        torch.autograd.functional.jacobian(lambda v: v + layer.net(v.unsqueeze(0))[0], row)
        for row in x.flatten(1)
    ]
    torch.testing.assert_close(z.flatten(1), x.flatten(1) + layer.net(x.flatten(1)))
    torch.testing.assert_close(
        contribution, torch.linalg.slogdet(torch.stack(jacobians))[1], atol=1e-10, rtol=0
    )
    lip = 0.9**3  # three convolutions, each scaled to at most 0.9; LipSwish is 1-Lipschitz
    assert (layer.inverse(z) - x).abs().max() <= 1e-12 / (1 - lip)


def test_conv_spectral_norm_is_the_operator_norm_not_the_kernel_norm():
    layer = residual()
    randomize_(layer, scale=1.0)
    layer.net.refresh(500)
    shapes = [(1, 4, 4), (3, 4, 4), (3, 4, 4)]
    for (weight, _), raw, shape in zip(layer.net.weights(), layer.net.linears, shapes, strict=True):
        operator = torch.linalg.matrix_norm(conv_matrix(weight.detach(), shape), ord=2)
        kernel = torch.linalg.matrix_norm(weight.detach().flatten(1), ord=2)
        assert operator == pytest.approx(0.9, rel=1e-3)
        if weight.shape[-1] > 1:  # a 1x1 convolution's operator is its kernel matrix
            assert abs(kernel - operator) > 1e-3  # normalising the kernel would differ
        assert torch.linalg.matrix_norm(conv_matrix(raw.weight.detach(), shape), ord=2) > 0.9


def test_lipschitz_bound_holds_after_training_steps():
    torch.manual_seed(0)
    layer = residual(logdet="series", terms=2).float()
    optimizer = torch.optim.Adam(layer.parameters(), lr=0.01)
    x = torch.randn(16, *SHAPE)
    shapes = [(1, 4, 4), (3, 4, 4), (3, 4, 4)]
    for _ in range(8):
        z, contribution = layer(x)
        loss = (0.5 * z.flatten(1).pow(2).sum(1) - contribution).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        for (weight, _), shape in zip(layer.net.weights(), shapes, strict=True):
            norm = torch.linalg.matrix_norm(conv_matrix(weight.detach(), shape), ord=2)
            assert norm <= 0.9 * 1.05  # the estimate lags the weights by one step
    layer.net.refresh(300)
    for (weight, _), shape in zip(layer.net.weights(), shapes, strict=True):
        assert torch.linalg.matrix_norm(conv_matrix(weight.detach(), shape), ord=2) <= 0.9 * (
            1 + 1e-4
        )


@pytest.mark.parametrize("logdet", ["series", "roulette"])
def test_estimators_on_images_centre_on_their_target(logdet):
    """Roulette is unbiased for log det(I + J); the series for its first ``terms`` terms
    (here 6, whose truncation is far below the test's resolution at Lip(g) = 0.5)."""
    layer = residual(logdet=logdet, terms=6, lipschitz=0.5)
    randomize_(layer, scale=1.0)
    layer.net.refresh(300)
    exact = residual(logdet="exact", lipschitz=0.5)
    exact.load_state_dict(layer.state_dict())
    target = exact(X[:1])[1]
    torch.manual_seed(0)
    with torch.no_grad():
        estimates = layer(X[:1].repeat(2000, 1, 1, 1))[1]
    sd_mean = estimates.std() / math.sqrt(len(estimates))
    assert abs(estimates.mean() - target) < 4 * sd_mean + 1e-4


def test_conv_cnf_exact_trace_matches_the_jacobian_and_inverts():
    spec = {
        "kind": "cnf",
        "net": {"kind": "conv", "channels": [3], "activation": "softplus"},
        "trace": "exact",
        "solver": {"method": "rk4", "step_size": 0.1},
    }
    _, layer, _ = make_node(spec, (1, 2, 2))
    randomize_(layer, scale=0.3)
    x = X[:2, :, :2, :2]
    z, contribution = layer(x)
    jacobians = [
        torch.autograd.functional.jacobian(lambda v: layer(v.view(1, 1, 2, 2))[0].flatten(), r)
        for r in x.flatten(1)
    ]
    torch.testing.assert_close(
        contribution, torch.linalg.slogdet(torch.stack(jacobians))[1], atol=1e-6, rtol=0
    )
    assert (layer.inverse(z) - x).abs().max() < 1e-5  # rk4 both ways, no error control


SPEC = """flowspec: "1"
name: bad
inputs:
  x: {{shape: {shape}}}
nodes:
  flow: {{kind: {kind}, in: x, {setting}}}
  prior: {{kind: standard_normal, in: flow}}
"""


@pytest.mark.parametrize(
    ("kind", "setting", "shape", "code", "field"),
    [
        ("residual", "net: {kind: conv}", "[16]", "E761", "kind"),
        ("cnf", "net: {kind: conv}", "[4, 4]", "E761", "kind"),
        ("residual", "net: {kind: conv, kernels: [3, 2, 3]}", "[1, 4, 4]", "E657", 1),
        ("cnf", "net: {kind: conv, kernel: 4}", "[1, 4, 4]", "E657", "kernel"),
        ("residual", "net: {kind: conv}, lipschitz: 1.0", "[1, 4, 4]", "E750", "lipschitz"),
        ("residual", "net: {kind: conv, activation: silu}", "[1, 4, 4]", "E753", "activation"),
    ],
)
def test_what_cannot_work_on_images_is_a_located_error(kind, setting, shape, code, field):
    with pytest.raises(SpecError) as error:
        flowspec.check(SPEC.format(kind=kind, setting=setting, shape=shape))
    (diagnostic,) = error.value.diagnostics
    assert (diagnostic.code, diagnostic.node, diagnostic.path[-1]) == (code, "flow", field)
    assert diagnostic.location.line == 6
