"""Glow on scikit-learn's 8x8 digits as 1x8x8 images (specs/glow_digits.yaml) in flowspec
against normflows' Glow with the same architecture: train-step time, log_prob and sample
throughput, and test bits/dim after a fixed number of steps. Prints a markdown section.

    python benchmarks/suites/bench_glow.py            # full: 300 steps (about 5 minutes on 2 cores)
    python benchmarks/suites/bench_glow.py --quick    # smoke run: 10 steps, few repeats
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/: its packages
from contenders.glow_contenders import CONTENDERS
from harness.suite import Workload, run_workload, workload_markdown

from suites.bench_digits import test_bits_per_dim

__all__ = ["glow_workload"]


def glow_workload(quick: bool, steps: int | None = None) -> Workload:
    """The benchmark on flowspec's 'digits_image' split (1500 training, 297 test images)."""
    from flowspec.train.data import load_dataset

    data = load_dataset("digits_image", seed=0)
    return Workload(
        title="glow_digits.yaml on 8x8 digits as 1x8x8 images (two scales of 2 Glow steps, "
        "conv nets of 32 channels)",
        probe="digits_image",
        builders=CONTENDERS,
        train=data.train,
        test=data.test,
        evaluate=test_bits_per_dim,
        metric="test bits/dim",
        steps=steps or (10 if quick else 300),
        batch=256,
        warmup_steps=3 if quick else 10,
        score_every=5 if quick else 50,
        repeats=3 if quick else 10,
        inner=2 if quick else 3,
        memory=False,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a fast smoke run")
    parser.add_argument("--steps", type=int, help="training steps (default 300; quick 10)")
    args = parser.parse_args()
    work = glow_workload(args.quick, args.steps)
    print(workload_markdown(work, run_workload(work)))


if __name__ == "__main__":
    main()
