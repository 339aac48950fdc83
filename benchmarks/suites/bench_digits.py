"""specs/digits_dequant.yaml on scikit-learn's 8x8 digits in flowspec, hand-written torch,
zuko, nflows and normflows: train-step time, log_prob and sample throughput, peak memory and
test bits/dim after a fixed number of steps. Prints a markdown section.

    python benchmarks/suites/bench_digits.py            # full: 1000 steps (about 3 minutes on 2 cores)
    python benchmarks/suites/bench_digits.py --quick    # smoke run: 30 steps, few repeats
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/: its packages
from contenders.digits_contenders import CONTENDERS
from harness.contender import Contender
from harness.suite import Workload, run_workload, workload_markdown

__all__ = ["digits_workload", "test_bits_per_dim", "test_bits_per_image"]

NOISE_SEEDS = tuple(range(1000, 1005))


def test_bits_per_image(contender: Contender, test: torch.Tensor) -> torch.Tensor:
    """Each test image's negative log-likelihood bound in bits per dimension, averaged over
    the dequantization draws of :data:`NOISE_SEEDS`. Every contender draws its noise with
    one ``torch.rand_like`` before anything else random, so all see the same noise."""
    dims = test[0].numel()
    total = torch.zeros(len(test))
    for seed in NOISE_SEEDS:
        torch.manual_seed(seed)
        total += -contender.log_prob(test).detach() / (dims * math.log(2))
    return total / len(NOISE_SEEDS)


def test_bits_per_dim(contender: Contender, test: torch.Tensor) -> float:
    """The mean of :func:`test_bits_per_image`: the test score of the digits benchmarks."""
    return float(test_bits_per_image(contender, test).mean())


def digits_workload(quick: bool, steps: int | None = None, memory: bool = True) -> Workload:
    """The digits benchmark: flowspec's 'digits' split (1500 training, 297 test images)."""
    from flowspec.train.data import load_dataset

    data = load_dataset("digits", seed=0)
    return Workload(
        title="digits_dequant.yaml on 8x8 digits (64 dims, 6 x [actnorm, affine coupling "
        "MLP 2x256, permutation])",
        probe="digits",
        builders=CONTENDERS,
        train=data.train,
        test=data.test,
        evaluate=test_bits_per_dim,
        metric="test bits/dim",
        steps=steps or (30 if quick else 1000),
        warmup_steps=5 if quick else 20,
        score_every=10 if quick else 50,
        repeats=3 if quick else 30,
        inner=2 if quick else 3,
        memory=memory,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a fast smoke run")
    parser.add_argument("--steps", type=int, help="training steps (default 1000; quick 30)")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory probes")
    args = parser.parse_args()
    work = digits_workload(args.quick, args.steps, memory=not args.no_memory)
    print(workload_markdown(work, run_workload(work)))


if __name__ == "__main__":
    main()
