"""Reverse-KL fits to the four 2-D energies of Rezende & Mohamed (2015, arXiv:1505.05770,
Table 1 and Figure 3): planar flows of K = 2, 8 and 32 layers, and an IAF and a spline IAF
of about the parameter count of K = 32, each trained with ``fit_target`` (the loop behind
``flowspec train --target``) at one budget. Prints a markdown section: KL(q || p) in nats
(log Z on the grid) with its standard error and the effective sample size of p~/q, on
65,536 fresh draws of the best weights; ``--figure`` also draws the four energies with the
K = 32 fits (target, fitted density, samples).

    python benchmarks/suites/bench_energies.py             # full: 3000 steps per fit
    python benchmarks/suites/bench_energies.py --quick     # smoke run: 100 steps
    python benchmarks/suites/bench_energies.py --figure examples/energies_planar32.png

The paper trains for 500,000 steps; this budget is small (CPU), so the figures are upper
bounds on what each flow reaches: the claim checked is the ordering, KL falling with K.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/: its packages
from harness.table import markdown_table

import flowspec
from flowspec.spec.training import ENERGIES, TrainSettings
from flowspec.train.reverse_kl import fit_target
from flowspec.train.target import resolve_target
from flowspec.train.target_plot import FitPanel, plot_target_fit

HEADER = """\
flowspec: "1"
name: {name}
inputs:
  x: {{shape: [2]}}
"""
PLANAR = (
    HEADER
    + """\
blocks:
  step:
    - {{kind: planar, inverse: {{method: newton, tol: 1.0e-6, max_iter: 50}}}}
nodes:
  flow: {{block: step, repeat: {k}, in: x}}
  prior: {{kind: standard_normal, in: flow}}
"""
)
#: Two autoregressive layers per repetition, the second in reversed order.
IAF = (
    HEADER
    + """\
blocks:
  step:
    - {{kind: autoregressive, direction: iaf, transformer: {transformer},
       conditioner: {{kind: made, hidden: [{hidden}]}}}}
    - {{kind: autoregressive, direction: iaf, transformer: {transformer},
       conditioner: {{kind: made, hidden: [{hidden}], order: reversed}}}}
nodes:
  flow: {{block: step, repeat: {repeat}, in: x}}
  prior: {{kind: standard_normal, in: flow}}
"""
)
FLOWS = {
    "planar K=2": PLANAR.format(name="planar-2", k=2),
    "planar K=8": PLANAR.format(name="planar-8", k=8),
    "planar K=32": PLANAR.format(name="planar-32", k=32),
    "IAF (affine)": IAF.format(name="iaf", transformer="{kind: affine}", hidden="5", repeat=2),
    "IAF (RQ spline)": IAF.format(
        name="spline-iaf",
        transformer="{kind: rq_spline, bins: 4, bound: 4.0}",
        hidden="2",
        repeat=1,
    ),
}
FIGURE_FLOW = "planar K=32"


def fit(flow: str, energy: str, steps: int, seed: int) -> tuple[flowspec.FlowModel, dict]:
    torch.manual_seed(seed)
    model = flowspec.compile(FLOWS[flow])
    settings = TrainSettings(
        steps=steps, batch_size=256, lr=5e-3, schedule="cosine", seed=seed, patience=1000
    )
    start = time.process_time()
    result = fit_target(model, resolve_target(energy), settings, progress=False)
    kl = result.kl
    assert kl is not None, "a bundled energy has log Z"
    figures = {
        "kl": kl.mean,
        "se": kl.stderr,
        "ess": result.score.ess,
        "cpu": time.process_time() - start,
        "params": sum(p.numel() for p in model.parameters() if p.requires_grad),
    }
    return model, figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a fast smoke run")
    parser.add_argument("--steps", type=int, help="steps per fit (default 3000; quick 100)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--figure", type=Path, help="draw the K = 32 fits to this file")
    args = parser.parse_args()
    torch.set_num_threads(1)
    steps = args.steps or (100 if args.quick else 3000)
    results: dict[tuple[str, str], dict] = {}
    panels = []
    for energy in ENERGIES:
        for flow in FLOWS:
            print(f"{energy} {flow}", file=sys.stderr, flush=True)
            model, figures = fit(flow, energy, steps, args.seed)
            results[flow, energy] = figures
            if flow == FIGURE_FLOW:
                note = f"KL {figures['kl']:.3f} nats, ESS {figures['ess']:.2f}"
                panels.append(FitPanel(f"{energy}, {flow}", model, resolve_target(energy), note))
    rows = [
        [
            flow,
            results[flow, ENERGIES[0]]["params"],
            *(
                f"{results[flow, e]['kl']:.3f} ± {results[flow, e]['se']:.3f} "
                f"({results[flow, e]['ess']:.2f})"
                for e in ENERGIES
            ),
            f"{sum(results[flow, e]['cpu'] for e in ENERGIES) / len(ENERGIES):.0f}",
        ]
        for flow in FLOWS
    ]
    print(
        f"## Reverse KL to the energies of Rezende & Mohamed 2015 (bench_energies.py)\n\n"
        f"Each flow fitted to each energy by `fit_target` (the loop of `flowspec train "
        f"--target`): {steps} steps of 256 draws, Adam lr 5e-3 with cosine decay, seed "
        f"{args.seed}, one thread; the best weights (validation on 4096 common draws) scored "
        "on 65,536 fresh draws. Cells: KL(q || p) in nats ± its standard error (log Z of "
        "the energy on a 1401 x 1401 grid over [-7, 7]^2; U2-U4 walled at |z1| = 4, see "
        "`flowspec/train/energies.py`), and in brackets the effective sample size of the "
        "importance weights p~/q as a fraction of the draws. CPU: mean process seconds per "
        "fit, including scoring.\n\n"
        + markdown_table(["flow", "parameters", *ENERGIES, "CPU s / fit"], rows)
    )
    if args.figure is not None:
        plot_target_fit(panels, args.figure, draws=3000)
        print(f"\nwrote {args.figure}", file=sys.stderr)


if __name__ == "__main__":
    main()
