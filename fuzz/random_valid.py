"""Random valid specs over every node kind and part, checked by their oracles (by hand; the
test suite runs a few seeds: tests/test_random_specs.py).

    python fuzz/random_valid.py N SEED

checks the specs of seeds SEED .. SEED + N - 1 (tests/random_specs.py builds them,
tests/spec_oracles.py checks them) and prints one line per seed, the spec of each that
disagrees with an oracle, and a count per family.
"""

from __future__ import annotations

import sys
import time
import traceback
from collections import Counter
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from random_specs import random_spec
from spec_oracles import check

torch.set_num_threads(1)


def main(count: int, first: int) -> int:
    checked: Counter[str] = Counter()
    failed: Counter[str] = Counter()
    for seed in range(first, first + count):
        spec = random_spec(seed)
        start = time.perf_counter()
        try:
            problems = check(spec)
        except Exception as error:  # noqa: BLE001 - a crash is a finding too
            problems = ["".join(traceback.format_exception(error))[-1500:]]
        checked[spec.family] += 1
        seconds = time.perf_counter() - start
        if problems:
            failed[spec.family] += 1
            print(
                f"--- seed {seed} ({spec.family}, {seconds:.1f} s): {problems}\n{spec.text}",
                flush=True,
            )
        else:
            print(f"seed {seed} ({spec.family}, {seconds:.1f} s): ok", flush=True)
    for family in sorted(checked):
        print(
            f"{family}: {checked[family] - failed[family]}/{checked[family]} agree with their oracles"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]), int(sys.argv[2])))
