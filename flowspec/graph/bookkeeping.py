"""The bookkeeping table: where every dimension and every term of ``log p(x)`` comes from.

One row per node in inference order (spec inputs first), with its shapes, how many
dimensions go in and out, its parameter count and its likelihood contribution. The summary
follows the dimensions from the data to the latents: a flow whose nodes are all bijections
keeps them, a node with fewer dimensions out than in drops some (its contribution models
them), one with more out than in adds some (its contribution scores them). Nothing here
knows node kinds by name: the table is derived from the graph and the node flags alone.

Under the summary: what ``log_prob`` and ``sample`` cost (naming the nodes that make either
take D passes, iterate or be unavailable) and what ``log_prob`` is: the verdict of
:mod:`flowspec.graph.verdict`, which every other output prints too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from rich import box
from rich.table import Table
from rich.text import Text

from flowspec.core.node import Category
from flowspec.core.ports import PortInfo
from flowspec.core.properties import Cost, Likelihood
from flowspec.graph.model import FlowGraph, GraphNode
from flowspec.graph.verdict import verdict

if TYPE_CHECKING:
    from flowspec.api import CheckedSpec
    from flowspec.emit.runtime import FlowModel

__all__ = [
    "Row",
    "node_row",
    "declared_parameters",
    "DimChange",
    "Bookkeeping",
    "bookkeeping",
    "spec_bookkeeping",
    "graph_bookkeeping",
    "cost_sentences",
    "render_table",
]

#: Category shown for spec inputs (data and context), which are not layers.
INPUT = "input"
#: Kind shown for data inputs and for context inputs.
DATA_INPUT, CONTEXT_INPUT = "input", "context"


@dataclass(frozen=True)
class Row:
    """One node of the flow as the likelihood sees it."""

    id: str
    kind: str
    category: str
    inputs: tuple[tuple[int, ...], ...]
    outputs: tuple[tuple[int, ...], ...]
    dims_in: int
    dims_out: int
    params: int
    #: The node's term of ``log p(x)`` ("" for spec inputs).
    contribution: str
    context: tuple[int, ...] | None = None
    #: The node's likelihood class label (``Likelihood.label``).
    likelihood: str = Likelihood.EXACT.label
    #: How its inference (log_prob) and generation (sample) directions are computed.
    log_prob_cost: str = Cost.ONE_PASS.label
    sample_cost: str = Cost.ONE_PASS.label
    #: The block use this node was expanded from.
    group: str | None = None
    #: Its density gets values that do not fill its support (W501, W800): mass below 1.
    unnormalized: bool = False

    @property
    def is_input(self) -> bool:
        return self.category == INPUT


@dataclass(frozen=True)
class DimChange:
    """Dimensions a node drops (``dims < 0``) or adds (``dims > 0``) in inference."""

    node: str
    kind: str
    dims: int
    dims_in: int
    contribution: str
    #: True when the node draws random values in inference (its added dims are proposed).
    sampled: bool
    #: Which density models what the node drops, adds or proposes (the node's own words).
    modelled_by: str | None = None

    def describe(self) -> str:
        by = f" ({self.modelled_by})" if self.modelled_by else ""
        if self.dims < 0:
            return (
                f"{self.node} ({self.kind}) drops {-self.dims} of its {self.dims_in} dims; "
                f"they are modelled by its contribution {self.contribution}{by}"
            )
        if self.dims == 0:
            return (
                f"{self.node} ({self.kind}) keeps its {self.dims_in} dims but is not a "
                f"bijection: its contribution {self.contribution} scores what it discards "
                f"or proposes{by}"
            )
        how = "proposed by a random draw in inference" if self.sampled else "created"
        return (
            f"{self.node} ({self.kind}) adds {self.dims} dims, {how} and scored by "
            f"its contribution {self.contribution}{by}"
        )


@dataclass
class Bookkeeping:
    """The rows in inference order and what they add up to."""

    name: str
    rows: list[Row]
    data_dims: int
    latent_dims: int
    context_dims: int
    dropped: list[DimChange] = field(default_factory=list)
    added: list[DimChange] = field(default_factory=list)
    #: Non-bijective nodes that keep their dims (abs, sort, dequantizers).
    kept: list[DimChange] = field(default_factory=list)
    total_params: int = 0
    #: The model's likelihood class label, and its direction costs' labels.
    likelihood: str = Likelihood.EXACT.label
    log_prob_cost: str = Cost.ONE_PASS.label
    sample_cost: str = Cost.ONE_PASS.label
    #: One sentence: what ``log_prob`` is, and because of which nodes (the verdict).
    verdict: str = ""

    @property
    def costs(self) -> list[str]:
        """What ``log_prob`` and ``sample`` cost, naming the nodes that make them so."""
        layers = [r for r in self.rows if not r.is_input]
        return cost_sentences(
            [(r.id, r.log_prob_cost) for r in layers], [(r.id, r.sample_cost) for r in layers]
        )

    def summary(self) -> list[str]:
        """The summary lines printed under the table."""
        lines = [f"data dims: {self.data_dims}"]
        if self.context_dims:
            lines.append(f"context dims: {self.context_dims} (given, not modelled)")
        lines.append(f"latent dims: {self.latent_dims}")
        lines += [change.describe() for change in self.dropped + self.added + self.kept]
        lines.append(f"parameters: {self.total_params:,}")
        lines += self.costs
        lines.append(self.verdict)
        return lines

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (shapes as lists)."""
        rows = []
        for row in self.rows:
            item = asdict(row)
            item["inputs"] = [list(shape) for shape in row.inputs]
            item["outputs"] = [list(shape) for shape in row.outputs]
            item["context"] = list(row.context) if row.context is not None else None
            rows.append(item)
        return {
            "name": self.name,
            "rows": rows,
            "data_dims": self.data_dims,
            "latent_dims": self.latent_dims,
            "context_dims": self.context_dims,
            "dropped": [asdict(c) | {"text": c.describe()} for c in self.dropped],
            "added": [asdict(c) | {"text": c.describe()} for c in self.added],
            "kept": [asdict(c) | {"text": c.describe()} for c in self.kept],
            "total_params": self.total_params,
            "likelihood": self.likelihood,
            "log_prob_cost": self.log_prob_cost,
            "sample_cost": self.sample_cost,
            "verdict": self.verdict,
            "costs": self.costs,
        }


def cost_sentences(log_prob: list[tuple[str, str]], sample: list[tuple[str, str]]) -> list[str]:
    """``log_prob: one pass`` and ``sample: ...`` from each node's (id, cost label), naming
    the nodes that make a direction take D passes, iterate or be unavailable."""
    by_label = {c.label: c for c in Cost}
    lines = []
    for direction, nodes in (("log_prob", log_prob), ("sample", sample)):
        costs = [(node, by_label[label]) for node, label in nodes]
        worst = max((c for _, c in costs), default=Cost.ONE_PASS)
        slow = [f"{n} ({c.label})" for n, c in costs if c > Cost.ONE_PASS]
        line = f"{direction}: {worst.label}"
        if worst is Cost.UNAVAILABLE and direction == "log_prob":
            line = "log_prob of data: not available (sample_and_log_prob gives the density of "
            line += "the model's own samples)"
        lines.append(line + (f"; because of {', '.join(slow)}" if slow else ""))
    return lines


def _shapes(infos: tuple[PortInfo, ...] | None) -> tuple[tuple[int, ...], ...]:
    return tuple(info.shape for info in infos or ())


def _dims(infos: tuple[PortInfo, ...] | None) -> int:
    return sum(info.numel for info in infos or ())


def declared_parameters(node: GraphNode) -> int:
    """A node's parameter count as its kind declares it (no module is built)."""
    assert node.spec is not None and node.input_info is not None
    return node.spec.parameter_count(node.input_info, node.context_info)


def node_row(node: GraphNode, params: Callable[[GraphNode], int] = declared_parameters) -> Row:
    """One node's row (a spec input's too); its shapes as far as the shape pass got."""
    if node.spec is None:
        outputs = node.output_info or ()
        return Row(
            id=node.id,
            kind=CONTEXT_INPUT if node.is_context_input else DATA_INPUT,
            category=INPUT,
            inputs=(),
            outputs=_shapes(outputs),
            dims_in=0,
            dims_out=_dims(outputs),
            params=0,
            contribution="",
        )
    return Row(
        id=node.id,
        kind=node.spec.kind,
        category=node.spec.category().value,
        inputs=_shapes(node.input_info),
        outputs=_shapes(node.output_info),
        dims_in=_dims(node.input_info),
        dims_out=_dims(node.output_info),
        params=params(node),
        contribution=node.spec.contribution,
        context=node.context_info.shape if node.context_info is not None else None,
        group=node.group,
        likelihood=node.spec.likelihood().label,
        unnormalized=bool(node.unnormalized),
        log_prob_cost=node.spec.costs().inference.label,
        sample_cost=node.spec.costs().generation.label,
    )


def bookkeeping(model: FlowModel) -> Bookkeeping:
    """The bookkeeping of a compiled model (built from ``model.checked``), with the
    parameter counts of its modules."""
    return graph_bookkeeping(
        model.checked.graph,
        lambda node: sum(p.numel() for p in model.nodes[node.id].parameters()),
    )


def graph_bookkeeping(
    graph: FlowGraph, params: Callable[[GraphNode], int] = declared_parameters
) -> Bookkeeping:
    """The bookkeeping of a checked graph; parameter counts from each kind's
    ``parameter_count`` unless ``params`` gives them."""
    nodes = [graph.nodes[name] for name in graph.inference_order]
    rows = [node_row(node, params) for node in nodes]
    changes = [
        DimChange(
            node=node.id,
            kind=row.kind,
            dims=row.dims_out - row.dims_in,
            dims_in=row.dims_in,
            contribution=row.contribution,
            sampled=node.spec.stochastic_forward,
            modelled_by=node.spec.modelled_by(),
        )
        for node, row in zip(nodes, rows, strict=True)
        if node.spec is not None and not node.spec.terminal and not node.spec.bijective
    ]
    return Bookkeeping(
        name=graph.header.name,
        rows=rows,
        data_dims=sum(r.dims_out for r in rows if r.is_input and r.kind == DATA_INPUT),
        latent_dims=sum(r.dims_in for r in rows if r.category == Category.DISTRIBUTION.value),
        context_dims=sum(r.dims_out for r in rows if r.is_input and r.kind == CONTEXT_INPUT),
        dropped=[c for c in changes if c.dims < 0],
        added=[c for c in changes if c.dims > 0],
        kept=[c for c in changes if c.dims == 0],
        total_params=sum(row.params for row in rows),
        likelihood=graph.likelihood.label,
        log_prob_cost=graph.costs.inference.label,
        sample_cost=graph.costs.generation.label,
        verdict=verdict(graph).sentence,
    )


def spec_bookkeeping(checked: CheckedSpec) -> Bookkeeping:
    """The bookkeeping of a checked spec, without building its model: every kind states
    its parameter count, so this needs no torch."""
    return graph_bookkeeping(checked.graph)


_CATEGORY_STYLE = {
    INPUT: "cyan",
    Category.BIJECTIVE.value: "green",
    Category.SURJECTIVE.value: "yellow",
    Category.STOCHASTIC.value: "magenta",
    Category.DISTRIBUTION.value: "blue",
}


def _format_shapes(shapes: tuple[tuple[int, ...], ...]) -> str:
    return ", ".join("[" + ", ".join(map(str, shape)) + "]" for shape in shapes) or "()"


def render_table(b: Bookkeeping) -> Table:
    """The rows as a rich table (user text is never read as markup)."""
    table = Table(
        title=f"{b.name}: inference order, data -> latents",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
        pad_edge=False,
        show_edge=False,
    )
    table.add_column("node", no_wrap=True)
    table.add_column("kind", no_wrap=True)
    table.add_column("category", no_wrap=True)
    table.add_column("shapes")
    table.add_column("dims", justify="right", no_wrap=True)
    table.add_column("params", justify="right", no_wrap=True)
    table.add_column("log p(x) term")
    for row in b.rows:
        if row.is_input:
            shapes, dims = f"-> {_format_shapes(row.outputs)}", str(row.dims_out)
        else:
            shapes = f"{_format_shapes(row.inputs)} -> {_format_shapes(row.outputs)}"
            if row.context is not None:
                shapes += f" | context {_format_shapes((row.context,))}"
            dims = f"{row.dims_in} -> {row.dims_out}"
        term = Text(row.contribution)
        if row.contribution and row.likelihood != Likelihood.EXACT.label:
            tag = "bound" if row.likelihood == Likelihood.BOUND.label else row.likelihood
            term.append(f" ({tag})", style="bold magenta")
        if row.unnormalized:
            term.append(" (mass below 1)", style="bold magenta")
        table.add_row(
            Text(row.id),
            Text(row.kind),
            Text(row.category, style=_CATEGORY_STYLE.get(row.category, "")),
            Text(shapes),
            Text(dims),
            Text(f"{row.params:,}"),
            term,
        )
    return table
