"""``flowspec eval --by-node``: the table of each node's term of ``log p(x)``.

Each row is a node's mean term in nats per example and bits per dimension (``nats / (D
ln 2)`` for D values per example), each ± one standard error over the examples; nodes
whose term is zero for every input are counted in one line; the total is the mean
``log_prob``, the negated figure ``eval`` prints above it. For a bound, the stochastic
nodes' ``-log q`` parts follow: what the bound pays for each draw.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowspec.cli._checkpoint import open_checkpoint, training_data
from flowspec.cli._output import fail

if TYPE_CHECKING:
    from flowspec.graph.model import FlowGraph
    from flowspec.render.shading import Shading
    from flowspec.train.by_node import NodeTerm, NodeTerms

__all__ = ["by_node_lines", "by_node_json", "shading"]


def _signed(terms: NodeTerms, mean: float, stderr: float | None) -> str:
    """``+0.1234 ± 0.0012 nats  +0.0890 ± 0.0009 bits/dim``; a term equal for every
    example (a linear map's log-det) says so rather than printing ``± 0.0000``."""
    if stderr == 0:
        return f"{mean:+.4f} nats  {terms.bits(mean):+.4f} bits/dim (equal for every example)"
    spread = f" ± {stderr:.4f}" if stderr is not None else ""
    bits = f" ± {terms.bits(stderr):.4f}" if stderr is not None else ""
    return f"{mean:+.4f}{spread} nats  {terms.bits(mean):+.4f}{bits} bits/dim"


def _term(row: NodeTerm) -> str:
    return row.term if row.likelihood == "exact" else f"{row.term} ({row.likelihood})"


def _table(terms: NodeTerms, rows: list[NodeTerm]) -> list[str]:
    width_node = max(len(row.node) for row in rows)
    width_kind = max(len(row.kind) for row in rows)
    width_term = max(len(_term(row)) for row in rows)
    return [
        f"  {row.node:<{width_node}}  {row.kind:<{width_kind}}  {_term(row):<{width_term}}  "
        + _signed(terms, row.mean, row.stderr)
        for row in rows
    ]


def by_node_lines(terms: NodeTerms, which: str, iwbo_nll: float | None = None) -> list[str]:
    """The report under ``eval``'s figures: one line per node, then the total and, for
    bounds, the ``-log q`` parts and (given the -IWBO) the least the bound's gap can be."""
    shown = [row for row in terms.rows if not row.volume_preserving]
    zero = Counter(row.kind for row in terms.rows if row.volume_preserving)
    lines = [
        f"where the bits go: each node's mean term of log p(x) on the {which}, in inference "
        f"order (nats per example; bits/dim = nats / (D ln 2) with D = {terms.dims}; ± one "
        f"standard error over the {terms.n} examples; positive terms raise the likelihood)",
        *_table(terms, shown),
    ]
    if zero:
        kinds = ", ".join(f"{kind} × {count}" for kind, count in zero.items())
        lines.append(f"  and {sum(zero.values())} volume-preserving nodes ({kinds}): 0 exactly")
    total = terms.figure[1:] if terms.figure.startswith("-") else f"minus the {terms.figure}"
    drawn = ""
    if terms.draws is not None:
        plural = "draw" if terms.draws == 1 else "draws"
        drawn = f"; {terms.draws} {plural} per example, evaluation seed {terms.seed}"
    lines.append(
        f"  total: log p(x) as scored ({total}, {terms.likelihood}{drawn}): "
        f"{_signed(terms, terms.total, terms.stderr)} (the terms sum to it example by example)"
    )
    if terms.proposals:
        lines.append(
            "the bound's -log q parts (included in the terms above: what the bound pays for "
            "each stochastic node's draw; the rest of its term is log-densities and log-dets):"
        )
        lines += _table(terms, list(terms.proposals))
    if iwbo_nll is not None:
        gap = -terms.total - iwbo_nll
        lines.append(
            f"the bound's gap to the NLL is at least -ELBO minus -IWBO = {gap:.4f} nats "
            f"({terms.bits(gap):.4f} bits/dim; the IWBO's draws differ, so this is an estimate)"
        )
    return lines


def _row(terms: NodeTerms, row: NodeTerm) -> dict[str, Any]:
    return {
        "node": row.node,
        "kind": row.kind,
        "term": row.term,
        "likelihood": row.likelihood,
        "nats": row.mean,
        "stderr_nats": row.stderr,
        "bits_per_dim": terms.bits(row.mean),
        "stderr_bits_per_dim": None if row.stderr is None else terms.bits(row.stderr),
    }


def by_node_json(terms: NodeTerms) -> dict[str, Any]:
    """The same figures as one JSON object (nats per example of log p(x))."""
    return {
        "units": "nats per example of log p(x); bits/dim = nats / (dims ln 2)",
        "dims": terms.dims,
        "total_log_prob": terms.total,
        "total_stderr": terms.stderr,
        **({"draws": terms.draws, "seed": terms.seed} if terms.draws is not None else {}),
        "nodes": [_row(terms, row) for row in terms.rows],
        "proposals": [_row(terms, row) for row in terms.proposals],
    }


def shading(checkpoint: Path, graph: FlowGraph) -> Shading:
    """``render --weights``: each node's mean term on the test split of the data the
    checkpoint was trained on, scored as ``eval`` scores it; exit 1 when the checkpoint
    names no data or its nodes are not the spec's."""
    from flowspec.render.shading import Shading
    from flowspec.train.by_node import by_node
    from flowspec.train.evaluate import for_evaluation

    model, meta = open_checkpoint(checkpoint)
    ours = [node.id for node in graph.layers]
    theirs = [node.id for node in model.checked.graph.layers]
    if ours != theirs:
        differ = sorted(set(ours) ^ set(theirs)) or ["their order"]
        fail(
            f"checkpoint '{checkpoint}' was trained on a spec whose nodes differ from this "
            f"one's ({', '.join(differ[:5])}): render the spec the checkpoint was trained on"
        )
    dataset = training_data(model, meta, None, checkpoint)
    if dataset is None:
        fail(f"checkpoint '{checkpoint}' names no data set to measure the terms on")
    scored, _ = for_evaluation(model)
    terms = by_node(scored, dataset.split("test"))
    return Shading({row.node: row.mean for row in terms.rows}, terms.dims)
