"""RealNVP on 2-D moons in flowspec, hand-written torch, zuko, nflows and normflows:
train-step time, log_prob and sample throughput, peak memory and test NLL after a fixed
number of steps. Prints a markdown section.

    python benchmarks/suites/bench_moons.py            # full: 2000 steps (under 2 minutes on 2 cores)
    python benchmarks/suites/bench_moons.py --quick    # smoke run: 60 steps, few repeats
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/: its packages
from contenders.moons_contenders import CONTENDERS
from harness.contender import Contender
from harness.suite import Workload, run_workload, workload_markdown

__all__ = ["moons_workload", "test_nll"]


def test_nll(contender: Contender, test: torch.Tensor) -> float:
    """Mean negative log-likelihood of the test set, in nats."""
    return float(-contender.log_prob(test).mean())


def moons_workload(quick: bool, steps: int | None = None, memory: bool = True) -> Workload:
    """The moons benchmark: 10,000 training and 2,000 test points of flowspec's 'moons'."""
    from flowspec.train.data import load_dataset

    data = load_dataset("moons", n_train=10_000, n_test=2_000, seed=0)
    return Workload(
        title="RealNVP on 2-D moons (8 affine couplings, MLP 2x64)",
        probe="moons",
        builders=CONTENDERS,
        train=data.train,
        test=data.test,
        evaluate=test_nll,
        metric="test NLL (nats)",
        steps=steps or (60 if quick else 2000),
        warmup_steps=10 if quick else 50,
        score_every=20 if quick else 250,
        repeats=3 if quick else 30,
        inner=3 if quick else 20,
        memory=memory,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a fast smoke run")
    parser.add_argument("--steps", type=int, help="training steps (default 2000; quick 60)")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory probes")
    args = parser.parse_args()
    work = moons_workload(args.quick, args.steps, memory=not args.no_memory)
    print(workload_markdown(work, run_workload(work)))


if __name__ == "__main__":
    main()
