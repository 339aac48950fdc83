"""CNF (FFJORD) train step and sampling: flowspec against zuko's CNF, with the number of
vector-field evaluations beside every time.

Both sides: an MLP field (time features, x) -> 64 -> 64 -> D with ELU, adaptive
Dormand-Prince at atol 1e-6 and rtol 1e-5, one thread, the same batches, times as medians
of interleaved rounds. flowspec runs twice: with torchdiffeq's first step (the default) and
with ``solver: {first_step: estimate}`` (torchdiffeq's guess, the default before
bench_cnf; the default tries the whole interval first, as zuko does), and, for the exact
trace at initialisation, as before bench_cnf (that first step and one backward pass per
feature for the trace, instead of the closed form of layers/_mlp_trace.py). Cases:
2-D moons and 64-D digits (dequantized: ``(pixel + u) / 17``, ``u ~ U(0, 1)``), the exact
trace and Hutchinson's. Part one times a training step (loss, backward) at
initialisation; part two trains every contender in lockstep with Hutchinson's trace, then
times the step with either trace and sampling at the trained weights. Evaluations are
counted by a forward pre-hook on each side's field: in the forward solve, and in the
backward pass (zuko's adjoint solves again; flowspec backpropagates through the stored
steps and calls the field no more).

    python benchmarks/suites/bench_cnf.py            # full (about 15 minutes on 2 loaded cores)
    python benchmarks/suites/bench_cnf.py --quick    # smoke run, stdout only
"""

from __future__ import annotations

import copy
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/: its packages
from harness.contender import count_parameters
from harness.machine import load_average, quick_run
from harness.table import markdown_table
from harness.timing import interleaved_medians

RESULTS = Path(__file__).resolve().parents[1] / "RESULTS.md"
START, END = "<!-- bench_cnf -->", "<!-- /bench_cnf -->"
BATCH = 256
LR = 2e-3

SPEC = """
flowspec: "1"
name: cnf-bench
inputs:
  x: {{shape: [{features}]}}
nodes:
  flow:
    kind: cnf
    in: x
    net: {{kind: mlp, hidden: [64, 64], activation: elu}}
    trace: {trace}
    solver: {{method: dopri5, atol: 1.0e-6, rtol: 1.0e-5{extra}}}
  prior: {{kind: standard_normal, in: flow}}
"""


#: The reference log_prob: float64, exact trace, rtol = atol = REFERENCE_TOLERANCE.
REFERENCE_TOLERANCE = 1e-9


@dataclass
class Side:
    """One contender: its module, log_prob, sampler, the field its hook counts and how to
    switch its trace between exact and Hutchinson's."""

    module: nn.Module
    log_prob: Callable[[torch.Tensor], torch.Tensor]
    sample: Callable[[int], torch.Tensor]
    field: nn.Module
    set_exact: Callable[[bool], None]
    #: A float64 copy with the exact trace at REFERENCE_TOLERANCE: its log_prob.
    reference: Callable[[], Callable[[torch.Tensor], torch.Tensor]]
    calls: int = 0

    def __post_init__(self) -> None:
        self.field.register_forward_pre_hook(self._count)

    def _count(self, *_: object) -> None:
        self.calls += 1


def flowspec_side(features: int, trace: str, estimate: bool, closed_form: bool = True) -> Side:
    """flowspec's CNF; ``estimate``: torchdiffeq's first step; without ``closed_form`` an
    MLP field's exact trace takes one backward pass per feature, as before bench_cnf."""
    import flowspec

    extra = ", first_step: estimate" if estimate else ""
    model = flowspec.compile(SPEC.format(features=features, trace=trace, extra=extra))
    layer = next(m for m in model.modules() if type(m).__name__ == "CNF")
    layer.dynamics.plain_mlp = layer.dynamics.plain_mlp and closed_form

    def set_exact(exact: bool) -> None:
        layer.dynamics.trace = "exact" if exact else "hutchinson"

    def reference() -> Callable[[torch.Tensor], torch.Tensor]:
        twin = copy.deepcopy(model).double()
        solver = next(m for m in twin.modules() if type(m).__name__ == "CNF")
        solver.rtol = solver.atol = REFERENCE_TOLERANCE
        solver.options, solver.dynamics.trace = {}, "exact"
        return twin.log_prob

    return Side(model, model.log_prob, model.sample, layer.dynamics, set_exact, reference)


def zuko_side(features: int, trace: str) -> Side:
    import zuko

    # One frequency: (cos, sin) of the time, one input more than flowspec's t.
    flow = zuko.flows.CNF(features, freqs=1, hidden_features=(64, 64), exact=trace == "exact")

    def set_exact(exact: bool) -> None:
        flow.transform.exact = exact

    def reference() -> Callable[[torch.Tensor], torch.Tensor]:
        twin = copy.deepcopy(flow).double()
        twin.transform.atol = twin.transform.rtol = REFERENCE_TOLERANCE
        twin.transform.exact = True
        return lambda x: twin().log_prob(x)

    return Side(
        flow,
        lambda x: flow().log_prob(x),
        lambda n: flow().sample((n,)),
        flow.transform.ode,
        set_exact,
        reference,
    )


def contenders(features: int, trace: str, before: bool) -> dict[str, Side]:
    """flowspec (default solver), with torchdiffeq's first step, as it was before (that
    first step and the per-feature trace; only where ``before``), and zuko."""
    builders = {
        "flowspec": lambda: flowspec_side(features, trace, False),
        "flowspec, first_step: estimate": lambda: flowspec_side(features, trace, True),
        "flowspec before": lambda: flowspec_side(features, trace, True, closed_form=False),
        "zuko": lambda: zuko_side(features, trace),
    }
    if not before:
        del builders["flowspec before"]
    sides = {}
    for name, build in builders.items():
        torch.manual_seed(0)
        sides[name] = build()
    return sides


def data(name: str, quick: bool) -> tuple[torch.Tensor, torch.Tensor]:
    """(train, test) in float32: moons as generated, digits dequantized to [0, 1]."""
    from flowspec.train.data import load_dataset

    if name == "moons":
        sets = load_dataset("moons", n_train=10_000, n_test=2_000, seed=0)
        return sets.train.float(), sets.test.float()
    sets = load_dataset("digits", seed=0)
    generator = torch.Generator().manual_seed(0)

    def dequantize(x: torch.Tensor) -> torch.Tensor:
        return (x.float() + torch.rand(x.shape, generator=generator)) / 17

    return dequantize(sets.train), dequantize(sets.test)


def step(side: Side, x: torch.Tensor) -> tuple[int, int]:
    """One training step's loss and backward pass (no update): field calls in each."""
    side.module.zero_grad(set_to_none=True)
    side.calls = 0
    loss = -side.log_prob(x).mean()
    forward = side.calls
    loss.backward()
    return forward, side.calls - forward


def sample_calls(side: Side, n: int) -> int:
    side.calls = 0
    with torch.no_grad():
        side.sample(n)
    return side.calls


def timed_steps(
    sides: dict[str, Side], x: torch.Tensor, repeats: int, warmup: int
) -> list[list[str]]:
    """Rows: contender, parameters, field calls forward / backward, median step, ratio to
    zuko's step."""
    calls = {name: step(side, x) for name, side in sides.items()}
    seconds = interleaved_medians(
        {name: (lambda s=side: step(s, x)) for name, side in sides.items()}, repeats, 1, warmup
    )
    return [
        [
            name,
            f"{count_parameters(side.module):,}",
            f"{calls[name][0]} / {calls[name][1]}",
            f"{seconds[name] * 1e3:.0f} ms",
            f"{seconds[name] / seconds['zuko']:.2f}x",
        ]
        for name, side in sides.items()
    ]


STEP_HEADER = ["library", "params", "field calls fwd / bwd", "train step (median)", "/ zuko"]


def at_initialisation(quick: bool) -> str:
    parts = ["### Training step at initialisation (batch 256, no update)"]
    for dataset, features in (("moons", 2), ("digits", 64)):
        train, _ = data(dataset, quick)
        x = train[:BATCH]
        for trace in ("exact", "hutchinson"):
            sides = contenders(features, trace, before=trace == "exact")
            slow = features > 2 and trace == "exact"
            repeats, warmup = (1, 0) if quick else ((3, 1) if slow else (5, 2))
            rows = timed_steps(sides, x, repeats, warmup)
            parts += [
                f"**{dataset} ({features}-D), trace {trace}**",
                markdown_table(STEP_HEADER, rows),
            ]
    return "\n\n".join(parts)


def train(sides: dict[str, Side], train_set: torch.Tensor, steps: int) -> dict[str, float]:
    """Lockstep training with Hutchinson's trace; the last loss of each contender."""
    optimizers = {
        name: torch.optim.Adam(side.module.parameters(), lr=LR) for name, side in sides.items()
    }
    batches = torch.Generator().manual_seed(1)
    last = {}
    for _ in range(steps):
        x = train_set[torch.randint(len(train_set), (BATCH,), generator=batches)]
        for name, side in sides.items():
            optimizers[name].zero_grad(set_to_none=True)
            loss = -side.log_prob(x).mean()
            loss.backward()
            optimizers[name].step()
            last[name] = float(loss)
    return last


def trained(quick: bool) -> str:
    parts = ["### After training (Hutchinson's trace, Adam 2e-3, batch 256, lockstep)"]
    for dataset, features, steps in (("moons", 2, 300), ("digits", 64, 100)):
        steps = 3 if quick else steps
        train_set, test = data(dataset, quick)
        sides = contenders(features, "hutchinson", before=False)
        losses = train(sides, train_set, steps)
        x = test[:BATCH]
        repeats, warmup = (1, 0) if quick else (5, 1)
        for exact in (True, False):
            for side in sides.values():
                side.set_exact(exact)
            rows = timed_steps(sides, x, repeats if features == 2 or not exact else 3, warmup)
            label = "exact" if exact else "hutchinson"
            parts += [
                f"**{dataset} ({features}-D) after {steps} steps, step with trace {label}**",
                markdown_table(STEP_HEADER, rows),
            ]
        calls = {name: sample_calls(side, BATCH) for name, side in sides.items()}
        with torch.no_grad():
            seconds = interleaved_medians(
                {name: (lambda s=side: s.sample(BATCH)) for name, side in sides.items()},
                repeats,
                1,
                warmup,
            )
            for side in sides.values():
                side.set_exact(True)
            scored = test[:64]
            values = {name: side.log_prob(scored) for name, side in sides.items()}
            errors = {
                name: float((values[name].double() - side.reference()(scored.double())).abs().max())
                for name, side in sides.items()
            }
        rows = [
            [
                name,
                f"{losses[name]:.3f}",
                f"{-float(values[name].mean()):.3f}",
                f"{errors[name]:.1e}",
                str(calls[name]),
                f"{seconds[name] * 1e3:.0f} ms",
                f"{seconds[name] / seconds['zuko']:.2f}x",
            ]
            for name in sides
        ]
        header = [
            "library",
            "last train loss",
            "test NLL, exact trace (nats)",
            f"max log_prob error vs float64 at {REFERENCE_TOLERANCE:g} (nats)",
            "field calls",
            "sample 256",
            "/ zuko",
        ]
        parts += [
            f"**{dataset} ({features}-D) after {steps} steps: sampling**",
            markdown_table(header, rows),
        ]
    return "\n\n".join(parts)


def main() -> None:
    quick = quick_run(__doc__)
    load = load_average()
    block = "\n\n".join(
        [
            START,
            "## CNF train step and sampling against zuko (bench_cnf.py)",
            f"Load average at the start: {load}. Field calls are counted by a hook on each side's "
            "vector field; flowspec's backward pass backpropagates through the stored solver steps "
            "(0 calls), zuko's adjoint solves again.",
            at_initialisation(quick),
            trained(quick),
            END,
        ]
    )
    print(block)
    if not quick:
        text = RESULTS.read_text()
        pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.DOTALL)
        text = (
            pattern.sub(lambda _: block, text)
            if pattern.search(text)
            else text.rstrip("\n") + "\n\n" + block + "\n"
        )
        RESULTS.write_text(text)


if __name__ == "__main__":
    main()
