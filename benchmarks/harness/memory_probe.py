"""Peak resident memory of one contender, measured in this fresh process (run by memory.py).

    python benchmarks/harness/memory_probe.py {moons,digits} NAME [--batch 512] [--steps 20]

Prints one JSON line, sizes in KiB: ``rss_built`` (resident after importing the library,
building the model and two warm-up training steps, which create the Adam state),
``train_peak`` (how far the resident high-water mark then rose during ``steps`` more Adam
steps on a batch: activations kept for backward, gradients, temporaries) and ``eval_peak``
(the same for ``log_prob`` and ``sample`` of a batch under ``torch.no_grad``, after one
warm-up call of each). Before each measured phase the free heap is returned to the system
(``malloc_trim``) and the kernel's high-water mark is reset (``/proc/self/clear_refs``), so
a phase is not hidden by an earlier, larger one. Linux and glibc only.
"""

from __future__ import annotations

import argparse
import ctypes
import json
import re
import sys
import warnings
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/: its packages

__all__ = ["resident_kib", "reset_peak"]

_LIBC = ctypes.CDLL("libc.so.6")


def _status(field: str) -> int:
    with open("/proc/self/status") as status:
        return int(re.search(rf"^{field}:\s+(\d+) kB", status.read(), re.M).group(1))


def resident_kib() -> tuple[int, int]:
    """(current resident set, its high-water mark since the last reset), in KiB."""
    return _status("VmRSS"), _status("VmHWM")


def reset_peak() -> int:
    """Return free heap to the system, reset the high-water mark; the resident KiB after."""
    _LIBC.malloc_trim(0)
    with open("/proc/self/clear_refs", "w") as clear:
        clear.write("5")
    return resident_kib()[0]


def _batch(bench: str, size: int) -> torch.Tensor:
    if bench == "moons":
        return torch.randn(size, 2)
    return torch.randint(0, 17, (size, 64)).float()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("bench", choices=["moons", "digits"])
    parser.add_argument("name")
    parser.add_argument("--batch", type=int, default=512)
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    torch.set_num_threads(1)
    torch.manual_seed(0)
    if args.bench == "moons":
        from contenders.moons_contenders import CONTENDERS
    else:
        from contenders.digits_contenders import CONTENDERS
    contender = CONTENDERS[args.name]()
    batch = _batch(args.bench, args.batch)
    optimizer = torch.optim.Adam(contender.module.parameters(), lr=1e-3)

    def train(steps: int) -> None:
        for _ in range(steps):
            loss = -contender.log_prob(batch).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

    @torch.no_grad()
    def evaluate(calls: int) -> None:
        for _ in range(calls):
            contender.log_prob(batch)
            contender.sample(args.batch)

    train(2)
    built = reset_peak()
    train(args.steps)
    train_peak = resident_kib()[1] - built
    evaluate(1)
    before_eval = reset_peak()
    evaluate(3)
    eval_peak = resident_kib()[1] - before_eval
    print(json.dumps({"rss_built": built, "train_peak": train_peak, "eval_peak": eval_peak}))


if __name__ == "__main__":
    main()
