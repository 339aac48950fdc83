"""What ``flowspec train --target`` adds to ``flowspec train``: loading the target (the one
place a user's Python code runs, and only when the command line names it), checking that
the spec can be fitted to it (located diagnostics, E905-E907, W908), and the report of a
reverse-KL fit (see :mod:`flowspec.train.reverse_kl`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from rich.text import Text

from flowspec.cli._output import fail, out, print_diagnostics, user_errors

if TYPE_CHECKING:
    import torch

    from flowspec.api import CheckedSpec
    from flowspec.spec.training import TrainSettings
    from flowspec.train.reverse_kl import TargetFitResult
    from flowspec.train.run import RunFiles
    from flowspec.train.target import Target

__all__ = ["load_target", "report_target_fit", "target_fit"]


def load_target(name: str) -> Target:
    """The target ``name`` names (a user's file imported now), or a message and exit 1."""
    from flowspec.train.target import TargetError, resolve_target

    try:
        return resolve_target(name)
    except TargetError as error:
        fail(str(error))


def target_fit(
    checked: CheckedSpec,
    settings: TrainSettings,
    device: torch.device,
    files: RunFiles,
    resume: bool,
    progress: bool,
    log: Callable[[str], None] | None,
) -> Callable[[], TargetFitResult]:
    """Check that ``checked`` can be fitted to ``settings.target`` (its diagnostics printed;
    exit 1 on errors), build the model from ``settings.seed``, and return the fit to run."""
    import torch

    from flowspec.diagnostics import Reporter
    from flowspec.graph.target import check_target
    from flowspec.train.reverse_kl import fit_target
    from flowspec.train.target import TargetError

    assert settings.target is not None, "a target run has a target"
    target = load_target(settings.target)
    reporter = Reporter(checked.loaded.source)
    check_target(checked.graph, settings.target, reporter)
    print_diagnostics(reporter.warnings)
    with user_errors():
        reporter.raise_if_errors()
    torch.manual_seed(settings.seed)
    model = checked.build_model().to(device)
    meta = {"target": settings.target, "settings": settings.model_dump_json()}

    def run() -> TargetFitResult:
        try:
            return fit_target(
                model,
                target,
                settings,
                files=files,
                resume=resume,
                meta=meta,
                progress=progress,
                log=log,
            )
        except TargetError as error:
            fail(str(error))

    return run


def report_target_fit(result: TargetFitResult, checked: CheckedSpec, files: RunFiles) -> None:
    """The figures of a reverse-KL fit, each with its units and what it is."""
    score = result.score
    stop = {"steps": "", "patience": " (stopped early)"}.get(
        result.stop_reason, f" ({result.stop_reason})"
    )
    unknown = "" if result.log_z is not None else "; log Z, the target's constant, is unknown"
    lines = [
        f"fitted {checked.graph.header.name} to {result.target} by reverse KL for "
        f"{result.steps} steps{stop} in {result.seconds:.1f} s; best validation at step "
        f"{result.best_step}",
        f"reverse KL - log Z: {score.loss.mean:.4f} ± {score.loss.stderr:.4f} nats "
        f"(E_q[log q(x) - log p~(x)] over {score.n} fresh draws, ± its standard error; "
        f">= -log Z{unknown})",
    ]
    kl = result.kl
    if kl is not None and result.log_z is not None and result.box is not None:
        from flowspec.train.target import GRID_POINTS

        low, high = result.box
        lines += [
            f"log Z:              {result.log_z:.4f} nats ({result.target} integrated on a "
            f"{GRID_POINTS} x {GRID_POINTS} grid over [{low:g}, {high:g}]^2)",
            f"KL(q || p):         {kl.mean:.4f} ± {kl.stderr:.4f} nats (the sum of the two "
            "lines above)",
        ]
    lines += [
        f"ESS:                {score.ess:.3f} of the draws (effective sample size of the "
        "importance weights p~(x)/q(x); 1 when q is the target)",
        f"log q(x) of the draws is {_likelihood(result.likelihood)}",
        f"checkpoint: {files.best} (best), {files.last} (last)",
        f"metrics: {files.metrics_csv}",
    ]
    console = out()
    for line in lines:
        console.print(Text(line), soft_wrap=True)


def _likelihood(label: str) -> str:
    return {
        "exact": "exact (sample_and_log_prob, along generation)",
        "exact to a tolerance": "exact to a solver's tolerance",
        "unbiased estimate": "an unbiased estimate, so the figures above are unbiased too",
    }[label]
