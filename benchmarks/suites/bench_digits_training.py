"""The digits specs trained the way ``flowspec train`` trains them (validation every 25
steps, early stopping, the best weights kept) against zuko's neural spline flow (Durkan et
al. 2019, arXiv:1906.04032; ``zuko.flows.NSF``, 5 transforms, MLP 2x256) trained with the
same protocol, each for the same CPU time on one thread. Prints a markdown section.

Every contender sees the same data: scikit-learn's digits split by flowspec (1350 training,
150 validation, 297 test images, seed 0), dequantized with uniform noise and mapped to the
real line by RealNVP's alpha-logit (alpha 0.05): flowspec by its own nodes, zuko behind the
hand-written :class:`handwritten_digits.Preprocessing` (the same map). Scores are negative
ELBOs in bits per dimension (upper bounds on the NLL of the pmf), on the test split, for the
weights with the best validation score, averaged over 5 dequantization draws.

    python benchmarks/suites/bench_digits_training.py              # 150 s of CPU time each (~8 min)
    python benchmarks/suites/bench_digits_training.py --quick      # smoke run: 10 s each
"""

from __future__ import annotations

import argparse
import copy
import math
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/: its packages
from baselines.handwritten_digits import Preprocessing

from suites.bench_digits import NOISE_SEEDS

SPECS = Path(__file__).resolve().parents[2] / "specs"
FLOWSPEC_SPECS = ("digits_dequant.yaml", "digits_maf.yaml", "vardeq_digits.yaml", "nsf_digits.yaml")
VAL_EVERY, PATIENCE, BATCH, LR = 25, 12, 256, 1e-3


@dataclass
class Outcome:
    name: str
    parameters: int
    steps: int
    best_step: int
    val_bits: float
    test_bits: float
    cpu_seconds: float


def _bits(log_prob: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor) -> float:
    """Mean negative ELBO in bits/dim over the dequantization draws of NOISE_SEEDS."""
    values = []
    with torch.no_grad():
        for seed in NOISE_SEEDS:
            torch.manual_seed(seed)
            values.append(float(-log_prob(x).mean()) / (x.shape[1] * math.log(2)))
    return sum(values) / len(values)


def run_flowspec(spec: str, data, budget: float) -> Outcome:
    """``fit`` with flowspec's defaults for the optimizer, stopped after ``budget`` CPU seconds."""
    import flowspec
    from flowspec.spec.training import TrainSettings
    from flowspec.train.loop import fit

    torch.manual_seed(0)
    model = flowspec.compile(SPECS / spec)
    start = time.process_time()
    settings = TrainSettings(
        steps=100_000,
        batch_size=BATCH,
        lr=LR,
        val_every=VAL_EVERY,
        patience=PATIENCE,
        schedule="constant",
    )
    result = fit(
        model,
        data,
        settings,
        progress=False,
        log=lambda _: None,
        on_step=lambda step, loss: time.process_time() - start > budget,
    )
    seconds = time.process_time() - start
    model.eval()
    return Outcome(
        f"flowspec {spec}",
        sum(p.numel() for p in model.parameters()),
        result.steps,
        result.best_step,
        _bits(model.log_prob, data.val),
        _bits(model.log_prob, data.test),
        seconds,
    )


def run_zuko(data, budget: float) -> Outcome:
    """zuko NSF (5 transforms, 2x256) behind the shared dequantization, same protocol."""
    import zuko

    torch.manual_seed(0)
    pre = Preprocessing()
    flow = zuko.flows.NSF(features=64, transforms=5, hidden_features=(256, 256))

    def log_prob(x: torch.Tensor) -> torch.Tensor:
        z, log_det = pre(x)
        return flow().log_prob(z) + log_det

    optimizer = torch.optim.Adam(flow.parameters(), lr=LR)
    generator = torch.Generator().manual_seed(0)
    best, best_step, bad, step = math.inf, 0, 0, 0
    best_state = copy.deepcopy(flow.state_dict())
    start = time.process_time()
    while time.process_time() - start <= budget and bad < PATIENCE:
        order = torch.randperm(len(data.train), generator=generator)
        for begin in range(0, len(order) - BATCH + 1, BATCH):
            step += 1
            loss = -log_prob(data.train[order[begin : begin + BATCH]]).mean()
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(flow.parameters(), 10.0)
            optimizer.step()
            if step % VAL_EVERY == 0:
                with torch.no_grad():
                    val = float(-log_prob(data.val).mean())
                if val < best:
                    best, best_step, bad = val, step, 0
                    best_state = copy.deepcopy(flow.state_dict())
                else:
                    bad += 1
            if time.process_time() - start > budget or bad >= PATIENCE:
                break
    seconds = time.process_time() - start
    flow.load_state_dict(best_state)
    return Outcome(
        "zuko NSF (5 transforms, 2x256)",
        sum(p.numel() for p in flow.parameters()),
        step,
        best_step,
        _bits(log_prob, data.val),
        _bits(log_prob, data.test),
        seconds,
    )


def markdown(outcomes: list[Outcome], budget: float) -> str:
    lines = [
        "## Digits trained to the best validation score (same CPU budget)",
        "",
        f"Each contender trains on one thread for at most {budget:g} s of CPU time (process "
        f"time, so the machine's load does not change the budget), batch {BATCH}, Adam lr "
        f"{LR:g} (constant), gradient norm clipped at 10, validation every {VAL_EVERY} steps, "
        f"stopping after {PATIENCE} validations without improvement; the weights with the best "
        "validation score are scored. Bits/dim are negative ELBOs (dequantization bounds), "
        f"averaged over {len(NOISE_SEEDS)} noise draws.",
        "",
        "| model | params | steps | best step | val bits/dim | test bits/dim | CPU s |",
        "| :-- | --: | --: | --: | --: | --: | --: |",
    ]
    for o in outcomes:
        lines.append(
            f"| {o.name} | {o.parameters:,} | {o.steps} | {o.best_step} | "
            f"{o.val_bits:.3f} | {o.test_bits:.3f} | {o.cpu_seconds:.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--budget", type=float, default=150.0, help="CPU seconds per contender")
    parser.add_argument("--quick", action="store_true", help="smoke run: 10 CPU seconds each")
    args = parser.parse_args()
    if args.quick:
        args.budget = 10.0
    torch.set_num_threads(1)
    from flowspec.train.data import load_dataset

    data = load_dataset("digits", seed=0)
    outcomes = []
    for spec in FLOWSPEC_SPECS:
        print(f"training {spec} ...", file=sys.stderr)
        outcomes.append(run_flowspec(spec, data, args.budget))
    print("training zuko NSF ...", file=sys.stderr)
    outcomes.append(run_zuko(data, args.budget))
    print(markdown(outcomes, args.budget))


if __name__ == "__main__":
    main()
