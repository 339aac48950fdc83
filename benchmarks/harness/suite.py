"""The model benchmark shared by bench_moons.py and bench_digits.py: build every contender,
train them in lockstep (timing each step), score them on the test set, time ``log_prob``
and ``sample`` interleaved, probe peak memory in fresh processes, and write markdown."""

from __future__ import annotations

import math
import sys
from collections.abc import Callable
from dataclasses import dataclass

import torch

from harness.contender import Builder, Contender, count_parameters
from harness.memory import MEMORY_NOTE, MemoryFigures, probe_memory
from harness.table import markdown_table
from harness.timing import interleaved_medians
from harness.training import TrainResult, train_lockstep

__all__ = ["Workload", "Outcome", "run_workload", "verdict", "workload_markdown"]

REFERENCE = "flowspec"
HANDWRITTEN = "torch"


@dataclass
class Workload:
    """One benchmark: the contenders, the data, the training and the measurement settings."""

    title: str
    probe: str  # the data set name memory_probe.py knows
    builders: dict[str, Builder]
    train: torch.Tensor
    test: torch.Tensor
    evaluate: Callable[[Contender, torch.Tensor], float]  # test-set score, lower is better
    metric: str
    steps: int
    batch: int = 512
    lr: float = 1e-3
    seed: int = 0
    warmup_steps: int = 20
    score_every: int = 100
    repeats: int = 20
    inner: int = 10
    memory_steps: int = 10
    memory: bool = True
    sample_batch: int | None = None  # samples per timed sample call; None: batch

    @property
    def samples(self) -> int:
        """The number of samples each timed ``sample`` call draws."""
        return self.sample_batch or self.batch


@dataclass
class Outcome:
    """Every figure of one contender."""

    contender: Contender
    params: int
    training: TrainResult
    log_prob_seconds: float
    sample_seconds: float
    memory: MemoryFigures | str | None


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_workload(work: Workload) -> dict[str, Outcome]:
    """Measure every contender of ``work``; keyed by contender name, in builder order."""
    torch.set_num_threads(1)
    contenders = {}
    for name, build in work.builders.items():
        torch.manual_seed(work.seed)
        contenders[name] = build()
    batches = torch.Generator().manual_seed(work.seed)

    def batch_at(step: int) -> torch.Tensor:
        return work.train[torch.randint(len(work.train), (work.batch,), generator=batches)]

    _log(f"[{work.probe}] training {len(contenders)} contenders for {work.steps} steps")
    training = train_lockstep(
        contenders,
        batch_at,
        work.steps,
        work.lr,
        lambda c: work.evaluate(c, work.test),
        work.score_every,
    )

    _log(f"[{work.probe}] timing log_prob / sample")
    with torch.no_grad():
        x = work.train[: work.batch]
        log_prob = interleaved_medians(
            {name: (lambda c=c: c.log_prob(x)) for name, c in contenders.items()},
            work.repeats,
            work.inner,
        )
        sample = interleaved_medians(
            {name: (lambda c=c: c.sample(work.samples)) for name, c in contenders.items()},
            work.repeats,
            work.inner,
        )
    outcomes = {}
    for name, contender in contenders.items():
        memory = None
        if work.memory:
            _log(f"[{work.probe}] memory probe: {name}")
            memory = probe_memory(work.probe, name, work.batch, work.memory_steps)
        outcomes[name] = Outcome(
            contender,
            count_parameters(contender.module),
            training[name],
            log_prob[name],
            sample[name],
            memory,
        )
    return outcomes


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.3g} ms"


def _rate(per_second: float) -> str:
    return f"{per_second / 1e3:,.0f}k/s" if per_second >= 1e4 else f"{per_second:,.0f}/s"


def _mib(kib: int) -> str:
    return f"{kib / 1024:.1f}"


def _scores(outcome: Outcome) -> list[str]:
    """The final score and the best one seen with its step."""
    training = outcome.training
    step, best = training.best_score()
    best_text = f"{best:.3f} ({step})" if math.isfinite(best) else "-"
    if training.diverged_at is not None:
        return [f"diverged (step {training.diverged_at})", best_text]
    final = training.scores[-1][1]
    return [f"{final:.3f}" if math.isfinite(final) else "nan", best_text]


def _rows(work: Workload, outcomes: dict[str, Outcome]) -> list[list[object]]:
    ref = outcomes[REFERENCE]
    ref_step = ref.training.median_step(work.warmup_steps)
    rows = []
    for name, o in outcomes.items():
        step = o.training.median_step(work.warmup_steps)
        lp_rate, sample_rate = work.batch / o.log_prob_seconds, work.samples / o.sample_seconds
        ref_lp, ref_sample = work.batch / ref.log_prob_seconds, work.samples / ref.sample_seconds
        if isinstance(o.memory, MemoryFigures):
            memory = [_mib(o.memory.train_peak), _mib(o.memory.eval_peak), _mib(o.memory.rss_built)]
        else:
            memory = [o.memory or "-", "-", "-"]
        rows.append(
            [
                name,
                f"{o.params:,}",
                f"{_ms(step)} ({step / ref_step:.2f}x)",
                f"{_rate(lp_rate)} ({lp_rate / ref_lp:.2f}x)",
                f"{_rate(sample_rate)} ({sample_rate / ref_sample:.2f}x)",
                *_scores(o),
                *memory,
            ]
        )
    return rows


def verdict(work: Workload, outcomes: dict[str, Outcome]) -> list[str]:
    """flowspec against hand-written torch (when the benchmark has one) and the fastest
    peer, figure by figure."""
    peers = [n for n in outcomes if n not in (REFERENCE, HANDWRITTEN)]
    figures: dict[str, Callable[[Outcome], float]] = {
        "train step": lambda o: o.training.median_step(work.warmup_steps),
        "log_prob": lambda o: o.log_prob_seconds,
        "sample": lambda o: o.sample_seconds,
    }
    lines = []
    for figure, seconds in figures.items():
        ours = seconds(outcomes[REFERENCE])
        fastest = min(peers, key=lambda n: seconds(outcomes[n]))
        versus_peer = ours / seconds(outcomes[fastest])
        versus_torch = (
            f"{ours / seconds(outcomes[HANDWRITTEN]):.3f}x the time of hand-written torch and "
            if HANDWRITTEN in outcomes
            else ""
        )
        lines.append(
            f"- {figure}: flowspec takes {versus_torch}{versus_peer:.3f}x the time of the "
            f"fastest peer ({fastest})."
        )
    return lines


def workload_markdown(work: Workload, outcomes: dict[str, Outcome]) -> str:
    """The results of one benchmark as a markdown section."""
    header = [
        "library",
        "params",
        "train step (median)",
        f"log_prob, batch {work.batch}",
        f"sample {work.samples}",
        f"{work.metric} after {work.steps} steps",
        f"best {work.metric} (after steps)",
        "train-step peak MiB",
        "log_prob+sample peak MiB",
        "RSS after import+build MiB",
    ]
    settings = (
        f"{work.steps} Adam steps (lr {work.lr}, batch {work.batch}, batches drawn with "
        f"seed {work.seed}, every model initialised after `torch.manual_seed({work.seed})`), "
        f"all contenders trained in lockstep in one process, each step timed, median over "
        f"steps {work.warmup_steps}..{work.steps - 1}. The test score is taken every "
        f"{work.score_every} steps and at the end (untimed, outside the training RNG "
        f"stream). log_prob/sample: {work.repeats} "
        f"interleaved rounds of {work.inner} calls after 3 warm-up rounds, median, under "
        "`torch.no_grad()`. `torch.set_num_threads(1)` everywhere. In brackets: the figure "
        "relative to flowspec's (time for the train step, throughput for log_prob and "
        "sample)."
    )
    notes = [f"- **{name}**: {o.contender.note}" for name, o in outcomes.items()]
    return "\n\n".join(
        [
            f"## {work.title}",
            settings,
            markdown_table(header, _rows(work, outcomes)),
            MEMORY_NOTE if work.memory else "Memory not measured (--no-memory).",
            "\n".join(verdict(work, outcomes)),
            "How each contender is built:\n\n" + "\n".join(notes),
        ]
    )
