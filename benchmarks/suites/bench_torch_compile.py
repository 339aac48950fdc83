"""``train: {compile: true}`` against eager on the MAF specs and realnvp_moons (CPU,
inductor): the training step (Adam on ``-log_prob(x).mean()``, batch 256) and ``log_prob``
without gradients, one thread, interleaved medians after warm-up; and what compiling
costs, once with an empty inductor cache (cold) and once more in a fresh process on the
cache the first filled (warm: torch's FX graph and AOT autograd caches). The compiled
module is the one ``flowspec train --compile`` builds (``flowspec.train.compiled``), and
its compile time is measured as the run reports it: torch.compile's set-up and the first
step. Prints a markdown section and, unless ``--quick``, keeps each spec's figures in
benchmarks/torch_compile_runs.json (``--only`` reruns some and keeps the others) and
rewrites the section in benchmarks/RESULTS.md from that file.

    OMP_NUM_THREADS=1 nice -n 10 python benchmarks/suites/bench_torch_compile.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/: its packages
from harness.results import marked, replace_section
from harness.table import markdown_table
from harness.timing import interleaved_medians

SPECS = Path(__file__).resolve().parents[2] / "specs"
CASES = ("maf_moons.yaml", "digits_maf.yaml", "realnvp_moons.yaml")
BATCH = 256
SECTION = "torch-compile"
RUNS = Path(__file__).resolve().parents[1] / "torch_compile_runs.json"


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _step(network: torch.nn.Module, parameters: list, batch: torch.Tensor) -> Callable[[], None]:
    optimizer = torch.optim.Adam(parameters, lr=1e-4)

    def step() -> None:
        loss = -network(batch).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return step


def child(spec: str, repeats: int, timed: bool) -> dict[str, object]:
    """One spec in this fresh process: the compile cost, and (``timed``) the interleaved
    medians of eager and compiled steps and log_prob calls."""
    import flowspec
    from flowspec.emit.export import example_batch
    from flowspec.train.compiled import compiled_loss

    torch.manual_seed(0)
    eager = flowspec.compile(SPECS / spec)
    twin = flowspec.compile(SPECS / spec)
    twin.load_state_dict(eager.state_dict())
    batch = example_batch(eager, BATCH)
    for model in (eager, twin):
        model.initialize(batch)  # data-dependent layers, eagerly, as flowspec train does
        model.train()
    start = time.perf_counter()
    compiled, reason = compiled_loss(twin, twin)
    assert reason is None, reason
    compiled_step = _step(compiled, list(twin.parameters()), batch)
    compiled_step()
    figures: dict[str, object] = {"spec": spec, "compile_s": time.perf_counter() - start}
    if not timed:
        return figures
    eager.load_state_dict(twin.state_dict())  # the compiled step moved the twin's weights
    with torch.no_grad():
        # Inductor draws noise (dequantization) from a generator of its own: the means
        # agree within the noise, the values exactly where there is none.
        compiled_values, eager_values = compiled(batch), eager(batch)
        spread = float(eager_values.std()) / BATCH**0.5
        torch.testing.assert_close(
            compiled_values.mean(), eager_values.mean(), rtol=1e-4, atol=5 * spread + 1e-4
        )
    eager_step = _step(eager, list(eager.parameters()), batch)
    figures["step"] = interleaved_medians(
        {"eager": eager_step, "compiled": compiled_step}, repeats, 5
    )
    with torch.no_grad():
        figures["log_prob"] = interleaved_medians(
            {"eager": lambda: eager(batch), "compiled": lambda: compiled(batch)}, repeats, 10
        )
    figures["load"] = _load()
    return figures


def _run(spec: str, cache: str, repeats: int, timed: bool) -> dict:
    """A child process's figures, with inductor's caches in ``cache``."""
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore")
    env["TORCHINDUCTOR_CACHE_DIR"] = cache
    command = [sys.executable, __file__, "--child", spec, "--repeats", str(repeats)]
    done = subprocess.run(
        [*command, *([] if timed else ["--compile-only"])],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
        check=True,
    )
    line = done.stdout.strip().splitlines()[-1]
    print(line, file=sys.stderr, flush=True)
    return json.loads(line)


def markdown(rows: list[tuple[dict, dict]], repeats: int) -> str:
    table = markdown_table(
        [
            "spec",
            "train step eager",
            "compiled",
            "speed-up",
            "log_prob eager",
            "compiled",
            "speed-up",
            "compile, cold cache",
            "warm cache",
            "load",
        ],
        [
            [
                f"`{cold['spec']}`",
                f"{cold['step']['eager'] * 1e3:.2f} ms",
                f"{cold['step']['compiled'] * 1e3:.2f} ms",
                f"{cold['step']['eager'] / cold['step']['compiled']:.2f}x",
                f"{cold['log_prob']['eager'] * 1e3:.2f} ms",
                f"{cold['log_prob']['compiled'] * 1e3:.2f} ms",
                f"{cold['log_prob']['eager'] / cold['log_prob']['compiled']:.2f}x",
                f"{cold['compile_s']:.1f} s",
                f"{warm['compile_s']:.1f} s",
                cold["load"],
            ]
            for cold, warm in rows
        ],
    )
    return "\n\n".join(
        [
            "## `train: {compile: true}`: torch.compile against eager (bench_torch_compile.py)",
            f"Batch {BATCH} of valid data of each spec's shape, one thread, medians of "
            f"{repeats} interleaved rounds after warm-up (train step: Adam on the mean "
            "negative log_prob, forward and backward; log_prob: no gradients), inductor on "
            "the CPU, the compiled module as `flowspec train --compile` builds it. Compile: "
            "torch.compile's set-up and the first train step (forward and backward "
            "compiled), in a fresh process with an empty inductor cache (cold) and in a "
            "second fresh process on the cache the first filled (warm): what `flowspec "
            "train` reports as the one-off cost. Load averages (1, 5, 15 min) measured "
            "after each spec's timings; the 2 cores are shared, so times are upper bounds.",
            table,
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="few repeats; RESULTS.md untouched")
    parser.add_argument("--repeats", type=int, help="timed rounds (default 30; quick 3)")
    parser.add_argument("--only", help=f"these specs only (comma-separated; of {CASES})")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--compile-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    repeats = args.repeats or (3 if args.quick else 30)
    torch.set_num_threads(1)
    if args.child:
        print(json.dumps(child(args.child, repeats, timed=not args.compile_only)))
        return
    stored = json.loads(RUNS.read_text()) if RUNS.is_file() and not args.quick else {}
    for spec in args.only.split(",") if args.only else CASES:
        print(f"== {spec}", file=sys.stderr, flush=True)
        with tempfile.TemporaryDirectory(prefix="inductor-cache-") as cache:
            cold = _run(spec, cache, repeats, timed=True)
            warm = _run(spec, cache, repeats, timed=False)
        stored[spec] = {"cold": cold, "warm": warm}
    rows = [(stored[spec]["cold"], stored[spec]["warm"]) for spec in CASES if spec in stored]
    section = markdown(rows, repeats)
    print(marked(SECTION, section))
    if not args.quick:
        RUNS.write_text(json.dumps(stored, indent=1) + "\n")
        replace_section(SECTION, section)


if __name__ == "__main__":
    main()
