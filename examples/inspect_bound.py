"""Look inside a model whose log_prob is a bound: per-node contributions, latents, and
importance-weighted bounds that tighten with more samples.

    python examples/inspect_bound.py
"""

from __future__ import annotations

from pathlib import Path

import torch

import flowspec
from flowspec.train.data import load_dataset

SPEC = Path(__file__).parent.parent / "specs" / "vflow_moons.yaml"


def main() -> None:
    torch.manual_seed(0)
    model = flowspec.compile(SPEC)
    print(f"{model.SPEC_NAME}: {model.verdict}")

    moons = load_dataset("moons", n_train=1000, n_test=4)  # make_moons' own units
    model.initialize(moons.train)  # its actnorm layers are set from data
    model.eval()
    x = moons.test
    trace = model.trace(x)
    print("contributions to log p(x), nats (an untrained model):")
    for node, contribution in trace.contributions.items():
        print(f"  {node:12s} {contribution.mean().item():+.4f}")
    print("latents:", {name: tuple(z.shape) for name, z in trace.latents.items()})
    total = sum(trace.contributions.values())
    assert torch.allclose(total, trace.log_prob)

    with torch.no_grad():
        for k in (1, 10, 100):
            print(f"IWBO k={k:3d}: {model.iwbo(x, k=k).mean().item():.4f} nats")


if __name__ == "__main__":
    main()
