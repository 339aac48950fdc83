"""What ``flowspec train --target`` adds to ``flowspec train``: loading the target (the one
place a user's Python code runs, and only when the command line names it), checking that
the spec can be fitted to it (located diagnostics, E911-E913, W914), and the report of a
reverse-KL fit (see :mod:`flowspec.train.reverse_kl`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from rich.text import Text

from flowspec.cli._output import fail, note, out, print_diagnostics, user_errors

if TYPE_CHECKING:
    import torch

    from flowspec.api import CheckedSpec
    from flowspec.emit.runtime import FlowModel
    from flowspec.spec.training import TrainSettings
    from flowspec.train.reverse_kl import TargetFitResult
    from flowspec.train.run import RunFiles
    from flowspec.train.target import Target

__all__ = ["bundled_target", "load_target", "report_target_fit", "target_figure", "target_fit"]


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
        except ValueError as error:  # a TargetError, or settings a target cannot use
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


def bundled_target(meta: dict[str, str]) -> str | None:
    """The bundled energy a checkpoint was fitted to (its metadata), else None; a user's
    function it names is not imported (a note says how to draw it)."""
    from flowspec.spec.training import ENERGIES

    fitted_to = meta.get("target")
    if fitted_to is None or fitted_to in ENERGIES:
        return fitted_to
    note(
        f"the checkpoint was fitted to {fitted_to}; flowspec never imports a file a "
        f"checkpoint names: pass --target {fitted_to} to draw it beside the fit"
    )
    return None


def target_figure(model: FlowModel, path: Path, name: str, draws: int, seed: int) -> Path:
    """The target density, the model's density and ``draws`` samples side by side."""
    from flowspec.train.target_plot import FitPanel, plot_target_fit

    target = load_target(name)
    with user_errors():
        if model.CONTEXT_INPUTS or list(model.INPUT_SHAPES.get(model.DATA_INPUTS[0], [])) != [2]:
            fail(f"--target draws 2-D unconditional models; {model.SPEC_NAME} is not one")
        return plot_target_fit(
            [FitPanel(name, model, target)], path, draws=min(draws, 5000), seed=seed
        )
