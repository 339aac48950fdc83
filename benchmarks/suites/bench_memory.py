"""Peak training memory against depth, with and without ``train: {memory: invertible}``.

Glow (Kingma and Dhariwal 2018) with K = 4, 8, 16, 32 steps per level, on ``digits_image``
(1x8x8, two levels, as ``specs/glow_digits.yaml``) and at CIFAR-10 shape (3x32x32, three
levels), at a fixed batch. Every point runs in a fresh process, one at a time: after two
warm-up Adam steps (the parameters, their gradients and the Adam state are then resident)
the free heap is returned and the kernel's high-water mark reset
(``harness/memory_probe.py``); the figure is how far the resident set then rises over
three more steps: the activations kept for backward and the temporaries, in MiB. Step time
is the median of those steps (1 thread); the ratio invertible / stored is measured in one
process, the two options' steps alternating. The gradients of both options are compared on the
same weights and batch in float32 (largest relative difference over parameters). The
largest batch in a 4 GiB budget is extrapolated from the activation memory at two batch
sizes (linear in the batch), not searched.

    python benchmarks/suites/bench_memory.py            # both shapes, K = 4..32, writes RESULTS.md and the figure
    python benchmarks/suites/bench_memory.py --quick    # digits only, K = 4, 8
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/: its packages
from harness.table import markdown_table

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
FIGURE = ROOT / "benchmarks" / "memory_depth.png"
START, END = "<!-- memory-depth:start -->", "<!-- memory-depth:end -->"
BUDGET_MIB = 4096
#: shape name -> (event shape, levels, batch, conditioner channels)
SHAPES = {
    "digits_image": ((1, 8, 8), 2, 64, 32),
    "cifar10": ((3, 32, 32), 3, 16, 32),
}


def glow_spec(shape: tuple[int, ...], levels: int, k: int, channels: int) -> str:
    """Glow with ``levels`` levels of ``k`` steps, half the channels factored out after
    every level but the last (as specs/glow_digits.yaml, deeper)."""
    c = shape[0]
    lines = [
        'flowspec: "1"',
        f"name: glow-k{k}",
        "inputs:",
        f"  x: {{shape: {list(shape)}, low: 0, high: 1}}",
        "blocks:",
        "  step:",
        "    - {kind: actnorm}",
        "    - {kind: invconv1x1}",
        "    - kind: coupling",
        "      mask: channel",
        "      transformer: {kind: affine, scale_bound: 2.0}",
        f"      conditioner: {{kind: resnet, channels: {channels}, blocks: 1, kernel: 3}}",
        "  scale:",
        "    - {kind: squeeze}",
        f"    - {{block: step, repeat: {k}}}",
        "nodes:",
        "  to_real: {kind: elementwise, fn: logit, alpha: 0.05, in: x}",
    ]
    source = "to_real"
    for level in range(levels):
        c *= 4
        lines.append(f"  level{level}: {{block: scale, in: {source}}}")
        if level == levels - 1:
            lines.append(f"  prior: {{kind: standard_normal, in: level{level}}}")
        else:
            lines.append(
                f"  cut{level}: {{kind: split, sizes: [{c // 2}, {c // 2}], in: level{level}}}"
            )
            lines.append(f"  early{level}: {{kind: standard_normal, in: cut{level}.out1}}")
            source, c = f"cut{level}.out0", c // 2
    lines.append("accept:\n  W501: logit with alpha maps onto a bounded interval")
    return "\n".join(lines) + "\n"


def point(shape_name: str, k: int, memory: str, batch: int) -> dict[str, float]:
    """One measurement, in this (fresh) process."""
    import torch
    from harness.memory_probe import reset_peak, resident_kib

    import flowspec
    from flowspec.emit.memory import low_memory

    torch.set_num_threads(1)
    torch.manual_seed(0)
    shape, levels, _, channels = SHAPES[shape_name]
    model = flowspec.compile(glow_spec(shape, levels, k, channels))
    x = torch.rand(batch, *shape) * 0.98 + 0.01
    model.initialize(x)
    network = model if memory == "stored" else low_memory(model, memory)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    model.train()

    def step() -> float:
        start = time.perf_counter()
        loss = -network(x).mean()
        optimizer.zero_grad(set_to_none=False)
        loss.backward()
        optimizer.step()
        return time.perf_counter() - start

    step(), step()
    base = reset_peak()
    times = [step() for _ in range(3)]
    peak = resident_kib()[1]
    return {"activation_mib": (peak - base) / 1024, "step_s": statistics.median(times)}


def timing(shape_name: str, k: int, rounds: int = 5) -> float:
    """The median ratio of invertible to stored step time, the two alternating in one
    process on the same weights and batch (a busy machine slows both alike)."""
    import torch

    import flowspec
    from flowspec.emit.memory import low_memory

    torch.set_num_threads(1)
    torch.manual_seed(0)
    shape, levels, batch, channels = SHAPES[shape_name]
    model = flowspec.compile(glow_spec(shape, levels, k, channels))
    x = torch.rand(batch, *shape) * 0.98 + 0.01
    model.initialize(x)
    model.train()
    networks = (model, low_memory(model, "invertible"))

    def step(network: torch.nn.Module) -> float:
        start = time.perf_counter()
        model.zero_grad()
        network(x).mean().backward()
        return time.perf_counter() - start

    step(networks[0]), step(networks[1])
    ratios = []
    for _ in range(rounds):
        stored, rebuilt = step(networks[0]), step(networks[1])
        ratios.append(rebuilt / stored)
    return statistics.median(ratios)


def gradient_difference(shape_name: str, k: int, scale: float = 0.005) -> float:
    """``|g_invertible - g_stored| / |g_stored|`` (2-norms over every parameter) of the
    float32 gradients with and without the option, on the same batch and weights moved
    off the identity start by ``scale`` times a normal draw (larger moves make a deep
    random Glow diverge: at 0.02, K = 16 at CIFAR-10 shape gives log_prob -4e24, which the
    run-time check refuses)."""
    import torch

    import flowspec
    from flowspec.emit.memory import low_memory

    torch.set_num_threads(1)
    torch.manual_seed(0)
    shape, levels, batch, channels = SHAPES[shape_name]
    model = flowspec.compile(glow_spec(shape, levels, k, channels))
    x = torch.rand(min(batch, 8), *shape) * 0.98 + 0.01
    model.initialize(x)
    for parameter in model.parameters():  # away from the identity start
        parameter.data.add_(scale * torch.randn_like(parameter))
    model.train()
    grads = []
    for network in (model, low_memory(model, "invertible")):
        model.zero_grad()
        network(x).mean().backward()
        grads.append(torch.cat([p.grad.flatten() for p in model.parameters()]))
    return float((grads[1] - grads[0]).norm() / grads[0].norm())


def fresh(*args: str) -> dict[str, float]:
    env = dict(os.environ, OMP_NUM_THREADS="1", MALLOC_MMAP_THRESHOLD_="65536")
    done = subprocess.run(
        [sys.executable, __file__, *args], capture_output=True, text=True, env=env, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def figure(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(SHAPES), figsize=(5 * len(SHAPES), 3.6))
    for axis, shape_name in zip(list(getattr(axes, "flat", [axes])), SHAPES, strict=False):
        for memory, style in (("stored", "o-"), ("invertible", "s-")):
            mine = [r for r in rows if r["shape"] == shape_name and r["memory"] == memory]
            axis.plot(
                [r["k"] for r in mine], [r["activation_mib"] for r in mine], style, label=memory
            )
        axis.set_xscale("log", base=2)
        axis.set_xlabel("Glow steps per level K")
        axis.set_ylabel("peak activation memory (MiB)")
        batch = SHAPES[shape_name][2]
        axis.set_title(f"{shape_name}, batch {batch}")
        axis.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--point", nargs=4, metavar=("SHAPE", "K", "MEMORY", "BATCH"))
    parser.add_argument("--gradients", nargs=2, metavar=("SHAPE", "K"))
    parser.add_argument("--timing", nargs=2, metavar=("SHAPE", "K"))
    args = parser.parse_args()
    if args.point:
        shape, k, memory, batch = args.point
        print(json.dumps(point(shape, int(k), memory, int(batch))))
        return
    if args.timing:
        print(json.dumps({"ratio": timing(args.timing[0], int(args.timing[1]))}))
        return
    if args.gradients:
        print(
            json.dumps({"relative": gradient_difference(args.gradients[0], int(args.gradients[1]))})
        )
        return
    shapes = ["digits_image"] if args.quick else list(SHAPES)
    depths = [4, 8] if args.quick else [4, 8, 16, 32]
    rows = []
    for shape in shapes:
        batch = SHAPES[shape][2]
        for k in depths:
            for memory in ("stored", "invertible"):
                figures = fresh("--point", shape, str(k), memory, str(batch))
                rows.append({"shape": shape, "k": k, "memory": memory, **figures})
                print(rows[-1], file=sys.stderr, flush=True)
            rows[-1]["gradient"] = fresh("--gradients", shape, str(k))["relative"]
            rows[-1]["ratio"] = fresh("--timing", shape, str(k))["ratio"]
    largest = {}
    for shape in shapes:
        k = depths[-1]
        batch = SHAPES[shape][2]
        for memory in ("stored", "invertible"):
            half = fresh("--point", shape, str(k), memory, str(batch // 2))["activation_mib"]
            full = next(r for r in rows if (r["shape"], r["k"], r["memory"]) == (shape, k, memory))
            per_example = max((full["activation_mib"] - half) / (batch - batch // 2), 1e-9)
            fixed = full["activation_mib"] - per_example * batch
            largest[(shape, memory)] = int((BUDGET_MIB - fixed) / per_example)
    print(render(rows, largest, shapes, depths))
    if not args.quick:
        figure(rows, FIGURE)
        block = render(rows, largest, shapes, depths)
        text = RESULTS.read_text()
        pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.DOTALL)
        text = (
            pattern.sub(lambda _: block, text)
            if pattern.search(text)
            else text + "\n" + block + "\n"
        )
        RESULTS.write_text(text)


def render(rows: list[dict], largest: dict, shapes: list[str], depths: list[int]) -> str:
    table = []
    for shape in shapes:
        for k in depths:
            stored, inv = (
                next(r for r in rows if (r["shape"], r["k"], r["memory"]) == (shape, k, m))
                for m in ("stored", "invertible")
            )
            table.append(
                [
                    shape,
                    str(k),
                    f"{stored['activation_mib']:.1f}",
                    f"{inv['activation_mib']:.1f}",
                    f"{stored['step_s']:.3f}",
                    f"{inv['step_s']:.3f}",
                    f"{inv['ratio']:.2f}",
                    f"{inv['gradient']:.1e}",
                ]
            )
    ratios = []
    for shape in shapes:
        inv = {
            r["k"]: r["activation_mib"]
            for r in rows
            if r["shape"] == shape and r["memory"] == "invertible"
        }
        ratios.append(
            f"{shape}: K={depths[-1]} / K={depths[0]} = {inv[depths[-1]] / inv[depths[0]]:.2f}x"
        )
    budget = "; ".join(
        f"{shape}, K={depths[-1]}: stored {largest[(shape, 'stored')]}, invertible "
        f"{largest[(shape, 'invertible')]}"
        for shape in shapes
    )
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    header = [
        "shape",
        "K",
        "stored MiB",
        "invertible MiB",
        "stored s/step",
        "invertible s/step",
        "time ratio",
        "grad rel. diff (float32, 2-norm)",
    ]
    return "\n".join(
        [
            START,
            "## Training memory against depth (`train: {memory: invertible}`)",
            "",
            "`python benchmarks/suites/bench_memory.py`: peak activation memory (resident-set "
            "rise over 3 Adam steps after 2 warm-up steps, parameters, gradients and Adam "
            "state excluded; a fresh process per point, 1 thread, glibc mmap threshold 64 KiB) "
            "of Glow with K steps per level; digits_image at batch "
            f"{SHAPES['digits_image'][2]}, CIFAR-10 shape at batch {SHAPES['cifar10'][2]}. "
            f"Load average {load} at the end of the run (shared 2-core VM): the step times "
            "(forward, backward, Adam) come from the memory processes, run one after the "
            "other, and are noisy; the time ratio is the median of 5 forward+backward steps "
            "of each option alternating in one process on the same weights and batch.",
            "",
            markdown_table(header, table),
            "",
            "Invertible activation memory, deepest over shallowest: " + "; ".join(ratios) + ".",
            "",
            f"Largest batch in a {BUDGET_MIB} MiB activation budget (extrapolated from batch "
            f"and half batch, linear in the batch): {budget}.",
            "",
            "![memory against depth](memory_depth.png)",
            END,
        ]
    )


if __name__ == "__main__":
    main()
