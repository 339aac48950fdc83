"""Look inside a model whose log_prob is a bound: per-node contributions, latents, and
importance-weighted bounds that tighten with more samples.

    python examples/inspect_bound.py
"""

from __future__ import annotations

from pathlib import Path

import torch

import flowspec

SPEC = Path(__file__).parent.parent / "specs" / "vflow_moons.yaml"


def main() -> None:
    torch.manual_seed(0)
    model = flowspec.compile(SPEC)
    print(f"{model.SPEC_NAME}: {model.verdict}")

    x = torch.randn(4, 2)
    trace = model.trace(x)
    for node, contribution in trace.contributions.items():
        print(f"  {node:12s} {contribution.mean().item():+.4f}")
    print("latents:", {name: tuple(z.shape) for name, z in trace.latents.items()})
    total = sum(trace.contributions.values())
    assert torch.allclose(total, trace.log_prob)

    with torch.no_grad():
        for k in (1, 10, 100):
            print(f"IWBO k={k:3d}: {model.iwbo(x, k=k).mean().item():.4f}")


if __name__ == "__main__":
    main()
