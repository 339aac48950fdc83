"""The zoo of published architectures (specs/zoo/) at full size on this machine: seconds per
training step at batch 8 (Adam, random data of the spec's shape and levels), samples per
second, peak resident memory of a fresh process; Glow (affine) against normflows' Glow and a
plain-torch twin at the same architecture, interleaved in one process (ratios); and where
the time of one Glow training step goes (torch.profiler: inside torch's operators against
the Python around them, flowspec's included) and of Residual Flows; and Real NVP against
its plain-torch twin (same architecture and parameter count; normflows has no such Real NVP).
Prints a markdown section and, unless ``--quick``, keeps every figure in benchmarks/zoo_runs.json (by spec:
a run with ``--only`` replaces the rows it measured and keeps the others, each with its own
load and step count) and rewrites the section in benchmarks/RESULTS.md from that file.

    nice -n 10 python benchmarks/suites/bench_zoo.py            # 3 timed steps each
    python benchmarks/suites/bench_zoo.py --quick               # 1 timed step each, no files
    nice -n 10 python benchmarks/suites/bench_zoo.py --only resflow_cifar10.yaml \
        --profiles resflow_cifar10.yaml --no-compare --steps 1  # some rows again
    nice -n 10 python benchmarks/suites/bench_zoo.py --part realnvp   # Real NVP's row,
                                          # comparison and profile again

One thread (OMP_NUM_THREADS=1, torch.set_num_threads(1)); every figure is a wall-clock
median on a shared machine, so the load average is printed beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/: its packages
from harness.results import marked, replace_section
from harness.table import markdown_table

ZOO = Path(__file__).resolve().parents[2] / "specs" / "zoo"
BATCH = 8
RUNS = Path(__file__).resolve().parents[1] / "zoo_runs.json"
SECTION = "zoo"
#: The specs whose training step is profiled by default.
PROFILED = ("glow_cifar10_affine.yaml", "resflow_cifar10.yaml")
#: Specs too large to train on this machine, with the reason (printed in the table).
NOT_RUN = {
    "tarflow_imagenet64.yaml": "not run at batch 8: 460M parameters; a batch-8 step is about "
    "2.3e13 FLOP and needs 7.4 GB for weights, gradients and Adam's moments plus about 16 GB "
    "of saved activations, more than this 23 GB machine has free. At batch 1 (`--child "
    "tarflow_imagenet64.yaml --batch 1 --steps 1 --no-sample`): 174.7 s per step after a "
    "212.3 s warm-up step, 10.8 GB peak RSS, load 6.4 (2026-12-07)",
}


def _load() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def _data(model: torch.nn.Module, batch: int) -> torch.Tensor:
    (name,) = model.DATA_INPUTS
    shape = model.INPUT_SHAPES[name]
    levels = model.checked.loaded.data["inputs"][name].get("levels")
    if levels:
        return torch.randint(0, levels, (batch, *shape)).float()
    return torch.randn(batch, *shape)


def _train_step(model: torch.nn.Module, log_prob: Callable, x: torch.Tensor) -> Callable[[], float]:
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)

    def step() -> float:
        start = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        (-log_prob(x).mean()).backward()
        optimizer.step()
        return time.perf_counter() - start

    return step


def child(spec: str, steps: int, batch: int = BATCH, sample: bool = True) -> dict[str, object]:
    """One zoo spec in this (fresh) process: its figures as JSON-ready numbers (samples per
    second None without ``sample``)."""
    import flowspec

    torch.manual_seed(0)
    model = flowspec.compile(ZOO / spec)
    x = _data(model, batch)
    model.train()
    step = _train_step(model, model.log_prob, x)
    step()  # warm-up; actnorms set themselves from this first batch
    seconds = statistics.median(step() for _ in range(steps))
    model.eval()
    samples_per_s = None
    if sample:
        with torch.no_grad():
            start = time.perf_counter()
            model.sample(batch)
            samples_per_s = batch / (time.perf_counter() - start)
    return {
        "spec": spec,
        "steps": steps,
        "batch": batch,
        "parameters": sum(p.numel() for p in model.parameters()),
        "step_s": seconds,
        "samples_per_s": samples_per_s,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "load": _load(),
    }


def _normflows_glow() -> tuple[torch.nn.Module, Callable]:
    """normflows' multi-scale Glow at the zoo's size: 3 levels of 32 GlowBlocks (actnorm, LU
    1x1 conv, affine coupling with ConvNet2d 3x3/1x1/3x3 of 512 channels and actnorms),
    unconditional DiagGaussian bases (normflows has no split prior), same dequantization."""
    import math

    import normflows as nf

    flows, bases, merges = [], [], []
    for level, channels in enumerate((48, 24, 12)):
        blocks = [nf.flows.GlowBlock(channels, 512, net_actnorm=True) for _ in range(32)]
        flows.append(blocks + [nf.flows.Squeeze()])
        size = 4 << level
        bases.append(
            nf.distributions.DiagGaussian((channels if level == 0 else channels // 2, size, size))
        )
        if level > 0:
            merges.append(nf.flows.Merge())
    flow = nf.MultiscaleFlow(bases, flows, merges, class_cond=False)

    def log_prob(x: torch.Tensor) -> torch.Tensor:
        z = (x + torch.rand_like(x)) / 256.0
        return flow.log_prob(z, None) - x[0].numel() * math.log(256.0)

    return flow, log_prob


def _glow_peers(model: torch.nn.Module) -> dict[str, tuple[torch.nn.Module, Callable]]:
    from baselines.handwritten_glow import HandwrittenGlow

    twin = HandwrittenGlow()
    flow, nf_log_prob = _normflows_glow()
    return {"plain torch": (twin, twin.log_prob), "normflows": (flow, nf_log_prob)}


def _realnvp_peers(model: torch.nn.Module) -> dict[str, tuple[torch.nn.Module, Callable]]:
    """The plain-torch twin only: normflows has no Real NVP of this architecture (see
    :data:`REALNVP_NOTE`)."""
    from baselines.handwritten_realnvp_cifar10 import HandwrittenRealNVPCifar10

    twin = HandwrittenRealNVPCifar10()
    ours, theirs = (sum(p.numel() for p in m.parameters()) for m in (model, twin))
    assert ours == theirs, f"the twin has {theirs:,} parameters, flowspec {ours:,}"
    return {"plain torch": (twin, twin.log_prob)}


#: name -> (zoo spec, the other contenders built beside flowspec's model of it)
COMPARISONS = {
    "glow": ("glow_cifar10_affine.yaml", _glow_peers),
    "realnvp": ("realnvp_cifar10.yaml", _realnvp_peers),
}


def compare(name: str, steps: int) -> dict[str, object]:
    """A zoo spec's train step in flowspec and its peers, interleaved rounds; beside each
    median, how far the resident high-water mark rose during the step (activations kept for
    backward, gradients, temporaries: MiB, median over the rounds)."""
    from harness.memory_probe import reset_peak, resident_kib
    from harness.timing import rotated

    import flowspec

    spec, peers = COMPARISONS[name]
    torch.manual_seed(0)
    model = flowspec.compile(ZOO / spec)
    contenders = {"flowspec": (model, model.log_prob), **peers(model)}
    x = _data(model, BATCH)
    model.train()
    steps_of = {name: _train_step(m, lp, x) for name, (m, lp) in contenders.items()}
    for step in steps_of.values():
        step()  # warm-up (actnorm initialisation in flowspec and normflows; Adam's state)
    times: dict[str, list[float]] = {name: [] for name in steps_of}
    rises: dict[str, list[float]] = {name: [] for name in steps_of}
    for round_ in range(steps):
        for name in rotated(list(steps_of), round_):
            before = reset_peak()
            times[name].append(steps_of[name]())
            rises[name].append((resident_kib()[1] - before) / 1024)
    return {
        "steps": steps,
        "step_s": {name: statistics.median(t) for name, t in times.items()},
        # Each round's ratio to flowspec's step of the same round: the machine's speed
        # drifts by tens of percent within minutes under load, a pair of neighbours less.
        "ratio": {
            name: statistics.median(a / b for a, b in zip(t, times["flowspec"], strict=True))
            for name, t in times.items()
        },
        "step_peak_mib": {name: statistics.median(r) for name, r in rises.items()},
        "parameters": {
            name: sum(p.numel() for p in m.parameters()) for name, (m, _) in contenders.items()
        },
        "load": _load(),
    }


def profile(spec: str) -> dict[str, object]:
    """One training step at full size under torch.profiler: the time inside torch's
    operators (the sum of every operator's self CPU time, forward, backward and Adam)
    against the step's wall time; the rest is Python: flowspec's own, the loop's and
    torch's Python wrappers, so it bounds flowspec's own share from above."""
    from torch.profiler import ProfilerActivity
    from torch.profiler import profile as torch_profile

    import flowspec

    torch.manual_seed(0)
    model = flowspec.compile(ZOO / spec)
    x = _data(model, BATCH)
    model.train()
    step = _train_step(model, model.log_prob, x)
    step()
    with torch_profile(activities=[ProfilerActivity.CPU]) as profiler:
        wall = step()
    in_torch = sum(event.self_cpu_time_total for event in profiler.key_averages()) / 1e6
    return {"spec": spec, "total_s": wall, "torch_s": in_torch, "load": _load()}


def _run(*arguments: str) -> dict[str, object]:
    """A child process's figures, also printed to stderr as they come (a run that fails
    later keeps them)."""
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONWARNINGS="ignore")
    done = subprocess.run(
        [sys.executable, __file__, *arguments], capture_output=True, text=True, env=env, check=True
    )
    line = done.stdout.strip().splitlines()[-1]
    print(line, file=sys.stderr, flush=True)
    return json.loads(line)


COMPARISON_NOTE = (
    "'ratio to flowspec': the median over the rounds of a step's time over flowspec's step "
    "in the same round (under load the machine's speed drifts by tens of percent within "
    "minutes, which a ratio of medians of a few rounds would carry; runs stored before "
    "that: the ratio of the medians). 'step peak rise': how far the process's resident "
    "high-water mark (VmHWM, reset through /proc/self/clear_refs after malloc_trim) rose "
    "during one train step, median over the rounds: activations kept for backward, "
    "gradients, temporaries; parameters and Adam's state were resident before."
)

#: What each comparison is, before its table.
INTRODUCTIONS = {
    "glow": "Glow against normflows' Glow (same levels, steps, widths and actnorms in the "
    "conv nets; its bases are unconditional diagonal Gaussians, it has no padding "
    "channel, and its coupling scale is a sigmoid) and a plain-torch twin of the "
    "spec (`benchmarks/baselines/handwritten_glow.py`; its LU factors are stored "
    "as full matrices)",
    "realnvp": "Real NVP (`specs/zoo/realnvp_cifar10.yaml`) against "
    "`benchmarks/baselines/handwritten_realnvp_cifar10.py`, the same model written with "
    "torch ops: the same masks, Real NVP ResNet conditioners, batch-norm bijections and "
    "parameter count (asserted equal here; `tests/test_realnvp_twin.py` copies weights "
    "across at small widths and checks equal log-likelihoods and gradients). normflows is "
    "not compared: it has no Real NVP of this architecture at equal size. Its "
    "convolutional conditioner (`nets.ConvResidualNet`) lifts with a 1x1 convolution, has "
    "no weight normalisation, no `[h, -h]` input and no skip connections from the blocks, "
    "and its `flows.BatchNorm` normalises every element over the batch instead of every "
    "channel over the batch and the positions; a model built from them would be a "
    "different network with a different parameter count",
}
TITLES = {"glow": "Glow CIFAR-10 (affine), batch 8", "realnvp": "Real NVP CIFAR-10, batch 8"}


def _comparison(name: str, versus: dict | None) -> list[str]:
    """A comparison's paragraph and table (none before it ran)."""
    if versus is None:
        return []
    ours = versus["step_s"]["flowspec"]
    ratios = markdown_table(
        [TITLES[name], "parameters", "s / train step", "ratio to flowspec", "step peak rise MiB"],
        [
            [
                peer,
                f"{versus['parameters'][peer]:,}",
                f"{s:.2f}",
                f"{versus.get('ratio', {}).get(peer, s / ours):.3f}",
                f"{versus['step_peak_mib'][peer]:.0f}" if "step_peak_mib" in versus else "",
            ]
            for peer, s in versus["step_s"].items()
        ],
    )
    return [
        f"{INTRODUCTIONS[name]}. Each step was timed in interleaved rounds in one process "
        f"({versus['steps']} rounds, load {versus['load']}):",
        ratios,
    ]


def markdown(rows: list[dict], comparisons: dict[str, dict], profiles: list[dict]) -> str:
    table = markdown_table(
        [
            "spec",
            "parameters",
            "s / train step (batch 8)",
            "timed steps",
            "samples / s",
            "peak RSS MiB",
            "load",
        ],
        [
            [
                f"`specs/zoo/{r['spec']}`",
                f"{r['parameters']:,}",
                f"{r['step_s']:.2f}",
                str(r["steps"]),
                "not measured" if r["samples_per_s"] is None else f"{r['samples_per_s']:.2f}",
                f"{r['peak_rss_mib']:.0f}",
                r["load"],
            ]
            for r in rows
        ]
        + [[f"`specs/zoo/{spec}`", reason, "", "", "", "", ""] for spec, reason in NOT_RUN.items()],
    )
    shares = markdown_table(
        [
            "one train step (batch 8)",
            "s (profiled)",
            "in torch operators",
            "outside: Python",
            "load",
        ],
        [
            [
                f"`{p['spec']}`",
                f"{p['total_s']:.2f}",
                f"{100 * p['torch_s'] / p['total_s']:.1f}%",
                f"{100 * (1 - p['torch_s'] / p['total_s']):.1f}%",
                p["load"],
            ]
            for p in profiles
        ],
    )
    return "\n\n".join(
        [
            "## The zoo of published architectures at full size (bench_zoo.py)",
            f"Medians of the timed Adam steps after one warm-up step, batch {BATCH} of random "
            "data of each spec's shape (integers for discrete inputs), one thread, each spec "
            "in a fresh process (peak RSS: the process's high-water mark, `ru_maxrss`, "
            "model, Adam state and one sampling call of 8 included). Samples/s: one call of "
            "`sample(8)`. Load averages (1, 5, 15 min) as measured after each run; the "
            "machine has 2 cores shared by other jobs, so times are upper bounds. Rows come "
            "from separate runs (benchmarks/zoo_runs.json keeps each), each with its load.",
            table,
            COMPARISON_NOTE,
            *(line for name in COMPARISONS for line in _comparison(name, comparisons.get(name))),
            "Where one training step's time goes (torch.profiler, CPU): the self time of "
            "every torch operator (forward, autograd's backward, Adam) summed, against the "
            "step's wall time; what is left is Python (flowspec's own, the training loop's, "
            "torch's wrappers) and the profiler's own cost, an upper bound on flowspec's share.",
            shares,
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="one timed step each")
    parser.add_argument("--steps", type=int, help="timed steps (default 3; quick 1)")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--batch", type=int, default=BATCH, help="with --child: the batch")
    parser.add_argument("--no-sample", action="store_true", help="with --child: no sampling")
    parser.add_argument("--compare", choices=sorted(COMPARISONS), help=argparse.SUPPRESS)
    parser.add_argument("--only", help="run these specs only (comma-separated file names)")
    parser.add_argument("--profile", help=argparse.SUPPRESS)
    parser.add_argument(
        "--profiles", help=f"profile these specs' steps (default {','.join(PROFILED)})"
    )
    parser.add_argument("--no-compare", action="store_true", help="keep the stored comparisons")
    parser.add_argument(
        "--part",
        choices=sorted(COMPARISONS),
        help="only this comparison, with its spec's row and profile (the rest kept)",
    )
    args = parser.parse_args()
    steps = args.steps or (1 if args.quick else 3)
    torch.set_num_threads(1)
    if args.child:
        print(json.dumps(child(args.child, steps, args.batch, not args.no_sample)))
        return
    if args.compare:
        print(json.dumps(compare(args.compare, steps)))
        return
    if args.profile:
        print(json.dumps(profile(args.profile)))
        return
    specs = sorted(p.name for p in ZOO.glob("*.yaml") if p.name not in NOT_RUN)
    if args.only:
        specs = [spec for spec in specs if spec in args.only.split(",")]
    compared = [] if args.no_compare else list(COMPARISONS)
    profiled = args.profiles.split(",") if args.profiles else list(PROFILED)
    if args.part:
        specs = profiled = [COMPARISONS[args.part][0]]
        compared = [args.part]
    stored = _stored() if not args.quick else {"rows": {}, "comparisons": {}, "profiles": {}}
    for spec in specs:
        print(f"== {spec}", file=sys.stderr, flush=True)
        stored["rows"][spec] = _run("--child", spec, "--steps", str(steps))
    for name in compared:
        print(f"== {name}: flowspec against its peers", file=sys.stderr, flush=True)
        stored["comparisons"][name] = _run("--compare", name, "--steps", str(steps))
    for spec in profiled:
        print(f"== profile {spec}", file=sys.stderr, flush=True)
        stored["profiles"][spec] = _run("--profile", spec)
    section = markdown(
        [stored["rows"][spec] for spec in sorted(stored["rows"])],
        stored["comparisons"],
        [stored["profiles"][spec] for spec in sorted(stored["profiles"])],
    )
    print(marked(SECTION, section))
    if not args.quick:
        RUNS.write_text(json.dumps(stored, indent=1) + "\n")
        replace_section(SECTION, section)


def _stored() -> dict:
    """The figures of earlier runs (benchmarks/zoo_runs.json), or none yet."""
    if RUNS.is_file():
        return json.loads(RUNS.read_text())
    return {"rows": {}, "comparisons": {}, "profiles": {}}


if __name__ == "__main__":
    main()
