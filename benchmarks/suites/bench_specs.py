"""Every bundled spec trained at the budget its header states, against its trivial baseline.

Each spec in ``specs/`` names its data set and budget in its ``train:`` section (``data``,
``steps`` and any other settings), so ``flowspec train specs/NAME.yaml`` is the run measured
here: one thread, seed 0, the best-validation weights scored on the test split. Next to the
figure stands the baseline of :mod:`flowspec.train.baseline` (a full-covariance Gaussian
for continuous data, independent per-dimension categoricals for discrete data, fitted on
the training split), in the same units: nats per example for continuous data, bits per
dimension for discrete data. The figure is what ``flowspec train`` prints, named by the
likelihood class of what scored it (an NLL, exact or exact to a tolerance, scored with the
exact options of estimators; a -ELBO, an upper bound on the NLL from draws; a deterministic
NLL upper bound where a density's mass on the data's values is below one); for bounds from
draws the tighter ``flowspec eval --k 128`` figure follows (the importance-weighted bound).

    python benchmarks/suites/bench_specs.py                      # every spec (about 40 CPU minutes)
    python benchmarks/suites/bench_specs.py realnvp_moons glow_digits   # some specs; keeps the others' rows
    python benchmarks/suites/bench_specs.py --quick              # smoke run: 5 steps each, nothing written

A full or partial run records its rows in ``benchmarks/bundled_specs.json``, rewrites the
``# budget:``, ``# baseline:`` and ``# reaches:`` lines of each spec's header, and the table
between the ``bundled-specs`` markers of ``benchmarks/RESULTS.md`` and ``README.md``; it
also prints the table (the section ``run_all.py`` collects).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[2]
SPECS = ROOT / "specs"
RECORD = ROOT / "benchmarks" / "bundled_specs.json"
TARGETS = (ROOT / "benchmarks" / "RESULTS.md", ROOT / "README.md")
START, END = "<!-- bundled-specs:start -->", "<!-- bundled-specs:end -->"
QUICK_STEPS = 5
IWBO_K = 128


@dataclass
class Row:
    """One spec's run: budget, baseline and figure, in ``units``."""

    spec: str
    data: str
    steps: int
    steps_done: int
    best_step: int
    stop_reason: str
    cpu_seconds: float
    units: str
    baseline: float
    baseline_kind: str
    result: float
    figure: str
    beats_baseline: bool
    eval_result: float | None
    eval_figure: str | None

    def budget(self) -> str:
        stopped = (
            f", stopped early at step {self.steps_done}" if self.stop_reason != "steps" else ""
        )
        return f"{self.steps} steps{stopped}, {self.cpu_seconds:.0f} CPU s"


def _in_units(nats: float, dims: int, discrete: bool) -> float:
    return nats / (dims * math.log(2.0)) if discrete else nats


def run_spec(path: Path, quick: bool) -> Row:
    """Train ``path`` as ``flowspec train`` would (``QUICK_STEPS`` steps with ``quick``)."""
    import flowspec
    from flowspec.train.data import Split
    from flowspec.train.evaluate import evaluate, for_evaluation
    from flowspec.train.loop import fit
    from flowspec.train.prepare import prepare
    from flowspec.train.settings import merge_settings

    checked = flowspec.check(path)
    section = checked.graph.header.train
    overrides = {"threads": 1, **({"steps": QUICK_STEPS} if quick else {})}
    settings = merge_settings(section, overrides)
    model, dataset = prepare(checked, settings)
    start = time.process_time()
    result = fit(model, dataset, settings, progress=False)
    cpu = time.process_time() - start
    discrete = dataset.levels is not None
    baseline = result.baseline
    assert baseline is not None
    scored_with = f"; scored with {', '.join(result.scored_with)}" if result.scored_with else ""
    eval_result = None
    scored, _ = for_evaluation(model)
    if result.likelihood == "lower bound" and scored.draws_noise:
        test = Split(dataset.test, dataset.context.get("test"))
        scores = evaluate(scored, test, discrete=discrete, k=IWBO_K)
        assert scores.iwbo_nll is not None
        eval_result = _in_units(scores.iwbo_nll, baseline.dims, discrete)
    return Row(
        spec=path.stem,
        data=dataset.name,
        steps=settings.steps or 0,
        steps_done=result.steps,
        best_step=result.best_step,
        stop_reason=result.stop_reason,
        cpu_seconds=cpu,
        units="bits/dim" if discrete else "nats",
        baseline=_in_units(baseline.nll, baseline.dims, discrete),
        baseline_kind=baseline.kind,
        result=_in_units(result.test_nll, baseline.dims, discrete),
        figure=f"test {result.figure_name} ({result.figure}{scored_with})",
        beats_baseline=baseline.beaten_by(result.test_nll),
        eval_result=eval_result,
        eval_figure=f"-IWBO, k={IWBO_K}" if eval_result is not None else None,
    )


BASELINES = {
    "gaussian": "full-covariance Gaussian",
    "categorical": "per-dimension categoricals",
}


def table(rows: list[Row]) -> str:
    """The markdown table of ``rows``."""
    lines = [
        "| spec | data | budget | baseline | result | units | what the result is | flowspec eval |",
        "| --- | --- | --- | --: | --: | --- | --- | --- |",
    ]
    for row in rows:
        verdict = "" if row.beats_baseline else " (does not beat the baseline clearly)"
        evaluated = (
            f"{row.eval_result:.4f} ({row.eval_figure})" if row.eval_result is not None else ""
        )
        lines.append(
            f"| `{row.spec}.yaml` | {row.data} | {row.budget()} | {row.baseline:.4f} "
            f"({BASELINES[row.baseline_kind]}) | **{row.result:.4f}**{verdict} | {row.units} | "
            f"{row.figure} | {evaluated} |"
        )
    return "\n".join(lines)


def section(rows: list[Row]) -> str:
    """The table with its explanation, between the markers."""
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    explanation = (
        "Every bundled spec trained by `python benchmarks/suites/bench_specs.py` as `flowspec "
        "train specs/NAME.yaml` trains it (the data set and budget of its `train:` "
        "section, seed 0, one thread), scored on the test split with the best-validation "
        "weights, next to the trivial baseline fitted on the training split in the same "
        "units (nats per example for continuous data, bits per dimension for discrete "
        "data). Every spec must beat its baseline clearly: by more than twice the "
        "baseline's standard error over the test split and at least 0.01 nats per "
        "dimension. CPU seconds are process time of the training run on a shared 2-core "
        f"x86_64 VM (load average {load} at the end of the last run), with torch "
        f"{torch.__version__}; single seeds."
    )
    return "\n".join([START, explanation, "", table(rows), END])


def replace_between_markers(text: str, block: str) -> str:
    """``text`` with the block between :data:`START` and :data:`END` replaced."""
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.DOTALL)
    if not pattern.search(text):
        raise ValueError(f"no {START} ... {END} block to replace")
    return pattern.sub(lambda _: block, text, count=1)


def header_lines(row: Row) -> dict[str, str]:
    """The header comment lines that carry the measured figures, by field."""
    evaluated = (
        f"; flowspec eval: {row.eval_result:.4f} ({row.eval_figure})"
        if row.eval_result is not None
        else ""
    )
    return {
        "budget": f"# budget: {row.budget()} (one thread, shared 2-core x86_64 VM)",
        "baseline": f"# baseline: {row.baseline:.4f} {row.units}, test NLL of "
        f"{BASELINES[row.baseline_kind]} fitted on the training split",
        "reaches": f"# reaches: {row.result:.4f} {row.units}, {row.figure}{evaluated}",
    }


def update_header(path: Path, row: Row) -> None:
    """Rewrite the ``# budget:``, ``# baseline:`` and ``# reaches:`` lines of a spec."""
    text = path.read_text()
    for field, line in header_lines(row).items():
        pattern = re.compile(rf"^# {field}: .*$", re.MULTILINE)
        if not pattern.search(text):
            raise ValueError(f"{path.name} has no '# {field}:' header line")
        text = pattern.sub(lambda _, line=line: line, text, count=1)
    path.write_text(text)


def record(row: Row) -> dict[str, dict[str, object]]:
    """Add ``row`` to :data:`RECORD` and return every recorded row; the file is read again
    for each row, so runs on disjoint specs in parallel processes keep each other's rows."""
    recorded = json.loads(RECORD.read_text()) if RECORD.exists() else {}
    recorded[row.spec] = asdict(row)
    RECORD.write_text(json.dumps(recorded, indent=2, sort_keys=True) + "\n")
    return recorded


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("specs", nargs="*", help="spec names (default: every spec in specs/)")
    parser.add_argument("--quick", action="store_true", help="smoke run; print, write nothing")
    args = parser.parse_args()
    torch.set_num_threads(1)
    paths = [SPECS / f"{name}.yaml" for name in args.specs] or sorted(SPECS.glob("*.yaml"))
    recorded: dict[str, dict[str, object]] = {}
    for path in paths:
        print(f"training {path.name} ...", file=sys.stderr, flush=True)
        row = run_spec(path, args.quick)
        recorded[row.spec] = asdict(row)
        if not args.quick:
            update_header(path, row)
            recorded = record(row)
    rows = [Row(**recorded[name]) for name in sorted(recorded)]  # type: ignore[arg-type]
    block = section(rows)
    if not args.quick:
        for target in TARGETS:
            target.write_text(replace_between_markers(target.read_text(), block))
    print("## Bundled specs against their baselines (bench_specs.py)\n\n" + block)


if __name__ == "__main__":
    main()
