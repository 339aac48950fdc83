"""``flowspec nodes``: the node kinds, and everything about one of them."""

from __future__ import annotations

import inspect
import sys
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from flowspec.cli._help import examples
from flowspec.cli._output import fail, out
from flowspec.cli._parts import describe_part, part_kinds, parts_footer
from flowspec.core.node import Category, NodeSpec
from flowspec.core.properties import Cost, Likelihood
from flowspec.core.registry import NOT_INVERTIBLE, node_kinds
from flowspec.diagnostics import did_you_mean

__all__ = ["nodes", "describe_kind"]

EPILOG = examples(
    "flowspec nodes",
    "flowspec nodes affine_coupling",
    "flowspec nodes slice",
    "flowspec nodes rq_spline    # a transformer (or conditioner, density)",
)


def nodes(
    kind: Annotated[
        str | None,  # noqa: UP007 - typer reads the annotation
        typer.Argument(
            metavar="[KIND]",
            help="A node kind (or a transformer, conditioner or density kind) to describe in "
            "full. Default: list every node kind.",
            show_default=False,
        ),
    ] = None,
) -> None:
    """List the node kinds, or describe one.

    Without KIND: every kind by category with its term of log p(x) and a one-line
    summary, then the transformer, conditioner and density kinds. With KIND: what it does, its paper, category and flags, its term of
    log p(x), what log_prob is with its default settings (exact, to a tolerance, an
    estimate, a bound), what log_prob and sample cost, its ports and every setting with
    type, default and description; for a part, what it is, the node fields that take it
    and its settings.
    """
    kinds = node_kinds()
    if kind is None:
        out().print(_kinds_table(kinds))
        out().print(parts_footer())
        return
    if kind not in kinds and kind in part_kinds():
        describe_part(kind)
        return
    if kind not in kinds:
        hint = NOT_INVERTIBLE.get(kind) or did_you_mean(kind, [*kinds, *part_kinds()])
        fail(
            f"unknown node kind '{kind}'{f'; {hint}' if hint else ''} "
            "(run 'flowspec nodes' for the list)"
        )
    describe_kind(kinds[kind])


def _kinds_table(kinds: dict[str, type[NodeSpec]]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    table.add_column("category", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("log p(x) term")
    table.add_column("summary")
    for category in Category:
        members = [(name, cls) for name, cls in kinds.items() if cls.category() is category]
        for index, (name, cls) in enumerate(members):
            term = Text(cls.contribution)
            likelihood = _default_likelihood(cls)
            if likelihood is not None and likelihood is not Likelihood.EXACT:
                tag = "bound" if likelihood is Likelihood.BOUND else likelihood.label
                term.append(f" ({tag})", style="magenta")
            table.add_row(
                Text(category.value if index == 0 else "", style="bold"),
                Text(name, style="cyan"),
                term,
                Text(cls.summary),
            )
        if members:
            table.add_section()
    return table


def _default_likelihood(cls: type[NodeSpec]) -> Likelihood | None:
    """A kind's likelihood class with its default settings (None when it depends on a
    required setting)."""
    try:
        return _with_defaults(cls).likelihood()
    except AttributeError:
        return Likelihood.BOUND if cls.stochastic_forward else None


def _with_defaults(cls: type[NodeSpec], **settings: Any) -> NodeSpec:
    """The kind with its default settings (required ones left unset), unvalidated."""
    return cls.model_construct(kind=cls.kind_name(), **settings)


def _ports(cls: type[NodeSpec], method: str) -> str:
    if getattr(cls, method) is not getattr(NodeSpec, method):
        return "set by the node's settings"
    ports = getattr(_with_defaults(cls), method)()
    return ", ".join(ports) if ports else "none"


def _direction_costs(cls: type[NodeSpec]) -> tuple[str, str]:
    """The cost of log_prob and of sample with the default settings, and the settings
    (transformer, direction) that change them."""
    try:
        default = _with_defaults(cls).costs()
    except AttributeError:  # the costs depend on a required setting
        return ("set by the node's settings",) * 2
    texts = [default.inference.label, default.generation.label]
    changed: dict[tuple[int, str], list[str]] = {}
    for setting, value in _alternatives(cls):
        try:
            costs = _with_defaults(cls, **{setting: value}).costs()
        except AttributeError:  # these costs also read a required setting
            continue
        for index, cost in enumerate((costs.inference, costs.generation)):
            if cost.label != texts[index]:
                shown = value if isinstance(value, str) else value.kind
                changed.setdefault((index, f"{cost.label} with {setting}"), []).append(shown)
    extra: list[list[str]] = [[], []]
    for (index, label), names in sorted(changed.items()):
        extra[index].append(f"{label} {', '.join(names)}")
    texts = ["; ".join([text, *more]) for text, more in zip(texts, extra, strict=True)]
    return texts[0], texts[1]


def _alternatives(cls: type[NodeSpec]) -> list[tuple[str, Any]]:
    """Settings that may change a kind's direction costs: its transformer, and every
    setting chosen from a fixed list of words (direction, logdet, trace, ...)."""
    from typing import Literal, get_args, get_origin

    from flowspec.core.registry import transformer_kinds

    found: list[tuple[str, Any]] = []
    if "transformer" in cls.model_fields:
        found += [("transformer", t(kind=name)) for name, t in transformer_kinds().items()]
    for name, info in cls.model_fields.items():
        if name != "kind" and get_origin(info.annotation) is Literal:
            found += [(name, value) for value in get_args(info.annotation)]
    return found


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _map_flag(cls: type[NodeSpec], flag: bool) -> str:
    """A flag of the map a node computes; a distribution computes none (it scores z)."""
    return "n/a" if cls.terminal else _yes(flag)


def describe_kind(cls: type[NodeSpec], console: Console | None = None) -> None:
    """Print everything about a node kind (to stdout, or to ``console``: the language
    server's hover renders it to text)."""
    console = console or out()
    name = cls.kind_name()
    console.print(Text(name, style="bold cyan"), Text(f"({cls.category().value})"))
    console.print(Text(cls.summary), soft_wrap=True)
    console.print()
    facts = Table.grid(padding=(0, 2))
    facts.add_column(style="bold", no_wrap=True)
    facts.add_column()
    inference, generation = _direction_costs(cls)
    likelihood = _default_likelihood(cls)
    said = likelihood.label if likelihood is not None else "set by the node's settings"
    if likelihood is Likelihood.BOUND:
        said = "a one-sample bound term (log_prob becomes an ELBO)"
    log_prob = f"{likelihood.label if likelihood else said} (default settings)"
    if inference.startswith(Cost.UNAVAILABLE.label):
        log_prob = (
            "not available for data (default settings); the density of its own samples "
            f"is {likelihood.label if likelihood else said}"
        )
    for label, value in (
        ("reference", cls.reference or "-"),
        ("category", cls.category().value),
        ("log p(x) term", f"{cls.contribution}  ({said})"),
        ("log_prob is", log_prob),
        ("log_prob cost", inference),
        ("sample cost", generation),
        ("bijective", _map_flag(cls, cls.bijective)),
        ("random in inference", _map_flag(cls, cls.stochastic_forward)),
        ("random in generation", _map_flag(cls, cls.stochastic_inverse)),
        ("distribution (terminal)", _yes(cls.terminal)),
        ("accepts context", _yes(cls.accepts_context)),
        ("input ports", _ports(cls, "input_ports")),
        ("output ports", _ports(cls, "output_ports")),
    ):
        facts.add_row(label, Text(value))
    console.print(facts)

    skip = ("kind",) if cls.accepts_context else ("kind", "context")
    settings = Table(title="settings", title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False)
    settings.add_column("field", style="cyan", no_wrap=True)
    settings.add_column("type")
    settings.add_column("default")
    settings.add_column("description")
    from flowspec.cli._fields import field_rows

    for row in field_rows(cls, skip=skip):
        settings.add_row(Text(row.name), Text(row.type), Text(row.default), Text(row.description))
    console.print(settings)

    about = inspect.cleandoc(sys.modules[cls.__module__].__doc__ or cls.__doc__ or "")
    if about:
        console.print(Text("about", style="bold"))
        console.print(Text(about), soft_wrap=True)
