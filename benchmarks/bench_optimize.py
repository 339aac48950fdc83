"""The optimizing compiler's payoff: flowspec's optimized model against the best
hand-written torch (RealNVP moons, digits) and against its own literal graph (every
bundled spec). Prints a markdown section.

    python benchmarks/bench_optimize.py            # full (about 5 minutes on 2 cores)
    python benchmarks/bench_optimize.py --quick    # smoke run

Each row times three things, interleaved in rounds with medians (benchmarks/_timing.py),
one thread: an Adam train step on a fixed batch, ``log_prob`` under ``no_grad`` and
``sample``, all at batch 512. Every model is built after ``torch.manual_seed(0)`` and
initialised by one ``log_prob`` before timing (actnorm's data-dependent init).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable

import torch

from _table import markdown_table
from _timing import interleaved_medians

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from bundled import DATA, SPECS  # noqa: E402 - every bundled spec and its data set

#: The specs timed optimized against literal (one-pass families; the iterative ones, whose
#: time is the solver's, would take the run past its budget).
TIMED = (
    "realnvp_moons", "nice_moons", "vflow_moons", "slice_multiscale", "digits_dequant",
    "ports_checkerboard", "maf_moons", "iaf_moons",
)

BATCH = 512


class _Timed:
    """The three timed calls of one model."""

    def __init__(self, module: torch.nn.Module, log_prob: Callable, sample: Callable, x: torch.Tensor):
        self.log_prob_fn, self.sample_fn, self.x = log_prob, sample, x
        self.optimizer = torch.optim.Adam(module.parameters(), lr=1e-3)
        with torch.no_grad():
            log_prob(x)  # data-dependent initialisation before anything is timed

    def train_step(self) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        (-self.log_prob_fn(self.x).mean()).backward()
        self.optimizer.step()

    def log_prob(self) -> None:
        with torch.no_grad():
            self.log_prob_fn(self.x)

    def sample(self) -> None:
        with torch.no_grad():
            self.sample_fn(BATCH)


def _flowspec(name: str, optimize: bool, x: torch.Tensor) -> _Timed:
    import flowspec

    torch.manual_seed(0)
    model = flowspec.compile(SPECS / f"{name}.yaml", optimize=optimize)
    return _Timed(model, model.log_prob, model.sample, x)


def _batch(name: str) -> torch.Tensor:
    from flowspec.train.data import load_dataset

    data = load_dataset(DATA[name], n_train=BATCH, n_test=32, seed=0)
    return data.train[:BATCH]


def _measure(contenders: dict[str, _Timed], repeats: int, inner: int) -> dict[str, dict[str, float]]:
    figures: dict[str, dict[str, float]] = {name: {} for name in contenders}
    for what in ("train_step", "log_prob", "sample"):
        times = interleaved_medians(
            {name: getattr(c, what) for name, c in contenders.items()}, repeats, inner
        )
        for name, seconds in times.items():
            figures[name][what] = seconds
    return figures


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3g} ms"


def against_handwritten(quick: bool) -> list[str]:
    """flowspec optimized and literal against the best hand-written model."""
    from handwritten_digits import HandwrittenDigits
    from handwritten_realnvp import HandwrittenRealNVP

    rows, lines = [], []
    builders = {"realnvp_moons": lambda: HandwrittenRealNVP(8), "digits_dequant": lambda: HandwrittenDigits(6)}
    for name, build in builders.items():
        print(f"[optimize] {name} against hand-written", file=sys.stderr, flush=True)
        x = _batch(name)
        torch.manual_seed(0)
        hand = build()
        contenders = {
            "hand-written": _Timed(hand, hand.log_prob, hand.sample, x),
            "optimized": _flowspec(name, True, x),
            "literal": _flowspec(name, False, x),
        }
        heavy = name == "digits_dequant"
        figures = _measure(contenders, 3 if quick else (12 if heavy else 25), 2 if quick else (3 if heavy else 15))
        base = figures["hand-written"]
        for contender, figure in figures.items():
            rows.append([
                name, contender,
                *(f"{_ms(figure[w])} ({figure[w] / base[w]:.3f}x)" for w in ("train_step", "log_prob", "sample")),
            ])
    lines.append(markdown_table(["spec", "model", "train step", "log_prob 512", "sample 512"], rows))
    return lines


def optimized_vs_literal(quick: bool) -> list[str]:
    """The speed-up of the optimizing passes on every bundled spec."""
    rows = []
    for name in TIMED:
        print(f"[optimize] {name}: optimized vs literal", file=sys.stderr, flush=True)
        x = _batch(name)
        contenders = {"optimized": _flowspec(name, True, x), "literal": _flowspec(name, False, x)}
        heavy = name == "digits_dequant"
        figures = _measure(contenders, 3 if quick else (10 if heavy else 20), 2 if quick else (3 if heavy else 10))
        opt, lit = figures["optimized"], figures["literal"]
        rows.append([
            name,
            *(f"{_ms(lit[w])} -> {_ms(opt[w])} ({lit[w] / opt[w]:.3f}x)" for w in ("train_step", "log_prob", "sample")),
        ])
    header = ["spec", "train step literal -> optimized (speed-up)", "log_prob 512", "sample 512"]
    return [markdown_table(header, rows)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a fast smoke run")
    args = parser.parse_args()
    torch.set_num_threads(1)
    sections = [
        "## The optimizing compiler: flowspec against the best hand-written torch",
        "",
        "Batch 512, one thread; each figure the median of interleaved rounds (train step: an "
        "Adam step on a fixed batch; log_prob and sample under no_grad). In brackets: the "
        "time relative to the hand-written model. 'optimized' is flowspec.compile(spec) "
        "(the default), 'literal' is flowspec.compile(spec, optimize=False). The hand-written "
        "RealNVP keeps the two halves as separate tensors that swap roles (no flip, no "
        "merge); the hand-written digits model is benchmarks/handwritten_digits.py.",
        "",
        *against_handwritten(args.quick),
        "",
        "### Optimized against literal, per bundled spec",
        "",
        "Times literal -> optimized, speed-up in brackets (above 1 is faster).",
        "",
        *optimized_vs_literal(args.quick),
    ]
    print("\n".join(sections))


if __name__ == "__main__":
    main()
