"""Where the bits go: each node's mean contribution to ``log p(x)`` over a data split.

In the SurVAE view (Nielsen et al. 2020, arXiv:2007.02731) ``log p(x)`` is a sum of one
term per node: a bijection's ``log|det J|``, a surjection's likelihood term, a stochastic
node's ``log p - log q``, a dequantizer's correction, each terminal distribution's
log-density. :func:`by_node` averages each node's term over the examples
(:meth:`FlowModel.trace`), on the seeded batches of :func:`flowspec.train.nll.score`, so
per example the terms sum to the ``log_prob`` whose mean ``flowspec eval`` prints (the same
draws for stochastic models). For a model whose ``log_prob`` is a lower bound, each
stochastic node's ``-log q`` term is reported apart (:attr:`NodeTerms.proposals`): what
the bound pays for drawing that node's latent, the part of its term that is no log-density.

Example::

    >>> import flowspec
    >>> from flowspec.train import load_dataset
    >>> model = flowspec.compile("specs/realnvp_moons.yaml")
    >>> split = load_dataset("moons", n_test=200).split("test")
    >>> terms = by_node(model, split)
    >>> terms.rows[-1].node, terms.rows[-1].term
    ('prior', 'log N(z; 0, I)')
    >>> abs(sum(row.mean for row in terms.rows) - terms.total) < 1e-9
    True
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch

from flowspec.core.layer import FlowLayer
from flowspec.emit.runtime import FlowModel
from flowspec.train.data import Split
from flowspec.train.evaluate import model_figure
from flowspec.train.nll import EVAL_BATCH, EVAL_SEED, model_dtype_device
from flowspec.train.state import seeded

__all__ = ["NodeTerm", "NodeTerms", "PerExample", "by_node", "per_example"]


@dataclass(frozen=True)
class NodeTerm:
    """One node's mean term of ``log p(x)`` in nats per example (positive raises the
    likelihood) and its standard error over the examples (None for one example)."""

    node: str
    kind: str
    #: The kind's formula of the term ("log|det J|", "-log q(u | x)").
    term: str
    #: What the term is: the node's likelihood class ("exact", "lower bound", ...).
    likelihood: str
    mean: float
    stderr: float | None
    #: Whether the term is zero for every input (permutations, reshapes).
    volume_preserving: bool


@dataclass(frozen=True)
class NodeTerms:
    """Each node's term (inference order) over ``n`` examples of ``dims`` values, and the
    stochastic nodes' ``-log q`` parts; ``total`` is the mean ``log_prob`` they sum to,
    ``figure`` its name as ``flowspec eval`` prints it negated ("NLL", "-ELBO", "NLL upper
    bound")."""

    n: int
    dims: int
    #: Draws per example and their seed; None when ``log_prob`` draws nothing.
    draws: int | None
    seed: int | None
    likelihood: str
    figure: str
    rows: tuple[NodeTerm, ...]
    proposals: tuple[NodeTerm, ...]
    total: float
    stderr: float | None

    def bits(self, nats: float) -> float:
        """Nats per example as bits per dimension: ``nats / (dims ln 2)``."""
        return nats / (self.dims * math.log(2.0))


@dataclass(frozen=True)
class PerExample:
    """Per-example values, float64 tensors of shape ``(n,)``: every node's term, every
    stochastic node's ``-log q`` part, and ``log_prob`` as the trace computed it."""

    contributions: dict[str, torch.Tensor]
    proposals: dict[str, torch.Tensor]
    log_prob: torch.Tensor


@contextmanager
def _keeping_proposals(model: FlowModel) -> Iterator[dict[str, FlowLayer]]:
    """The model's node layers that keep their ``-log q`` term while the block runs."""
    layers = {name: layer for name, layer in model.nodes.items() if isinstance(layer, FlowLayer)}
    for layer in layers.values():
        layer.keep_proposal_term = True
    try:
        yield layers
    finally:
        for layer in layers.values():
            del layer.keep_proposal_term
            layer.proposal_term = None


def _per_row(value: torch.Tensor, rows: int) -> torch.Tensor:
    """A node's term as ``(rows,)`` float64 (a volume-preserving node may give a scalar)."""
    return value.detach().double().expand(rows) if value.dim() == 0 else value.detach().double()


@torch.no_grad()
def per_example(
    model: FlowModel, split: Split, *, draws: int = 1, seed: int = EVAL_SEED
) -> PerExample:
    """Every node's term per example, averaged over ``draws`` draws, in eval mode, on
    batches of :data:`EVAL_BATCH` with generators seeded by ``seed`` (restored afterwards):
    the draws :func:`flowspec.train.nll.score` makes."""
    if not model.CONTEXT_INPUTS:
        split = Split(split.x)
    dtype, device = model_dtype_device(model)
    parts: list[tuple[dict[str, torch.Tensor], dict[str, torch.Tensor], torch.Tensor]] = []
    was_training = model.training
    model.eval()
    try:
        with seeded(seed), _keeping_proposals(model) as layers:
            for start in range(0, len(split), EVAL_BATCH):
                inputs = [
                    part.to(device=device, dtype=dtype)
                    for part in split.inputs(slice(start, start + EVAL_BATCH))
                ]
                rows = inputs[0].shape[0]
                terms: dict[str, torch.Tensor] = {}
                paid: dict[str, torch.Tensor] = {}
                totals = torch.zeros(rows, dtype=torch.float64)
                for _ in range(draws):
                    trace = model.trace(*inputs)
                    for name, value in trace.contributions.items():
                        terms[name] = terms.get(name, 0) + _per_row(value, rows) / draws
                    for name, layer in layers.items():
                        if layer.proposal_term is not None:
                            paid[name] = (
                                paid.get(name, 0) + _per_row(layer.proposal_term, rows) / draws
                            )
                            layer.proposal_term = None
                    totals += trace.log_prob.detach().double() / draws
                parts.append((terms, paid, totals))
    finally:
        model.train(was_training)
    joined = {name: torch.cat([p[0][name] for p in parts]) for name in parts[0][0]}
    proposals = {name: torch.cat([p[1][name] for p in parts]) for name in parts[0][1]}
    return PerExample(joined, proposals, torch.cat([p[2] for p in parts]))


def _mean_stderr(values: torch.Tensor) -> tuple[float, float | None]:
    n = values.numel()
    stderr = float(values.std() / math.sqrt(n)) if n > 1 else None
    return float(values.mean()), stderr


def _proposal_formula(contribution: str) -> str:
    """The ``-log q(...)`` part of a kind's formula ("-log q(u | x)"), or for a uniform
    proposal, which has none, that it is zero."""
    found = re.search(r"-\s*log q\([^)]*\)", contribution)
    return found.group(0).replace("- ", "-") if found else "-log q (uniform q: 0)"


def by_node(model: FlowModel, split: Split, *, draws: int = 1, seed: int = EVAL_SEED) -> NodeTerms:
    """Each node's mean term of ``log p(x)`` over ``split`` in nats per example, with its
    standard error, and for stochastic nodes the ``-log q`` part (see :func:`per_example`
    for the draws)."""
    noise = model.draws_noise
    values = per_example(model, split, draws=draws if noise else 1, seed=seed)
    nodes = model.checked.graph.nodes

    def row(name: str, value: torch.Tensor, term: str | None = None) -> NodeTerm:
        spec = nodes[name].node_spec
        mean, stderr = _mean_stderr(value)
        return NodeTerm(
            node=name,
            kind=spec.kind,
            term=term or spec.contribution,
            likelihood=spec.likelihood().label,
            mean=mean,
            stderr=stderr,
            volume_preserving=spec.preserves_volume(),
        )

    total, stderr = _mean_stderr(values.log_prob)
    return NodeTerms(
        n=len(split),
        dims=math.prod(split.x.shape[1:]),
        draws=draws if noise else None,
        seed=seed if noise else None,
        likelihood=model.likelihood,
        figure=model_figure(model).name,
        rows=tuple(row(name, value) for name, value in values.contributions.items()),
        proposals=tuple(
            row(name, value, _proposal_formula(nodes[name].node_spec.contribution))
            for name, value in values.proposals.items()
        ),
        total=total,
        stderr=stderr,
    )
