"""Integer discrete flows on images (Hoogeboom et al. 2019, IDF's CIFAR-10 model): the
integer coupling split on channels with a convolutional conditioner, and the discretized
logistic base conditioned on an image context through one."""

from __future__ import annotations

import itertools

import pytest
import torch
from test_survae_kinds import model

import flowspec
from flowspec.diagnostics import SpecError


def test_integer_coupling_on_channels_is_a_bijection_shifting_the_last_quarter() -> None:
    flow = model(
        "  a: {kind: integer_discrete_flow, factor: 4, in: x,"
        " net: {kind: densenet, channels: 4, depth: 2}}\n"
        "  p: {kind: discretized_logistic, in: a}\n",
        "  x: {shape: [4, 3, 3], levels: 16}",
    )
    layer = flow.nodes["a"]
    with torch.no_grad():
        layer.net.net[-1].weight.mul_(40)  # shifts of several integers
        x = torch.randint(0, 16, (6, 4, 3, 3)).double()
        z, contribution = layer(x)
        assert torch.equal(z[:, :3], x[:, :3]) and not torch.equal(z[:, 3:], x[:, 3:])
        assert torch.equal(z, z.round()) and torch.equal(contribution, torch.zeros(6))
        torch.testing.assert_close(layer.inverse(z), x)
    flow.initialize(x)  # the base over all integers starts at the values reaching it
    flow.log_prob(x).sum().backward()  # straight through the rounding to the densenet
    assert layer.net.net[0][0].body[0].weight.grad.abs().sum() > 0


def test_discretized_logistic_from_an_image_context_is_a_pmf_that_depends_on_it() -> None:
    base = model(
        "  p: {kind: discretized_logistic, in: z, context: c, mixtures: 2,"
        " net: {kind: densenet, channels: 4, depth: 2, out_kernel: 1}}\n",
        "  z: {shape: [1, 1, 2], levels: 5}\n  c: {shape: [2, 1, 2], context: true}",
    )
    window = torch.tensor(list(itertools.product(range(5), repeat=2)), dtype=torch.float64)
    values = window.view(-1, 1, 1, 2)
    masses = []
    for context in (torch.zeros(1, 2, 1, 2), torch.ones(1, 2, 1, 2)):
        rows = context.double().expand(len(values), -1, -1, -1)
        with torch.no_grad():
            masses.append(base.log_prob(values, c=rows).exp())
    assert all(m.sum().item() == pytest.approx(1.0, abs=1e-6) for m in masses)
    assert not torch.allclose(masses[0], masses[1])  # the context reaches the parameters


def test_a_conv_net_on_a_context_of_another_size_is_a_located_error() -> None:
    text = (
        'flowspec: "1"\nname: t\ninputs:\n  z: {shape: [1, 2, 2], levels: 5}\n'
        "  c: {shape: [2, 4, 4], context: true}\nnodes:\n"
        "  p: {kind: discretized_logistic, in: z, context: c, net: {kind: densenet, channels: 4,"
        " depth: 2}}\n"
    )
    with pytest.raises(SpecError) as raised:
        flowspec.check(text)
    (problem,) = [d for d in raised.value.diagnostics if d.severity == "error"]
    assert problem.code == "E656" and problem.node == "p"
    assert problem.location is not None and problem.location.line == 7
    assert "[2, 4, 4]" in problem.message and "[1, 2, 2]" in problem.message
