"""The comparisons of issue 8 (SurVAE kinds) at small, equal budgets, one thread:

    python benchmarks/survae_figures.py deq  [steps]   # digits: uniform vs variational dequantization
    python benchmarks/survae_figures.py pool [steps]   # digits: max-pool vs slice (64 -> 16 dims)
    python benchmarks/survae_figures.py vae  [steps]   # binarised digits: VAE with 0/2/4/8 flow steps
    python benchmarks/survae_figures.py abs  [steps]   # eight Gaussians: with and without abs

Bits/dim are test nats / (64 ln 2); bounds are averages over the 297 test digits.
"""

from __future__ import annotations

import math
import sys

import torch

import flowspec
from flowspec.train.data import Dataset, load_dataset
from flowspec.train.loop import fit

HEAD = 'flowspec: "1"\nname: figure\n'
DIGITS = (
    HEAD
    + "inputs:\n  x: {shape: [64], levels: 17}\n"
    + """blocks:
  step:
    - {kind: actnorm}
    - {kind: affine_coupling, net: {kind: mlp, hidden: [256, 256]}}
    - {kind: shuffle}
nodes:
"""
)
VARIATIONAL = (
    "{kind: variational_dequantization, in: x, dequantizer: {kind: flow, net: {kind: mlp, "
    "hidden: [128]}, layers: [{kind: affine_coupling, net: {kind: mlp, hidden: [128]}}, "
    "{kind: reverse}], repeat: 2}}"
)
MAX_POOL = """  image: {kind: reshape, shape: [1, 8, 8], in: dq}
  pool: {kind: max_pool, in: image, decoder: {kind: gaussian, net: {kind: mlp, hidden: [256]}}}
  kept: {kind: flatten, in: pool}
"""
SLICE = "  kept: {kind: slice, keep: 16, in: dq, decoder: {kind: gaussian, net: {kind: mlp, hidden: [256]}}}\n"
TWO_D = (
    HEAD
    + "inputs:\n  x: {shape: [2]}\n"
    + """blocks:
  step:
    - {kind: actnorm}
    - {kind: affine_coupling, net: {kind: mlp, hidden: [64, 64]}}
    - {kind: reverse}
nodes:
"""
)
BITS = 64 * math.log(2)


def trained(text: str, data: Dataset, steps: int, lr: float = 1e-3, batch: int = 128):
    torch.manual_seed(0)
    model = flowspec.compile(text)
    return model, fit(model, data, steps=steps, batch_size=batch, lr=lr, progress=False)


def dequantization(steps: int) -> None:
    data = load_dataset("digits", n_train=1500, n_test=297, seed=0)
    for name, node in (
        ("uniform", "{kind: uniform_dequantization, in: x}"),
        ("variational", VARIATIONAL),
    ):
        text = (
            DIGITS
            + f"""  dq: {node}
  lg: {{kind: elementwise, fn: logit, alpha: 0.05, in: dq}}
  body: {{block: step, repeat: 4, in: lg}}
  prior: {{kind: standard_normal, in: body}}
"""
        )
        model, result = trained(text, data, steps)
        with torch.no_grad():
            iwbo = -torch.cat([model.iwbo(x, k=64) for x in data.test.split(100)]).mean().item()
        print(f"{name}: -ELBO {result.test_nll / BITS:.3f} bits/dim, -IWBO(64) {iwbo / BITS:.3f}")


def pooling(steps: int) -> None:
    """Both drop 48 of the 64 dequantized pixels (max-pool: all but each 2x2 window's
    maximum; slice: all but the first 16), then the same flow models the 16 kept."""
    data = load_dataset("digits", n_train=1500, n_test=297, seed=0)
    for name, drop in (("max_pool", MAX_POOL), ("slice", SLICE)):
        text = (
            DIGITS
            + "  dq: {kind: uniform_dequantization, in: x}\n"
            + drop
            + """  lg: {kind: elementwise, fn: logit, in: kept}
  body: {block: step, repeat: 4, in: lg}
  prior: {kind: standard_normal, in: body}
"""
        )
        _, result = trained(text, data, steps)
        print(f"{name}: -ELBO {result.test_nll / BITS:.3f} bits/dim")


def vae(steps: int) -> None:
    data = load_dataset("digits_binary", n_train=1500, n_test=297, seed=0)
    source = open("specs/vae_flow_digits.yaml", encoding="utf-8").read()
    for repeat in (0, 2, 4, 8):
        model, _ = trained(source.replace("repeat: 2", f"repeat: {repeat}"), data, steps, lr=2e-3)
        model.eval()
        torch.manual_seed(1)
        with torch.no_grad():
            elbo = -torch.stack([model.log_prob(data.test) for _ in range(20)]).mean().item()
            iwbo = -torch.cat([model.iwbo(x, k=1000) for x in data.test.split(10)]).mean().item()
        print(f"{repeat} flow steps: -ELBO {elbo:.2f} nats, -IWBO(1000) {iwbo:.2f} nats")


def folding(steps: int) -> None:
    data = load_dataset("eight_gaussians", n_train=10_000, n_test=2_000, seed=0)
    for name, head in (
        (
            "abs",
            "  fold: {kind: abs, in: x}\n  lg: {kind: elementwise, fn: log, in: fold}\n"
            "  body: {block: step, repeat: 6, in: lg}\n",
        ),
        ("no abs", "  body: {block: step, repeat: 6, in: x}\n"),
    ):
        text = TWO_D + head + "  prior: {kind: standard_normal, in: body}\n"
        _, result = trained(text, data, steps, lr=2e-3, batch=256)
        print(f"{name}: test NLL {result.test_nll:.3f} nats")


FIGURES = {"deq": dequantization, "pool": pooling, "vae": vae, "abs": folding}

if __name__ == "__main__":
    torch.set_num_threads(1)
    FIGURES[sys.argv[1]](int(sys.argv[2]) if len(sys.argv) > 2 else 800)
