"""Flow++'s gated attention conditioner (``flowspec/conditioners/gated_attention.py``): its
attention reaches every position, and a coupling built on it stays invertible with the
log-determinant of its Jacobian."""

from __future__ import annotations

import torch

import flowspec
from flowspec.conditioners.gated_attention import GatedAttentionSpec

SPEC = """
flowspec: "1"
name: gated-attention-coupling
inputs:
  x: {shape: [2, 4, 4]}
nodes:
  c1:
    kind: coupling
    in: x
    mask: columns
    transformer: {kind: logistic_mixture, components: 2, scale_bound: 1.0, inverse: {tol: 1.0e-12, max_iter: 100}}
    conditioner: {kind: gated_attention, channels: 4, blocks: 1, heads: 2}
  c2:
    kind: coupling
    in: c1
    mask: columns_flipped
    transformer: {kind: logistic_mixture, components: 2, scale_bound: 1.0, inverse: {tol: 1.0e-12, max_iter: 100}}
    conditioner: {kind: gated_attention, channels: 4, blocks: 1, heads: 2}
  prior: {kind: standard_normal, in: c2}
"""


def _randomise(module: torch.nn.Module) -> None:
    with torch.no_grad():
        for parameter in module.parameters():
            parameter.normal_(0.0, 0.3)


def test_attention_carries_a_far_input_to_a_position_no_convolution_reaches() -> None:
    """On an 8x8 image the convolutions (three 3x3 in a row) see 3 pixels around a
    position: pixel (7, 7) reaches the parameters at (0, 0) only through attention, so
    they change with it, and stop changing when the attention's output is cut."""
    torch.manual_seed(0)
    spec = GatedAttentionSpec(channels=4, blocks=1, heads=2)
    net = spec.build_coupling((2, 8, 8), (2, 8, 8), 3, None).double()
    _randomise(net)
    net.eval()
    a = torch.randn(1, 2, 8, 8, dtype=torch.float64)
    moved = a.clone()
    moved[..., 7, 7] += 1.0
    change = (net(moved) - net(a))[0, :, 0, 0].abs().max()
    assert change > 1e-4
    with torch.no_grad():
        for name, parameter in net.named_parameters():
            if name.endswith("attention.out.weight"):
                parameter.zero_()
    assert (net(moved) - net(a))[0, :, 0, 0].abs().max() == 0.0


def test_a_coupling_on_it_inverts_with_its_autograd_log_determinant() -> None:
    torch.manual_seed(1)
    model = flowspec.compile(SPEC).double()
    _randomise(model)
    model.eval()
    x = torch.randn(2, 2, 4, 4, dtype=torch.float64)
    with torch.no_grad():
        trace = model.trace(x)
        back = model.inverse(trace.latents)
    torch.testing.assert_close(back, x, atol=1e-8, rtol=1e-8)
    layer = model.nodes["c1"]
    z, contribution = layer(x[:1])
    jacobian = torch.autograd.functional.jacobian(lambda v: layer(v)[0], x[:1]).reshape(32, 32)
    torch.testing.assert_close(contribution[0], torch.linalg.slogdet(jacobian)[1])
