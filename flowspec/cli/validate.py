"""``flowspec validate``: check a spec and show where every dimension and term goes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.text import Text

import flowspec
from flowspec.cli._help import examples
from flowspec.cli._output import diagnostic_dict, out, print_diagnostics, user_errors

__all__ = ["validate"]

EPILOG = examples(
    "flowspec validate specs/realnvp_moons.yaml",
    "flowspec validate --json specs/realnvp_moons.yaml > report.json",
)


def validate(
    spec: Annotated[
        Path,
        typer.Argument(metavar="SPEC", help="The YAML spec file to check.", show_default=False),
    ],
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="Print one JSON object instead: ok, warnings or diagnostics (with file, "
            "line, col, code, node, hint) and the bookkeeping table.",
        ),
    ] = False,
) -> None:
    """Check a spec and print its bookkeeping table.

    Prints the warnings (on stderr), then the bookkeeping table: every node in inference
    order with its category, shapes, dims in and out, parameter count and its term of
    log p(x) (exact, or a bound term). Then the data and latent dims, the dims each
    surjection drops or each augmentation adds, what log_prob and sample cost (one pass,
    D passes, iterative or not available, naming the nodes responsible) and what log_prob
    is: exact, exact to a tolerance, an unbiased estimate, a lower bound (ELBO) or a biased
    estimate. Under ``train: {memory: invertible}`` (or ``checkpoint``), which segments of
    the graph are rebuilt by their inverses, recomputed or stored in training, and why.

    Exit 0 when the spec is valid, 1 with every diagnostic (file:line:col, code, node,
    message, hint) when it is not.
    """
    from flowspec.graph.bookkeeping import render_table, spec_bookkeeping

    if as_json:
        _validate_json(spec)
        return
    with user_errors():
        checked = flowspec.check(spec)
    print_diagnostics(checked.warnings)
    book = spec_bookkeeping(checked)
    console = out()
    console.print(render_table(book))
    for line in book.summary()[:-1]:
        console.print(Text(line), soft_wrap=True)
    for line in accepted_lines(checked) + memory_report(checked):
        console.print(Text(line), soft_wrap=True)
    exact = book.likelihood == "exact" and book.log_prob_cost != "not available"
    style = "bold green" if exact else "bold yellow"  # the last line: what log_prob is
    console.print(Text(book.verdict, style=style), soft_wrap=True)


def accepted_lines(checked: flowspec.CheckedSpec) -> list[str]:
    """One line per warning the spec accepts, with the spec's reason (not printed as
    warnings, but still part of the verdict)."""
    return [
        f"accepted {w.code}" + (f" (node '{w.node}')" if w.node else "") + ": "
        f"{checked.graph.accepted[w.code]}"
        for w in checked.accepted
    ]


def memory_report(checked: flowspec.CheckedSpec) -> list[str]:
    """Under ``train: {memory: invertible | checkpoint}``, what backpropagation keeps of
    each segment of the graph and why (:mod:`flowspec.graph.memory`)."""
    from flowspec.graph.memory import memory_lines

    train = checked.graph.header.train
    if train is None or train.memory == "stored":
        return []
    return memory_lines(checked.graph, train.memory)


def _validate_json(spec: Path) -> None:
    from flowspec.diagnostics import SpecError
    from flowspec.graph.bookkeeping import spec_bookkeeping

    try:
        checked = flowspec.check(spec)
    except SpecError as error:
        report = {
            "ok": False,
            "spec": str(spec),
            "errors": sum(d.severity == "error" for d in error.diagnostics),
            "diagnostics": [diagnostic_dict(d) for d in error.diagnostics],
        }
        typer.echo(json.dumps(report, indent=2))
        raise typer.Exit(1) from None
    report = {
        "ok": True,
        "spec": str(spec),
        "warnings": [diagnostic_dict(d) for d in checked.warnings],
        "accepted": [
            diagnostic_dict(d) | {"reason": checked.graph.accepted[d.code]}
            for d in checked.accepted
        ],
        "bookkeeping": spec_bookkeeping(checked).to_dict(),
        "memory": memory_report(checked),
    }
    typer.echo(json.dumps(report, indent=2))
