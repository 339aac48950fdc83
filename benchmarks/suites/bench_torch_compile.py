"""torch.compile against eager for the compiled realnvp_moons model on the CPU: log_prob
(no gradients) and the training step, one thread, interleaved medians after warm-up, with
the one-off compilation time. Prints a markdown section. Target: compiled log_prob at
least 1.3x faster than eager.

    python benchmarks/suites/bench_torch_compile.py [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/: its packages
from harness.table import markdown_table
from harness.timing import interleaved_medians

import flowspec

SPEC = Path(__file__).resolve().parents[2] / "specs" / "realnvp_moons.yaml"
TARGET_SPEEDUP = 1.3
BATCH = 512


def train_step(log_prob, model: torch.nn.Module, batch: torch.Tensor):
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step() -> None:
        loss = -log_prob(batch).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="few repeats: a smoke run")
    args = parser.parse_args()
    repeats = 5 if args.quick else 30
    torch.set_num_threads(1)
    torch.manual_seed(0)
    batch = torch.randn(BATCH, 2)

    eager = flowspec.compile(SPEC)
    compiled_model = flowspec.compile(SPEC)
    compiled_model.load_state_dict(eager.state_dict())
    start = time.perf_counter()
    compiled = torch.compile(compiled_model.log_prob, fullgraph=True)
    with torch.no_grad():
        compiled(batch)
    compile_seconds = time.perf_counter() - start
    with torch.no_grad():
        torch.testing.assert_close(compiled(batch), eager.log_prob(batch))
        log_prob = interleaved_medians(
            {"eager": lambda: eager.log_prob(batch), "compiled": lambda: compiled(batch)},
            repeats,
            20,
        )
    steps = interleaved_medians(
        {
            "eager": train_step(eager.log_prob, eager, batch),
            "compiled": train_step(compiled, compiled_model, batch),
        },
        repeats,
        5,
    )
    rows = [
        [
            what,
            f"{times['eager'] * 1e3:.3f} ms",
            f"{times['compiled'] * 1e3:.3f} ms",
            f"{times['eager'] / times['compiled']:.2f}x",
        ]
        for what, times in (("log_prob, no grad", log_prob), ("train step", steps))
    ]
    speedup = log_prob["eager"] / log_prob["compiled"]
    print("## torch.compile on realnvp_moons (CPU, inductor)\n")
    print(
        f"Batch {BATCH}, one thread, median of {repeats} interleaved rounds; first call "
        f"(compilation) took {compile_seconds:.1f} s.\n"
    )
    print(markdown_table(["what", "eager", "torch.compile", "speed-up"], rows))
    verdict = "met" if speedup >= TARGET_SPEEDUP else "missed"
    print(
        f"\nTarget: log_prob at least {TARGET_SPEEDUP}x faster compiled: {verdict} "
        f"({speedup:.2f}x)."
    )


if __name__ == "__main__":
    main()
