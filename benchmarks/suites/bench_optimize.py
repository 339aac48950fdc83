"""The optimizing compiler's payoff: flowspec's optimized model against the best
hand-written torch (RealNVP moons, digits) and against its own literal graph (every
bundled spec). Prints a markdown section.

    python benchmarks/suites/bench_optimize.py            # full (about 5 minutes on 2 cores)
    python benchmarks/suites/bench_optimize.py --quick    # smoke run
    python benchmarks/suites/bench_optimize.py --reference ../old  # also count another tree's model

Each row times three things, interleaved in rounds with medians (benchmarks/harness/timing.py),
one thread: an Adam train step on a fixed batch, ``log_prob`` under ``no_grad`` and
``sample``, all at batch 512. Every model is built after ``torch.manual_seed(0)`` and
set from its batch before timing (``model.initialize``: actnorm, standardize). The
hand-written comparison also times ``log_prob`` and ``sample`` at batch 64, where Python
overhead rather than arithmetic dominates, and counts the instructions of every call
under valgrind's callgrind (benchmarks/harness/instructions.py): on this shared machine wall-clock
ratios move by 10-30% between runs, instruction counts repeat.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/: its packages
from harness.table import markdown_table
from harness.timing import interleaved_medians

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
from bundled import DATA, SPECS

#: The specs timed optimized against literal (one-pass families; the iterative ones, whose
#: time is the solver's, would take the run past its budget).
TIMED = (
    "realnvp_moons",
    "nice_moons",
    "vflow_moons",
    "slice_multiscale",
    "digits_dequant",
    "ports_checkerboard",
    "maf_moons",
    "iaf_moons",
)

BATCH = 512
#: The small batch of the hand-written comparison (overhead-bound).
SMALL = 64
#: What is timed, as (method of _Timed, label).
MEASURES = (
    ("train_step", "train step"),
    ("log_prob", "log_prob 512"),
    ("sample", "sample 512"),
    ("log_prob_small", f"log_prob {SMALL}"),
    ("sample_small", f"sample {SMALL}"),
)
#: The measures of the optimized-vs-literal table.
PER_SPEC = MEASURES[:3]


class _Timed:
    """The timed calls of one model."""

    def __init__(
        self, module: torch.nn.Module, log_prob: Callable, sample: Callable, x: torch.Tensor
    ):
        self.log_prob_fn, self.sample_fn, self.x, self.x_small = log_prob, sample, x, x[:SMALL]
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

    def log_prob_small(self) -> None:
        with torch.no_grad():
            self.log_prob_fn(self.x_small)

    def sample_small(self) -> None:
        with torch.no_grad():
            self.sample_fn(SMALL)


def _flowspec(name: str, optimize: bool, x: torch.Tensor) -> _Timed:
    import flowspec

    torch.manual_seed(0)
    model = flowspec.compile(SPECS / f"{name}.yaml", optimize=optimize)
    initialize = getattr(model, "initialize", None)
    if initialize is not None:  # layers set from data (older trees: the first log_prob)
        initialize(x)
    return _Timed(model, model.log_prob, model.sample, x)


def _batch(name: str) -> torch.Tensor:
    from flowspec.train.data import load_dataset

    data = load_dataset(DATA[name], n_train=BATCH, n_test=32, seed=0)
    return data.train[:BATCH]


def _measure(
    contenders: dict[str, _Timed], repeats: int, inner: int, measures=MEASURES
) -> dict[str, dict[str, float]]:
    figures: dict[str, dict[str, float]] = {name: {} for name in contenders}
    for what, _ in measures:
        times = interleaved_medians(
            {name: getattr(c, what) for name, c in contenders.items()}, repeats, inner
        )
        for name, seconds in times.items():
            figures[name][what] = seconds
    return figures


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3g} ms"


#: The specs with a hand-written twin, and how to build it.
HANDWRITTEN = {
    "realnvp_moons": ("baselines.handwritten_realnvp", "HandwrittenRealNVP", 8),
    "digits_dequant": ("baselines.handwritten_digits", "HandwrittenDigits", 6),
}


def _against(name: str, literal: bool = True) -> dict[str, _Timed]:
    """The hand-written, optimized and (``literal``) literal models of ``name`` on its batch."""
    import importlib

    module, cls, size = HANDWRITTEN[name]
    x = _batch(name)
    torch.manual_seed(0)
    hand = getattr(importlib.import_module(module), cls)(size)
    contenders = {
        "hand-written": _Timed(hand, hand.log_prob, hand.sample, x),
        "optimized": _flowspec(name, True, x),
    }
    if literal:
        contenders["literal"] = _flowspec(name, False, x)
    return contenders


def callgrind_worker(name: str, calls: int) -> None:
    """Run under callgrind by :func:`_instruction_counts`: every measured call of the
    hand-written and the optimized model ``calls`` times in its own counted region, after
    two warm-up calls (Adam's state, the allocator's caches). Callgrind runs 50-100 times
    slower than native: the literal model is left to the timing."""
    from harness.instructions import run_marked

    fns = {}
    for contender, timed in _against(name, literal=False).items():
        for what, _ in MEASURES:
            fn = getattr(timed, what)
            fn(), fn()
            fns[f"{contender}/{what}"] = fn
    run_marked(fns, calls)


def _instruction_counts(
    name: str, quick: bool, reference: str | None = None
) -> dict[str, dict[str, float]] | None:
    """Instructions per call of the hand-written and the optimized model; with a
    ``reference`` source tree, also of that tree's optimized model ("reference"), counted
    by a second worker that imports flowspec from it (the hand-written counts of the two
    workers agree, which the table shows)."""
    from harness.instructions import count_instructions

    print(f"[optimize] {name}: instruction counts under callgrind", file=sys.stderr, flush=True)
    calls = 1 if quick else 2
    worker = [__file__, "--callgrind-worker", name, "--calls", str(calls)]
    counts = count_instructions(worker)
    if counts is None:
        return None
    figures: dict[str, dict[str, float]] = {}
    _file_counts(figures, counts, {})
    if reference is not None:
        print(f"[optimize] {name}: the same in {reference}", file=sys.stderr, flush=True)
        theirs = count_instructions(worker, pythonpath=reference) or {}
        labels = {"optimized": "reference", "hand-written": "hand-written (reference run)"}
        _file_counts(figures, theirs, labels)
    return figures


def _file_counts(
    figures: dict[str, dict[str, float]], counts: dict[str, float], labels: dict[str, str]
) -> None:
    """Counts keyed ``contender/measure`` into ``figures[label][measure]``, each contender
    under its label in ``labels`` (or its own name)."""
    for key, count in counts.items():
        contender, what = key.split("/")
        figures.setdefault(labels.get(contender, contender), {})[what] = count


def against_handwritten(quick: bool) -> list[str]:
    """flowspec optimized and literal against the best hand-written model, wall clock."""
    rows = []
    for name in HANDWRITTEN:
        print(f"[optimize] {name} against hand-written", file=sys.stderr, flush=True)
        contenders = _against(name)
        heavy = name == "digits_dequant"
        figures = _measure(
            contenders, 3 if quick else (12 if heavy else 25), 2 if quick else (3 if heavy else 15)
        )
        base = figures["hand-written"]
        for contender, figure in figures.items():
            rows.append(
                [
                    name,
                    contender,
                    *(f"{_ms(figure[w])} ({figure[w] / base[w]:.3f}x)" for w, _ in MEASURES),
                ]
            )
    header = ["spec", "model", *(label for _, label in MEASURES)]
    return ["Wall clock (median time per call):", "", markdown_table(header, rows)]


def instruction_table(counting: dict[str, Future]) -> list[str]:
    """The instruction counts the callgrind workers return, relative to hand-written, and
    the optimized model's against the reference tree's when one was counted."""
    rows, against = [], []
    for name, future in counting.items():
        counts = future.result()
        if counts is None:
            continue
        base = counts["hand-written"]
        for contender, figure in counts.items():
            rows.append(
                [
                    name,
                    contender,
                    *(f"{figure[w] / 1e6:.2f} M ({figure[w] / base[w]:.3f}x)" for w, _ in MEASURES),
                ]
            )
        if "reference" in counts:
            ours, theirs = counts["optimized"], counts["reference"]
            against.append([name, *(f"{ours[w] / theirs[w]:.3f}x" for w, _ in MEASURES)])
    if not rows:
        return ["(instruction counts not taken: no valgrind, or a Python without symbols)"]
    header = ["spec", "model", *(label for _, label in MEASURES)]
    lines = [
        "Instructions per call under callgrind (millions; repeatable whatever the load):",
        "",
        markdown_table(header, rows),
    ]
    if against:
        lines += [
            "",
            (
                "Optimized model of this tree / optimized model of the reference tree "
                "(--reference), instructions per call:"
            ),
            "",
            markdown_table(["spec", *(label for _, label in MEASURES)], against),
        ]
    return lines


def optimized_vs_literal(quick: bool) -> list[str]:
    """The speed-up of the optimizing passes on every bundled spec."""
    rows = []
    for name in TIMED:
        print(f"[optimize] {name}: optimized vs literal", file=sys.stderr, flush=True)
        x = _batch(name)
        contenders = {"optimized": _flowspec(name, True, x), "literal": _flowspec(name, False, x)}
        heavy = name == "digits_dequant"
        figures = _measure(
            contenders,
            3 if quick else (10 if heavy else 20),
            2 if quick else (3 if heavy else 10),
            PER_SPEC,
        )
        opt, lit = figures["optimized"], figures["literal"]
        rows.append(
            [
                name,
                *(f"{_ms(lit[w])} -> {_ms(opt[w])} ({lit[w] / opt[w]:.3f}x)" for w, _ in PER_SPEC),
            ]
        )
    header = ["spec", "train step literal -> optimized (speed-up)", "log_prob 512", "sample 512"]
    return [markdown_table(header, rows)]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a fast smoke run")
    parser.add_argument(
        "--no-instructions",
        action="store_true",
        help="skip the instruction counts under callgrind (they run alongside the timing)",
    )
    parser.add_argument(
        "--reference",
        metavar="TREE",
        help="also count the optimized models of another flowspec source tree (an older "
        "commit checked out with git worktree) under callgrind, in the same run",
    )
    parser.add_argument("--callgrind-worker", metavar="SPEC", help=argparse.SUPPRESS)
    parser.add_argument("--calls", type=int, default=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.callgrind_worker:
        callgrind_worker(args.callgrind_worker, args.calls)
        return
    # The callgrind workers run alongside the timing: their counts do not depend on the
    # load, and the interleaved timing is fair to every contender whatever runs beside it.
    pool = ThreadPoolExecutor()
    counting = (
        {}
        if args.no_instructions
        else {
            name: pool.submit(_instruction_counts, name, args.quick, args.reference)
            for name in HANDWRITTEN
        }
    )
    timed = against_handwritten(args.quick)
    per_spec = optimized_vs_literal(args.quick)
    counted = instruction_table(counting) if counting else []
    pool.shutdown()
    sections = [
        "## The optimizing compiler: flowspec against the best hand-written torch",
        "",
        "Batch 512 (and 64 for log_prob and sample, where Python overhead dominates), one "
        "thread; each time the median of interleaved rounds (train step: an Adam step on a "
        "fixed batch; log_prob and sample under no_grad). In brackets: relative to the "
        "hand-written model. The instruction counts are the same calls of the hand-written "
        "and optimized models under valgrind's callgrind (benchmarks/harness/instructions.py), the mean of 2 calls after 2 warm-up calls: "
        "they do not move with the machine's load, so they settle ratios the times leave "
        "within noise. 'optimized' is flowspec.compile(spec) (the default), 'literal' is "
        "flowspec.compile(spec, optimize=False). The hand-written RealNVP keeps the two halves "
        "as separate tensors that swap roles (no flip, no merge); the hand-written digits "
        "model is benchmarks/baselines/handwritten_digits.py.",
        "",
        *timed,
        "",
        *counted,
        "",
        "### Optimized against literal, per bundled spec",
        "",
        "Times literal -> optimized, speed-up in brackets (above 1 is faster).",
        "",
        *per_spec,
    ]
    print("\n".join(sections))


if __name__ == "__main__":
    main()
