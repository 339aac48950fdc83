"""MAF and NSF in flowspec, zuko and nflows (same architecture and budget, trained in
lockstep, timed interleaved) on 2-D moons and on the 8x8 digits: train-step time, sample
time, log_prob time and the test score. Prints a markdown section per workload.

    python benchmarks/suites/bench_families1.py                    # both sections (about 12 minutes)
    python benchmarks/suites/bench_families1.py --section digits   # digits only (5-7 minutes)
    python benchmarks/suites/bench_families1.py --quick            # smoke run: few steps and repeats
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/: its packages
from harness.suite import Outcome, Workload, run_workload, verdict
from harness.table import markdown_table

from suites.bench_digits import test_bits_per_dim, test_bits_per_image
from suites.bench_moons import test_nll

__all__ = ["moons_workloads", "digits_workloads"]

REFERENCE = "flowspec"


def moons_workloads(quick: bool, steps: int | None = None) -> list[Workload]:
    """The MAF and NSF workloads: 10,000 training and 2,000 test points of 'moons'."""
    from contenders.families1_contenders import MAF_CONTENDERS, NSF_CONTENDERS

    from flowspec.train.data import load_dataset

    data = load_dataset("moons", n_train=10_000, n_test=2_000, seed=0)
    common = dict(
        probe="moons",
        train=data.train,
        test=data.test,
        evaluate=test_nll,
        metric="test NLL (nats)",
        steps=steps or (60 if quick else 1500),
        warmup_steps=10 if quick else 50,
        score_every=20 if quick else 250,
        repeats=3 if quick else 15,
        inner=3 if quick else 5,
        memory=False,
    )
    return [
        Workload(
            title="MAF on 2-D moons (5 MADE 2x64 affine layers)", builders=MAF_CONTENDERS, **common
        ),
        Workload(
            title="NSF on 2-D moons (4 RQ-spline couplings, 8 bins, MLP 2x64)",
            builders=NSF_CONTENDERS,
            **common,
        ),
    ]


def digits_workloads(quick: bool, steps: int | None = None) -> list[Workload]:
    """MAF and NSF on flowspec's 'digits' split (1500 training, 297 test images), the split
    and dequantization noise seeds of bench_digits.py; samples timed in batches of 64 (each
    is 64 sequential passes per layer)."""
    from contenders.families1_digits_contenders import (
        MAF_CONTENDERS,
        MAF_HIDDEN,
        NSF_CONTENDERS,
        NSF_HIDDEN,
    )

    from flowspec.train.data import load_dataset

    data = load_dataset("digits", seed=0)
    common = dict(
        probe="digits",
        train=data.train,
        test=data.test,
        evaluate=test_bits_per_dim,
        metric="test bits/dim",
        warmup_steps=3 if quick else 20,
        score_every=5 if quick else 25,
        inner=1,
        memory=False,
        sample_batch=64,
    )
    maf_sizes, nsf_sizes = ("x".join(map(str, h)) for h in (MAF_HIDDEN, NSF_HIDDEN))
    return [
        Workload(
            title=f"MAF on 8x8 digits (64 dims; 5 MADE {maf_sizes} affine layers)",
            builders=MAF_CONTENDERS,
            steps=steps or (10 if quick else 300),
            repeats=2 if quick else 15,
            **common,
        ),
        Workload(
            title=f"NSF on 8x8 digits (64 dims; 5 autoregressive RQ-spline layers, 8 "
            f"bins, MADE {nsf_sizes})",
            builders=NSF_CONTENDERS,
            steps=steps or (10 if quick else 200),
            repeats=2 if quick else 5,
            **common,
        ),
    ]


def _untrained_scores(work: Workload) -> dict[str, float]:
    """Each contender's test score as built (after ``torch.manual_seed(work.seed)``): equal
    scores say the flows start as the same map."""
    scores = {}
    for name, build in work.builders.items():
        torch.manual_seed(work.seed)
        contender = build()
        with torch.no_grad():
            scores[name] = work.evaluate(contender, work.test)
    return scores


def _paired_difference(work: Workload, outcomes: dict[str, Outcome]) -> str:
    """flowspec's final test score minus the best peer's, with the standard error of the
    mean over the test images (paired: the same images and noise draws)."""
    peers = [name for name in outcomes if name != REFERENCE]
    best = min(peers, key=lambda name: outcomes[name].training.scores[-1][1])
    with torch.no_grad():
        ours = test_bits_per_image(outcomes[REFERENCE].contender, work.test)
        theirs = test_bits_per_image(outcomes[best].contender, work.test)
    difference = ours - theirs
    error = float(difference.std()) / math.sqrt(len(difference))
    return (
        f"- test score after {work.steps} steps: flowspec minus the best peer ({best}) = "
        f"{float(difference.mean()):+.4f} bits/dim, standard error over the "
        f"{len(difference)} test images {error:.4f}."
    )


def _table(
    work: Workload, outcomes: dict[str, Outcome], untrained: dict[str, float] | None = None
) -> str:
    header = [
        "library",
        "params",
        "train step (median)",
        f"sample {work.samples}",
        f"log_prob {work.batch}",
        f"{work.metric} after {work.steps} steps",
        "best (step)",
    ]
    if untrained:
        header.insert(2, f"untrained {work.metric}")
    rows = []
    for name, o in outcomes.items():
        step, best = o.training.best_score()
        row = [
            name,
            f"{o.params:,}",
            f"{o.training.median_step(work.warmup_steps) * 1e3:.2f} ms",
            f"{o.sample_seconds * 1e3:.2f} ms",
            f"{o.log_prob_seconds * 1e3:.2f} ms",
            f"{o.training.scores[-1][1]:.3f}",
            f"{best:.3f} ({step})",
        ]
        if untrained:
            row.insert(2, f"{untrained[name]:.4f}")
        rows.append(row)
    notes = "\n".join(f"- **{name}**: {o.contender.note}" for name, o in outcomes.items())
    return f"## {work.title}\n\n{markdown_table(header, rows)}\n\n{notes}"


def _digits_markdown(work: Workload) -> str:
    untrained = _untrained_scores(work)
    outcomes = run_workload(work)
    settings = (
        f"{work.steps} Adam steps (lr {work.lr}, batch {work.batch}), all contenders in "
        f"lockstep on the same batches, median step time over steps {work.warmup_steps}.."
        f"{work.steps - 1}; test score every {work.score_every} steps (bits/dim, mean over 5 "
        f"dequantization draws); sample and log_prob: medians of {work.repeats} interleaved "
        "rounds after 3 warm-up rounds; `torch.set_num_threads(1)`."
    )
    return "\n\n".join(
        [
            _table(work, outcomes, untrained),
            settings,
            "\n".join(verdict(work, outcomes) + [_paired_difference(work, outcomes)]),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a fast smoke run")
    parser.add_argument("--section", choices=("moons", "digits", "all"), default="all")
    parser.add_argument("--steps", type=int, help="training steps of every workload")
    args = parser.parse_args()
    if args.section in ("moons", "all"):
        for work in moons_workloads(args.quick, args.steps):
            print(_table(work, run_workload(work)) + "\n")
    if args.section in ("digits", "all"):
        for work in digits_workloads(args.quick, args.steps):
            print(_digits_markdown(work) + "\n")
            sys.stdout.flush()


if __name__ == "__main__":
    main()
