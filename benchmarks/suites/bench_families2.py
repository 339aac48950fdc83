"""Flow families II on 2-D moons: FFJORD in flowspec against zuko's CNF, and a residual
flow in flowspec against normflows' residual flow (same architecture and budget): train-step
time, log_prob and sample throughput and test NLL side by side; then the bias and spread of
the log-det estimators (truncated series, Russian roulette, Hutchinson) against exact values.

    python benchmarks/suites/bench_families2.py            # full (under 8 minutes on 2 cores)
    python benchmarks/suites/bench_families2.py --quick    # smoke run
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # benchmarks/: its packages
from harness.contender import Contender
from harness.machine import quick_run
from harness.suite import Workload, run_workload
from harness.table import markdown_table

SPECS = Path(__file__).resolve().parents[2] / "specs"
HIDDEN = (64, 64)
BLOCKS = 4

#: flowspec's FFJORD with zuko's solver settings (adaptive Dormand-Prince, atol 1e-6,
#: rtol 1e-5), its ELU activation and Hutchinson's estimator (zuko exact=False).
FFJORD = """
flowspec: "1"
name: ffjord-bench
inputs:
  x: {shape: [2]}
nodes:
  flow:
    kind: cnf
    in: x
    net: {kind: mlp, hidden: [64, 64], activation: elu}
    trace: hutchinson
    solver: {method: dopri5, atol: 1.0e-6, rtol: 1.0e-5}
  prior: {kind: standard_normal, in: flow}
"""


def flowspec_ffjord() -> Contender:
    import flowspec

    model = flowspec.compile(FFJORD)
    return Contender(
        "flowspec",
        model,
        model.log_prob,
        model.sample,
        "cnf node, MLP (t, x) -> 64 -> 64 -> 2, ELU, torchdiffeq dopri5 "
        "(atol 1e-6, rtol 1e-5), Hutchinson trace, direct backpropagation.",
    )


def zuko_ffjord() -> Contender:
    import zuko

    flow = zuko.flows.CNF(2, hidden_features=HIDDEN, exact=False)
    return Contender(
        "zuko",
        flow,
        lambda x: flow().log_prob(x),
        lambda n: flow().sample((n,)),
        "zuko.flows.CNF(exact=False): MLP (sin/cos time embedding with 3 "
        "frequencies, x) -> 64 -> 64 -> 2, ELU, zuko's adaptive solver "
        "(atol 1e-6, rtol 1e-5) with its checkpointed adjoint.",
    )


def flowspec_resflow() -> Contender:
    import flowspec

    model = flowspec.compile(SPECS / "resflow_moons.yaml")
    return Contender(
        "flowspec",
        model,
        model.log_prob,
        model.sample,
        "specs/resflow_moons.yaml: 4 x (residual block MLP 2 -> 64 -> 64 -> 2, "
        "ELU, Lipschitz 0.9, 1 power-iteration step per backward pass; roulette "
        "with 2 exact terms, geometric p 0.5, Neumann gradient; actnorm).",
    )


def normflows_resflow() -> Contender:
    import normflows as nf

    flows = []
    for _ in range(BLOCKS):
        net = nf.nets.LipschitzMLP([2, *HIDDEN, 2], lipschitz_const=0.9, init_zeros=True)
        flows += [
            nf.flows.Residual(net, reduce_memory=True, n_exact_terms=2, geom_p=0.5),
            nf.flows.ActNorm(2),
        ]
    model = nf.NormalizingFlow(nf.distributions.DiagGaussian(2, trainable=False), flows)
    return Contender(
        "normflows",
        model,
        model.log_prob,
        lambda n: model.sample(n)[0],
        "4 x (Residual(LipschitzMLP [2, 64, 64, 2], Lipschitz 0.9, LipSwish, up "
        "to 5 power-iteration steps per training forward, zero-initialised last "
        "layer; roulette with 2 exact terms, geometric p 0.5, memory-efficient "
        "Neumann gradient); ActNorm).",
    )


def nll(contender: Contender, test: torch.Tensor) -> float:
    return float(-contender.log_prob(test).mean())


def comparison(title: str, builders: dict, steps: int, quick: bool) -> str:
    from flowspec.train.data import load_dataset

    data = load_dataset("moons", n_train=10_000, n_test=2_000, seed=0)
    work = Workload(
        title=title,
        probe="moons",
        builders=builders,
        train=data.train,
        test=data.test,
        evaluate=nll,
        metric="test NLL (nats)",
        steps=steps,
        batch=256,
        lr=2e-3,
        warmup_steps=5,
        score_every=max(steps // 4, 1),
        repeats=3 if quick else 5,
        inner=1 if quick else 2,
        memory=False,
    )
    outcomes = run_workload(work)
    rows = []
    for name, o in outcomes.items():
        step = o.training.median_step(work.warmup_steps)
        final = o.training.scores[-1][1] if o.training.scores else math.nan
        best_step, best = o.training.best_score()
        rows.append(
            [
                name,
                f"{o.params:,}",
                f"{step * 1e3:.1f} ms",
                f"{o.log_prob_seconds * 1e3:.1f} ms",
                f"{o.sample_seconds * 1e3:.1f} ms",
                f"{final:.3f}",
                f"{best:.3f} ({best_step})",
            ]
        )
    header = [
        "library",
        "params",
        "train step (median)",
        "log_prob 256 (median)",
        "sample 256 (median)",
        f"test NLL after {steps} steps",
        "best test NLL (step)",
    ]
    notes = "\n".join(f"- **{name}**: {o.contender.note}" for name, o in outcomes.items())
    return "\n\n".join([f"### {title}", markdown_table(header, rows), notes])


def linear_block(settings: dict):
    """A residual block with g(x) = W x + b, |W|_2 = 0.5: J = W, so log det is known."""
    from flowspec.core.node import NodeCheck
    from flowspec.core.ports import PortInfo
    from flowspec.core.registry import node_kinds
    from flowspec.diagnostics import Reporter

    spec = node_kinds()["residual"].model_validate(
        {"kind": "residual", "net": {"kind": "mlp", "hidden": []}, "lipschitz": 0.5, **settings}
    )
    inputs = (PortInfo((2,)),)
    spec.infer(inputs, None, NodeCheck(Reporter(), "b", ()))
    layer = spec.build(inputs, None).double()
    with torch.no_grad():
        layer.net.linears[0].weight.copy_(torch.tensor([[-1.0, 0.3], [0.2, -0.7]]))
    layer.net.refresh(200)
    return layer


def truncation_bias(layer, terms: int, exact: float) -> float:
    """E[series] - log det: the tail sum_{k > terms} (-1)^(k+1) tr(W^k) / k, left out."""
    w = layer.net.weights()[0][0].detach()
    power, total = torch.eye(2, dtype=w.dtype), 0.0
    for k in range(1, terms + 1):
        power = power @ w
        total += (-1) ** (k + 1) * float(torch.trace(power)) / k
    return total - exact


def estimators(draws: int) -> str:
    """Bias and spread of each estimator for one input, over ``draws`` independent calls."""
    torch.manual_seed(0)
    x = torch.zeros(1, 2, dtype=torch.float64)
    exact = float(linear_block({"logdet": "exact"})(x)[1])
    rows = []
    for label, settings in [
        ("series, 2 terms (i-ResNet)", {"logdet": "series", "terms": 2}),
        ("series, 5 terms", {"logdet": "series", "terms": 5}),
        ("series, 10 terms", {"logdet": "series", "terms": 10}),
        ("roulette, 1 exact term, p 0.5", {"logdet": "roulette", "terms": 1}),
        ("roulette, 2 exact terms, p 0.5 (resflow_moons)", {"logdet": "roulette", "terms": 2}),
        (
            "roulette, 2 exact terms, 8 probes",
            {"logdet": "roulette", "terms": 2, "trace_samples": 8},
        ),
    ]:
        layer = linear_block(settings)
        with torch.no_grad():
            values = torch.stack([layer(x)[1][0] for _ in range(draws)])
        bias, sd = float(values.mean()) - exact, float(values.std())
        expected = (
            truncation_bias(layer, settings["terms"], exact)
            if settings["logdet"] == "series"
            else 0.0
        )
        rows.append(
            [label, f"{expected:+.4f}", f"{bias:+.4f}", f"{sd / math.sqrt(draws):.4f}", f"{sd:.3f}"]
        )
    rows.append(["exact (autograd Jacobian)", "0", "0", "0", "0"])
    table = markdown_table(
        [
            "residual log-det estimator",
            "bias (analytic)",
            "bias (measured)",
            "s.e. of the measured bias",
            "s.d. per call",
        ],
        rows,
    )
    return "\n\n".join(
        [
            "### Log-det estimators: bias and spread",
            f"A residual block whose branch is linear, g(x) = W x + b with |W|_2 = 0.5, so "
            f"J = W everywhere and log det(I + W) = {exact:.4f} is known; {draws} independent "
            "calls on one input (each call one Hutchinson probe per sample and, for roulette, "
            "one draw of the number of terms).",
            table,
            cnf_estimator(draws),
        ]
    )


def cnf_estimator(draws: int) -> str:
    import flowspec

    text = FFJORD.replace("trace: hutchinson", "trace: exact")
    model = flowspec.compile(text).double()
    torch.manual_seed(1)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.3 * torch.randn_like(p))
        x = torch.tensor([[0.5, -0.5]], dtype=torch.float64)
        layer = model.nodes["flow"]
        exact = float(layer(x)[1])
        layer.dynamics.trace = "hutchinson"
        values = layer(x.repeat(draws, 1))[1]
    bias, sd = float(values.mean()) - exact, float(values.std())
    return (
        f"CNF (the FFJORD benchmark's architecture, random weights): Hutchinson's log-det "
        f"over {draws} probes has bias {bias:+.4f} (s.e. {sd / math.sqrt(draws):.4f}) and "
        f"s.d. {sd:.3f} per probe, against the exact-trace value {exact:.4f}."
    )


def main() -> None:
    quick = quick_run(__doc__)
    ffjord_steps, resflow_steps, draws = (10, 10, 200) if quick else (150, 400, 4000)
    sections = [
        comparison(
            "FFJORD on 2-D moons: flowspec vs zuko",
            {"flowspec": flowspec_ffjord, "zuko": zuko_ffjord},
            ffjord_steps,
            quick,
        ),
        comparison(
            "Residual flow on 2-D moons: flowspec vs normflows",
            {"flowspec": flowspec_resflow, "normflows": normflows_resflow},
            resflow_steps,
            quick,
        ),
        estimators(draws),
    ]
    print("\n\n".join(sections))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
