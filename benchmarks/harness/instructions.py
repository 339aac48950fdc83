"""Instruction counts of benchmark calls under valgrind's callgrind: a figure that, unlike
wall-clock time on a shared machine, repeats whatever the load (the same code path
executes the same instructions), so ratios of a few percent can be told apart.

A *worker* process (the benchmark script run again with a flag) builds its contenders,
warms them up and then calls :func:`run_marked` with them. Under callgrind with

    --collect-atstart=no --toggle-collect=starmap_next --dump-before=cmath_phase

only the code run inside ``itertools.starmap``'s C iterator is counted, and every
``cmath.phase`` call dumps the counts collected since the previous dump to a file of its
own: :func:`run_marked` runs each contender ``calls`` times inside ``starmap`` and then
calls ``cmath.phase`` once, so dump ``k`` holds the ``k``-th contender alone. Neither
function is called by flowspec or torch (``functools.reduce``, tried first, is called
elsewhere in the process); :func:`count_instructions` checks that the number of dumps matches.
Needs valgrind and a Python whose libpython and ``cmath`` keep their symbols
(``starmap_next``, ``cmath_phase``); returns None otherwise.

Counts include the arithmetic kernels (under valgrind, which emulates up to AVX2, so the
kernels may not be the ones a native run picks); they are compared between contenders
within one worker, never with wall-clock times.
"""

from __future__ import annotations

import cmath
import gc
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path

__all__ = ["run_marked", "count_instructions", "available"]

_MARK = "starmap_next"
_DUMP = "cmath_phase"
_TOTALS = re.compile(r"^totals:\s*(\d+)", re.MULTILINE)


def available() -> bool:
    """Whether valgrind is on PATH (the symbols are checked by the run itself)."""
    return shutil.which("valgrind") is not None


def run_marked(fns: Mapping[str, Callable[[], object]], calls: int) -> None:
    """In a worker: run every function ``calls`` times inside the counted region, one dump
    per function, in order; print the names as one JSON line for the parent."""
    gc.collect()
    gc.disable()  # a collection inside one contender's region would be billed to it
    for fn in fns.values():
        list(itertools.starmap(fn, [()] * calls))
        cmath.phase(1.0)
    gc.enable()
    print(json.dumps({"order": list(fns), "calls": calls}), flush=True)


def count_instructions(worker: list[str], timeout: float = 3600.0) -> dict[str, float] | None:
    """Run ``python *worker`` under callgrind; instructions per call of each function the
    worker passed to :func:`run_marked`, or None if callgrind is missing or counted nothing."""
    if not available():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cg"
        command = [
            "valgrind",
            "--tool=callgrind",
            "--collect-atstart=no",
            f"--toggle-collect={_MARK}",
            f"--dump-before={_DUMP}",
            f"--callgrind-out-file={out}",
            sys.executable,
            *worker,
        ]
        env = {**os.environ, "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1"}
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)
        if done.returncode != 0:
            print(done.stderr[-2000:], file=sys.stderr)
            return None
        report = json.loads(done.stdout.strip().splitlines()[-1])
        dumps = sorted(Path(tmp).glob("cg.*"), key=lambda p: int(p.suffix[1:]))
        if len(dumps) != len(report["order"]):
            raise RuntimeError(
                f"callgrind wrote {len(dumps)} dumps for {len(report['order'])} contenders: "
                f"something else called cmath.phase"
            )
        counts = {}
        for name, dump in zip(report["order"], dumps, strict=True):
            total = int(_TOTALS.search(dump.read_text()).group(1))
            counts[name] = total / report["calls"]
    if not any(counts.values()):
        return None  # no symbols: the toggle never matched
    return counts
