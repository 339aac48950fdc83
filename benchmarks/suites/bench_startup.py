"""Start-up time of the instant checks: ``flowspec validate`` of a bundled spec and
``flowspec --help``, against ``python -c "import yaml, pydantic"`` measured in the same run.

The three commands run interleaved (baseline, validate, help, baseline, ...) in fresh
processes, so that a busy machine slows all of them alike; the figures are medians. The
target: validate within 0.3 s of the baseline (flowspec needs the YAML and pydantic stack
anyway; everything above it is flowspec's own start-up, which must not include torch,
numpy or scikit-learn). Prints a markdown section.

    python benchmarks/suites/bench_startup.py            # 15 rounds
    python benchmarks/suites/bench_startup.py --quick    # 3 rounds
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/: its packages
from harness.table import markdown_table

__all__ = ["COMMANDS", "TARGET_SECONDS", "wall_time"]

ROOT = Path(__file__).resolve().parents[2]
SPEC = "specs/realnvp_moons.yaml"
#: How much slower than the baseline ``flowspec validate`` may start.
TARGET_SECONDS = 0.3

#: Label -> argv, run from the repository root.
COMMANDS: dict[str, list[str]] = {
    'python -c "import yaml, pydantic" (baseline)': [sys.executable, "-c", "import yaml, pydantic"],
    f"flowspec validate {SPEC}": [sys.executable, "-m", "flowspec", "validate", SPEC],
    "flowspec --help": [sys.executable, "-m", "flowspec", "--help"],
}


def wall_time(argv: list[str]) -> tuple[float, float]:
    """Wall seconds from start to exit of one fresh process, and its CPU seconds (user +
    system; what a loaded machine does not inflate). Output discarded; must succeed."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), COLUMNS="100")
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: bytecode cached after one run
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="3 rounds instead of 15")
    args = parser.parse_args()
    rounds = 3 if args.quick else 15
    for argv in COMMANDS.values():  # warm the file cache and the bytecode caches
        wall_time(argv)
    times: dict[str, list[tuple[float, float]]] = {label: [] for label in COMMANDS}
    for _ in range(rounds):
        for label, argv in COMMANDS.items():
            times[label].append(wall_time(argv))
    walls = {label: statistics.median(w for w, _ in values) for label, values in times.items()}
    cpus = {label: statistics.median(c for _, c in values) for label, values in times.items()}
    base_wall, base_cpu = next(iter(walls.values())), next(iter(cpus.values()))
    rows = [
        [
            label,
            f"{1000 * walls[label]:.0f}",
            f"{1000 * (walls[label] - base_wall):+.0f}",
            f"{walls[label] / base_wall:.2f}",
            f"{1000 * cpus[label]:.0f}",
            f"{1000 * (cpus[label] - base_cpu):+.0f}",
        ]
        for label in COMMANDS
    ]
    label = f"flowspec validate {SPEC}"
    validate, baseline = walls[label], base_wall
    verdict = "met" if validate - baseline <= TARGET_SECONDS else "NOT MET"
    load = os.getloadavg()[0]
    print("## Start-up of the instant checks\n")
    print(
        f"Fresh processes, run interleaved, median of {rounds} rounds; from the repository "
        "root. Neither command imports torch, numpy or scikit-learn "
        "(tests/test_startup.py checks it).\n"
    )
    header = ["command", "wall ms", "vs baseline ms", "ratio", "CPU ms", "CPU vs baseline ms"]
    print(markdown_table(header, rows))
    print(
        f"\n- validate: {validate - baseline:+.2f} s wall, "
        f"{cpus[label] - base_cpu:+.2f} s CPU over the baseline (target <= +{TARGET_SECONDS} "
        f"s wall: {verdict}); load average {load:.1f} on {os.cpu_count()} cores at the end."
    )


if __name__ == "__main__":
    main()
