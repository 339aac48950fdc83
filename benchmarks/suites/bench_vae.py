"""A VAE with two hidden layers in its encoder and decoder, written as a flowspec spec and
as a plain-torch twin, trained the same way and scored by the same code.

The model (Kingma and Welling 2014, arXiv:1312.6114) of issue 14: latent 10, a Gaussian
posterior q(z | x) from an MLP 64 -> 256 -> 128 -> 2 x 10, a Bernoulli decoder p(x | z)
from an MLP 10 -> 128 -> 256 -> 64 (ReLU), a standard normal prior; binarised 8x8 digits
(flowspec's ``digits_binary``: 1350 training, 150 validation, 297 test images, seed 0).
Both are trained as ``flowspec train`` trains: Adam at 1e-3 with cosine decay to 0,
batches of 256 in the same seeded order, gradient norm clipped at 10, the one-sample
negative ELBO as the loss, validation every 25 steps, the best-validation weights kept
(early stopping after 10 validations without improvement). The twin parameterises the
posterior's scale as the hand-written VAEs of the literature do (the exponential of half a
log-variance) and keeps PyTorch's default initialisation throughout; it has exactly the
parameters of the spec.

Scores on the test split, in nats per image, by one function for both models: the
negative ELBO (the mean of ``ELBO_DRAWS`` one-sample estimates per image), the negative
importance-weighted bound with k = ``IWBO_K`` (Burda et al. 2016, arXiv:1509.00519), and
the KL divergence of q(z | x) from the prior (closed form), each the mean over seeds with
the spread between seeds.

    python benchmarks/suites/bench_vae.py              # 1000 steps, 3 seeds (about 2 CPU minutes)
    python benchmarks/suites/bench_vae.py --quick      # 50 steps, 1 seed
"""

from __future__ import annotations

import argparse
import copy
import math
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/: its packages
from baselines.handwritten_vae import DECODER, ENCODER, LATENT, TwinVAE  # noqa: E402

STEPS, BATCH, LR, CLIP, VALIDATIONS, PATIENCE = 1000, 256, 1e-3, 10.0, 40, 10
ELBO_DRAWS, IWBO_K = 16, 256
SPEC = f"""\
flowspec: "1"
name: vae-two-hidden
inputs:
  x: {{shape: [64], levels: 2}}
nodes:
  vae:
    kind: vae
    in: x
    latent: {LATENT}
    encoder: {{kind: gaussian, net: {{kind: mlp, hidden: {ENCODER}}}}}
    decoder: {{kind: bernoulli, net: {{kind: mlp, hidden: {DECODER}}}}}
  prior: {{kind: standard_normal, in: vae}}
"""


@dataclass
class Parts:
    """What the shared scoring needs of a VAE: its posterior's mean and scale given
    images, and its decoder's logits given latents."""

    encode: Callable[[torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
    decode: Callable[[torch.Tensor], torch.Tensor]


def _log_weights(parts: Parts, x: torch.Tensor, k: int) -> torch.Tensor:
    """``log p(x, z) - log q(z | x)`` for ``k`` posterior draws per image, ``(k, n)``."""
    mean, scale = parts.encode(x)
    eps = torch.randn(k, *mean.shape)
    z = mean + scale * eps
    log_q = (-0.5 * eps.pow(2) - torch.log(scale) - 0.5 * math.log(2 * math.pi)).sum(-1)
    log_prior = (-0.5 * z.pow(2) - 0.5 * math.log(2 * math.pi)).sum(-1)
    logits = parts.decode(z.reshape(-1, LATENT)).reshape(k, len(x), -1)
    target = x.expand(k, *x.shape)
    log_likelihood = -F.binary_cross_entropy_with_logits(logits, target, reduction="none").sum(-1)
    return log_likelihood + log_prior - log_q


def _negative_elbo(parts: Parts, x: torch.Tensor) -> torch.Tensor:
    """One-sample negative ELBO per image: the loss."""
    return -_log_weights(parts, x, 1)[0]


@torch.no_grad()
def scores(parts: Parts, x: torch.Tensor) -> dict[str, float]:
    """Test -ELBO, -IWBO and KL(q(z | x) || p(z)), in nats per image."""
    torch.manual_seed(0)
    elbo = -_log_weights(parts, x, ELBO_DRAWS).mean()
    iwbo = -(torch.logsumexp(_log_weights(parts, x, IWBO_K), 0) - math.log(IWBO_K)).mean()
    mean, scale = parts.encode(x)
    kl = (0.5 * (mean.pow(2) + scale.pow(2) - 1) - torch.log(scale)).sum(1).mean()
    return {"-ELBO": float(elbo), f"-IWBO (k={IWBO_K})": float(iwbo), "KL": float(kl)}


def train_twin(data, seed: int, steps: int) -> tuple[TwinVAE, float]:
    """The twin trained with flowspec's protocol (see the module doc); its CPU seconds."""
    from flowspec.spec.training import TrainSettings
    from flowspec.train.objective import BatchOrder
    from flowspec.train.settings import learning_rate

    torch.manual_seed(seed)
    twin = TwinVAE()
    parts = Parts(twin.encode, twin.decode)
    settings = TrainSettings(steps=steps, lr=LR, batch_size=BATCH, seed=seed)
    order = BatchOrder(len(data.train), BATCH, seed)
    optimizer = torch.optim.Adam(twin.parameters(), lr=LR)
    every = max(1, math.ceil(steps / VALIDATIONS))
    best, best_weights, bad = math.inf, copy.deepcopy(twin.state_dict()), 0
    start = time.process_time()
    for step in range(1, steps + 1):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(settings, step, steps)
        loss = _negative_elbo(parts, data.train[order.at(step)[1]]).mean()
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(twin.parameters(), CLIP)
        optimizer.step()
        if step % every == 0 or step == steps:
            with torch.no_grad():
                val = float(_negative_elbo(parts, data.val).mean())
            if val < best:
                best, best_weights, bad = val, copy.deepcopy(twin.state_dict()), 0
            else:
                bad += 1
                if bad >= PATIENCE:
                    break
    twin.load_state_dict(best_weights)
    return twin.eval(), time.process_time() - start


def train_flowspec(data, seed: int, steps: int):
    """The spec trained by :func:`flowspec.train.fit` with its defaults; its CPU seconds."""
    import flowspec
    from flowspec.spec.training import TrainSettings
    from flowspec.train.loop import fit

    torch.manual_seed(seed)
    model = flowspec.compile(SPEC)
    start = time.process_time()
    fit(model, data, TrainSettings(steps=steps, seed=seed), progress=False)
    return model.eval(), time.process_time() - start


def flowspec_parts(model) -> Parts:
    vae = model.nodes["vae"]
    return Parts(vae.encoder.params, vae.decoder.params)


def _mean_spread(values: list[float]) -> str:
    spread = f" ± {statistics.stdev(values):.2f}" if len(values) > 1 else ""
    return f"{statistics.mean(values):.2f}{spread}"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--steps", type=int, default=STEPS)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="50 steps, 1 seed")
    args = parser.parse_args()
    if args.quick:
        args.steps, args.seeds = 50, 1
    torch.set_num_threads(1)
    from flowspec.train.data import load_dataset

    data = load_dataset("digits_binary", seed=0)
    results: dict[str, list[dict[str, float]]] = {"flowspec": [], "plain torch": []}
    sizes = {}
    for seed in range(args.seeds):
        print(f"seed {seed} ...", file=sys.stderr, flush=True)
        model, seconds = train_flowspec(data, seed, args.steps)
        results["flowspec"].append(scores(flowspec_parts(model), data.test) | {"s": seconds})
        sizes["flowspec"] = sum(p.numel() for p in model.parameters())
        twin, seconds = train_twin(data, seed, args.steps)
        results["plain torch"].append(
            scores(Parts(twin.encode, twin.decode), data.test) | {"s": seconds}
        )
        sizes["plain torch"] = sum(p.numel() for p in twin.parameters())
    columns = ["-ELBO", f"-IWBO (k={IWBO_K})", "KL", "s"]
    title = "## VAE with two hidden layers on binarised digits: flowspec vs plain torch"
    what = (
        f"{args.steps} steps, {args.seeds} seeds (mean ± standard deviation over seeds); "
        "test split, nats per image; CPU seconds of training (process time, one thread)."
    )
    head = f"| model | parameters | test -ELBO | test -IWBO, k = {IWBO_K} | KL(q(z \\| x) \\|\\| p(z)) | CPU s |"
    lines = [f"{title} (bench_vae.py)", "", what, "", head, "| --- | --: | --: | --: | --: | --: |"]
    for name, runs in results.items():
        cells = [_mean_spread([run[column] for run in runs]) for column in columns]
        lines.append(f"| {name} | {sizes[name]:,} | " + " | ".join(cells) + " |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
