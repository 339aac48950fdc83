"""Runs memory_probe.py in a fresh interpreter per contender and collects its figures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["MEMORY_NOTE", "MemoryFigures", "probe_memory"]

PROBE = Path(__file__).resolve().parent / "memory_probe.py"

MEMORY_NOTE = (
    "Memory: benchmarks/harness/memory_probe.py, one fresh process per contender (so one library's "
    "allocations cannot hide another's), batch as above, 1 thread, glibc's mmap threshold "
    "fixed at 64 KiB so freed tensors leave the resident set. 'train-step peak' is how far "
    "the kernel's resident high-water mark (VmHWM, reset through /proc/self/clear_refs after "
    "malloc_trim) rises over 10 Adam steps that follow two warm-up steps: activations saved "
    "for backward, gradients and temporaries; parameters and Adam state are already "
    "resident. 'log_prob+sample peak' is the same for 3 calls of each under no_grad. 'RSS "
    "after import+build' is the whole process (Python, torch, the library and its imports, "
    "the model, Adam state) before those phases. torch has no public CPU allocator "
    "statistics, and tracemalloc does not see torch's allocations."
)


@dataclass
class MemoryFigures:
    """KiB: resident after import, build and warm-up; peak rise during train steps; during
    log_prob + sample (see memory_probe.py)."""

    rss_built: int
    train_peak: int
    eval_peak: int


def probe_memory(bench: str, name: str, batch: int, steps: int) -> MemoryFigures | str:
    """The figures of one contender, or the probe's error message when it failed."""
    # A fixed mmap threshold: blocks of 64 KiB and more are mapped and unmapped one by one,
    # so resident memory follows the live tensors instead of glibc's adaptive heap caching.
    env = dict(
        os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore", MALLOC_MMAP_THRESHOLD_="65536"
    )
    command = [
        sys.executable,
        str(PROBE),
        bench,
        name,
        "--batch",
        str(batch),
        "--steps",
        str(steps),
    ]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        lines = done.stderr.strip().splitlines()
        return lines[-1] if lines else f"exit code {done.returncode}"
    return MemoryFigures(**json.loads(done.stdout.strip().splitlines()[-1]))
