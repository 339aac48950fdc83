"""realnvp_moons.yaml compiled by flowspec against the same architecture hand-written in
plain torch, measured in one process, interleaved, after warm-up, with medians.

    python benchmarks/bench_realnvp_moons.py [--repeats 30]

Reports the train-step time ratio (target <= 1.05), log_prob and sample throughput.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Callable

import torch

sys.path.insert(0, str(Path(__file__).parent))
import flowspec  # noqa: E402
from handwritten_realnvp import HandwrittenRealNVP  # noqa: E402

SPEC = Path(__file__).parent.parent / "specs" / "realnvp_moons.yaml"


def train_step(model: torch.nn.Module, optimizer: torch.optim.Optimizer, batch: torch.Tensor):
    def step() -> None:
        loss = -model.log_prob(batch).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return step


def timed(fn: Callable[[], object], inner: int) -> float:
    start = time.perf_counter()
    for _ in range(inner):
        fn()
    return (time.perf_counter() - start) / inner


def compare(name: str, ours: Callable, reference: Callable, repeats: int, inner: int) -> dict:
    for _ in range(3):  # warm-up
        ours(), reference()
    a, b = [], []
    for _ in range(repeats):  # interleaved, so drift on a noisy machine hits both
        a.append(timed(ours, inner))
        b.append(timed(reference, inner))
    ours_median, ref_median = statistics.median(a), statistics.median(b)
    return {"what": name, "flowspec": ours_median, "torch": ref_median, "ratio": ours_median / ref_median}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=30)
    parser.add_argument("--batch", type=int, default=512)
    args = parser.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(1)

    ours = flowspec.compile(SPEC)
    reference = HandwrittenRealNVP()
    n_ours = sum(p.numel() for p in ours.parameters())
    n_ref = sum(p.numel() for p in reference.parameters())
    assert n_ours == n_ref, (n_ours, n_ref)
    batch = torch.randn(args.batch, 2)

    rows = [
        compare(
            f"train step (batch {args.batch})",
            train_step(ours, torch.optim.Adam(ours.parameters(), 1e-3), batch),
            train_step(reference, torch.optim.Adam(reference.parameters(), 1e-3), batch),
            args.repeats, 10,
        )
    ]
    with torch.no_grad():
        rows.append(compare(f"log_prob (batch {args.batch})", lambda: ours.log_prob(batch),
                            lambda: reference.log_prob(batch), args.repeats, 20))
        rows.append(compare(f"sample ({args.batch})", lambda: ours.sample(args.batch),
                            lambda: reference.sample(args.batch), args.repeats, 20))

    print(f"# realnvp_moons: flowspec vs hand-written torch ({platform.processor() or platform.machine()}, "
          f"torch {torch.__version__}, 1 thread, median of {args.repeats})")
    print(f"{'what':28s} {'flowspec':>12s} {'torch':>12s} {'ratio':>7s}")
    for row in rows:
        print(f"{row['what']:28s} {row['flowspec'] * 1e3:10.3f}ms {row['torch'] * 1e3:10.3f}ms "
              f"{row['ratio']:7.3f}")
    for row in rows[1:]:
        print(f"{row['what']} throughput: flowspec {args.batch / row['flowspec']:,.0f}/s, "
              f"torch {args.batch / row['torch']:,.0f}/s")


if __name__ == "__main__":
    main()
