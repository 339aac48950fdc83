"""MAF and NSF on 2-D moons in flowspec, zuko and nflows (same architecture and budget,
trained in lockstep, timed interleaved): train-step time, sample time, log_prob time and test
NLL. Prints a markdown section.

    python benchmarks/bench_families1.py            # full: 1500 steps per family (about 6 minutes)
    python benchmarks/bench_families1.py --quick    # smoke run: 60 steps, few repeats
"""

from __future__ import annotations

import argparse

from _suite import Outcome, Workload, run_workload
from _table import markdown_table
from bench_moons import test_nll
from families1_contenders import MAF_CONTENDERS, NSF_CONTENDERS

__all__ = ["family_workloads"]


def family_workloads(quick: bool, steps: int | None = None) -> list[Workload]:
    """The MAF and NSF workloads: 10,000 training and 2,000 test points of 'moons'."""
    from flowspec.train.data import load_dataset

    data = load_dataset("moons", n_train=10_000, n_test=2_000, seed=0)
    common = dict(
        probe="moons", train=data.train, test=data.test, evaluate=test_nll,
        metric="test NLL (nats)", steps=steps or (60 if quick else 1500),
        warmup_steps=10 if quick else 50, score_every=20 if quick else 250,
        repeats=3 if quick else 15, inner=3 if quick else 5, memory=False,
    )
    return [
        Workload(title="MAF on 2-D moons (5 MADE 2x64 affine layers)", builders=MAF_CONTENDERS,
                 **common),
        Workload(title="NSF on 2-D moons (4 RQ-spline couplings, 8 bins, MLP 2x64)",
                 builders=NSF_CONTENDERS, **common),
    ]


def _table(work: Workload, outcomes: dict[str, Outcome]) -> str:
    header = ["library", "params", "train step (median)", f"sample {work.batch}",
              f"log_prob {work.batch}", f"test NLL after {work.steps} steps", "best (step)"]
    rows = []
    for name, o in outcomes.items():
        step, best = o.training.best_score()
        rows.append([
            name, f"{o.params:,}", f"{o.training.median_step(work.warmup_steps) * 1e3:.2f} ms",
            f"{o.sample_seconds * 1e3:.2f} ms", f"{o.log_prob_seconds * 1e3:.2f} ms",
            f"{o.training.scores[-1][1]:.3f}", f"{best:.3f} ({step})",
        ])
    notes = "\n".join(f"- **{name}**: {o.contender.note}" for name, o in outcomes.items())
    return f"## {work.title}\n\n{markdown_table(header, rows)}\n\n{notes}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a fast smoke run")
    parser.add_argument("--steps", type=int, help="training steps (default 1500; quick 60)")
    args = parser.parse_args()
    for work in family_workloads(args.quick, args.steps):
        print(_table(work, run_workload(work)) + "\n")


if __name__ == "__main__":
    main()
