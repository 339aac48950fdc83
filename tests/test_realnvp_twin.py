"""The plain-torch twin of specs/zoo/realnvp_cifar10.yaml that bench_zoo.py times flowspec
against (benchmarks/baselines/handwritten_realnvp_cifar10.py) is the same model: at widths
scaled down it has flowspec's parameters, in the same order and shapes, and with the same
(perturbed) weights and dequantization noise it gives the same log-likelihood and gradients
in float64, so a ratio of their step times is the cost of flowspec's abstraction alone."""

from __future__ import annotations

import sys
from pathlib import Path

import torch

import flowspec

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
from baselines.handwritten_realnvp_cifar10 import HandwrittenRealNVPCifar10  # noqa: E402


def test_twin_computes_flowspecs_log_prob_and_gradients_with_the_same_weights() -> None:
    torch.manual_seed(0)
    model = flowspec.compile(
        ROOT / "specs" / "zoo" / "realnvp_cifar10.yaml",
        overrides={"conditioner.channels": 4, "conditioner.blocks": 1},
    ).double()
    twin = HandwrittenRealNVPCifar10(widths=(4, 4), blocks=1).double()
    ours, theirs = list(model.parameters()), list(twin.parameters())
    assert [p.shape for p in ours] == [p.shape for p in theirs]
    with torch.no_grad():  # away from the identity start (the output convolutions are zero)
        for mine, copy in zip(ours, theirs, strict=True):
            mine.add_(0.1 * torch.randn_like(mine))
            copy.copy_(mine)
    x = torch.randint(0, 256, (2, 3, 32, 32)).double()
    model.train()
    twin.train()
    torch.manual_seed(1)  # the same dequantization noise: each draws it first
    expected = model.log_prob(x)
    torch.manual_seed(1)
    found = twin.log_prob(x)
    torch.testing.assert_close(found, expected, rtol=1e-12, atol=1e-8)
    expected.sum().backward()
    found.sum().backward()
    for mine, copy in zip(ours, theirs, strict=True):
        torch.testing.assert_close(copy.grad, mine.grad)
