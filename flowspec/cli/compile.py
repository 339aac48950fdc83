"""``flowspec compile``: write the generated PyTorch module of a spec."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

import flowspec
from flowspec.cli._files import atomic_write_text, refuse_overwriting
from flowspec.cli._help import examples
from flowspec.cli._output import fail, note, user_errors

__all__ = ["compile_", "OutputFormat"]


class OutputFormat(str, Enum):
    """What ``flowspec compile`` writes."""

    source = "source"
    export = "export"


EPILOG = examples(
    "flowspec compile specs/realnvp_moons.yaml -o realnvp_moons.py",
    "flowspec compile specs/realnvp_moons.yaml --standalone -o model.py",
    "flowspec compile specs/realnvp_moons.yaml --format export -o realnvp.pt2",
    "flowspec compile specs/realnvp_moons.yaml | less",
)


def compile_(
    spec: Annotated[
        Path,
        typer.Argument(metavar="SPEC", help="The YAML spec file to compile.", show_default=False),
    ],
    output: Annotated[
        Path | None,  # noqa: UP007 - typer reads the annotation
        typer.Option(
            "--output",
            "-o",
            metavar="FILE.py",
            help="Where to write the module (written atomically). Default: print it.",
            show_default=False,
        ),
    ] = None,
    standalone: Annotated[
        bool,
        typer.Option(
            "--standalone",
            help="Emit a module that needs only torch: the layers it uses are included as "
            "source, and build_model() rebuilds them (load trained weights with "
            "load_state_dict).",
        ),
    ] = False,
    format_: Annotated[
        OutputFormat,
        typer.Option(
            "--format",
            help="source: Python source of the module. export: torch.export programs "
            "for log_prob and sample, written as FILE.log_prob.pt2 and FILE.sample.pt2 "
            "(freshly initialised weights unless --weights gives trained ones; needs -o).",
        ),
    ] = OutputFormat.source,
    no_optimize: Annotated[
        bool,
        typer.Option(
            "--no-optimize",
            help="Emit the literal graph, one call per node, without the optimizing passes "
            "(folded permutations, splits and couplings, composed affine maps, direct "
            "calls). Same density and the same state_dict keys either way.",
        ),
    ] = False,
    weights: Annotated[
        Path | None,  # noqa: UP007 - typer reads the annotation
        typer.Option(
            "--weights",
            metavar="CHECKPOINT",
            help="With --format export: load these trained weights (a checkpoint written "
            "by flowspec train for this spec) before exporting.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Compile a spec to a PyTorch module (Python source).

    The source is straight-line code: a FlowModel subclass with log_prob, sample, trace
    and iwbo, plus build_model() for a fresh instance (which needs flowspec installed,
    unless --standalone).

    Each node's line carries a comment pointing back to its place in the spec. Whether
    the model is exact or a lower bound is reported on stderr when printing the source.
    """
    if format_ is OutputFormat.export:
        if standalone:
            fail("--standalone goes with --format source", 2)
        _export(spec, output, weights, optimize=not no_optimize)
        return
    if weights is not None:
        fail("--weights goes with --format export", 2)
    refuse_overwriting([output], {"spec": spec})
    with user_errors():
        checked = flowspec.check(spec)
        optimize = not no_optimize
        source = checked.standalone_source(optimize) if standalone else checked.source(optimize)
        if output is not None:
            atomic_write_text(output, source)
    from flowspec.graph.verdict import verdict

    said = verdict(checked.graph)
    sentence = said.sentence
    style = "green" if said.label == "exact" else "yellow"
    if output is None:
        typer.echo(source, nl=False)
        note(sentence, style)
        return
    typer.echo(f"wrote {output}")
    typer.echo(sentence)


def _layers(model: flowspec.FlowModel) -> list[tuple[str, object]]:
    """What defines a model's architecture: each node's id and settings, in order."""
    return [(node.id, node.spec) for node in model.checked.graph.layers]


def _export(spec: Path, output: Path | None, weights: Path | None, *, optimize: bool) -> None:
    if output is None:
        fail("--format export needs -o FILE.pt2 (two programs are written beside it)", 2)
    from flowspec.emit.export import ExportError, export_programs, program_paths
    from flowspec.train.checkpoint import CheckpointError, load_checkpoint

    refuse_overwriting(program_paths(output), {"spec": spec, "checkpoint": weights})

    with user_errors():
        model = flowspec.compile(spec, optimize=optimize)
        try:
            if weights is not None:
                trained, _ = load_checkpoint(weights)
                if _layers(trained) != _layers(model):
                    fail(
                        f"'{weights}' was trained for another spec than {spec} (its nodes or "
                        "their settings differ)"
                    )
                # A checkpoint's weights load into the optimized and the literal form alike.
                model.load_state_dict(trained.state_dict())
            written = export_programs(model, output)
        except (ExportError, CheckpointError) as error:
            fail(str(error))
    for path in written:
        typer.echo(f"wrote {path}")
