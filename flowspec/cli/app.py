"""The Typer application: global options and the verbs, one module each."""

from __future__ import annotations

from typing import Annotated

import typer

import flowspec
from flowspec.cli import compile as compile_
from flowspec.cli import eval as eval_
from flowspec.cli import explain, lsp, nodes, render, sample, schema, sweep, train, tune, validate
from flowspec.cli._help import examples

__all__ = ["app"]

EPILOG = examples(
    "flowspec validate specs/realnvp_moons.yaml",
    "flowspec render specs/realnvp_moons.yaml -o arch.svg",
    "flowspec compile specs/realnvp_moons.yaml -o realnvp_moons.py",
    "flowspec nodes affine_coupling",
    "flowspec train specs/realnvp_moons.yaml --data moons --steps 2000",
    "flowspec eval runs/realnvp-moons.safetensors",
    "flowspec sample runs/realnvp-moons.safetensors -n 2000 -o samples.png",
    "flowspec sweep specs/realnvp_moons.yaml -d moons --set net.hidden=[32],[64] --set body.repeat=4,8",
    "flowspec tune specs/realnvp_moons.yaml -d moons --search lr=log:1e-4:1e-2 --search body.repeat=int:2:12",
    "flowspec schema -o schemas/flowspec.schema.json",
    "flowspec explain E209",
    "flowspec lsp    # the language server editors start",
    after="Exit status: 0 success; 1 a problem with the spec, the data or a file (every "
    "spec problem is listed with file:line:col, code, node and hint); 2 a usage error; "
    "130 training interrupted (the model so far is saved).",
)

#: Help is Markdown: paragraphs are re-wrapped, examples are code blocks.
app = typer.Typer(
    name="flowspec",
    rich_markup_mode="markdown",
    epilog=EPILOG,
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"flowspec {flowspec.__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool | None,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = None,
) -> None:
    """A declarative compiler for normalizing flows.

    YAML specs of bijective, surjective and stochastic nodes in; checked, drawn,
    compiled and trained PyTorch models out. Run `flowspec COMMAND --help` for a verb.
    """


for name, command, epilog in (
    ("validate", validate.validate, validate.EPILOG),
    ("render", render.render, render.EPILOG),
    ("compile", compile_.compile_, compile_.EPILOG),
    ("schema", schema.schema, schema.EPILOG),
    ("nodes", nodes.nodes, nodes.EPILOG),
    ("train", train.train, train.EPILOG),
    ("eval", eval_.eval_, eval_.EPILOG),
    ("sample", sample.sample, sample.EPILOG),
    ("sweep", sweep.sweep, sweep.EPILOG),
    ("tune", tune.tune, tune.EPILOG),
    ("explain", explain.explain, explain.EPILOG),
    ("lsp", lsp.lsp, lsp.EPILOG),
):
    app.command(name, epilog=epilog)(command)
