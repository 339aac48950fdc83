"""Scores of a trained model on data: NLL, bits per dimension and importance-weighted
bounds.

For exact models the NLL is exact. For bound models (``model.exact`` False: dequantized,
sliced or augmented flows) ``-log_prob`` is the negative of a one-sample ELBO, an upper
bound on the NLL; the importance-weighted bound with ``k`` samples (IWBO, Burda et al.
2016, arXiv:1509.00519) is a tighter upper bound that approaches the NLL as ``k`` grows.
Bits per dimension are ``NLL / (D ln 2)`` for discrete data of ``D`` values per example.

Example::

    >>> scores = evaluate(model, data.test, levels=17, k=64)     # doctest: +SKIP
    >>> scores.nll, scores.iwbo_nll, scores.bits_per_dim          # doctest: +SKIP
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from flowspec.emit.runtime import FlowModel
from flowspec.train.data import Split
from flowspec.train.loop import evaluate_nll
from flowspec.train.nll import bits_per_dim

__all__ = ["Evaluation", "evaluate", "bits_per_dim", "for_evaluation"]


@dataclass(frozen=True)
class Evaluation:
    """Mean scores over ``n`` examples, in nats per example (bits/dim for discrete data)."""

    n: int
    exact: bool
    nll: float
    bits_per_dim: float | None
    k: int | None = None
    iwbo_nll: float | None = None
    iwbo_bits_per_dim: float | None = None


def for_evaluation(model: FlowModel) -> tuple[FlowModel, list[str]]:
    """``model`` with each node's exact or lowest-variance option where it has an
    affordable one (a residual block's exact log-det, a CNF's exact trace for small D; more
    probes otherwise), its weights loaded, in eval mode; and one line per node changed.
    Training uses cheap estimators; scores should not (Chen et al. 2019 evaluate Residual
    Flows with more terms, Grathwohl et al. 2019 FFJORD with the exact trace in 2-D)."""
    import flowspec

    checked = flowspec.check(model.checked.loaded.text)
    changed = []
    for node in checked.graph.layers:
        better = node.spec.for_evaluation(node.input_info)
        if better is not None:
            node.spec, what = better
            changed.append(f"{node.id} ({node.kind}): {what}")
    if not changed:
        return model, []
    scored = checked.build_model()
    dtype = next((p.dtype for p in model.parameters()), None)
    if dtype is not None:
        scored.to(dtype)
    scored.load_state_dict(model.state_dict())
    return scored.eval(), changed


@torch.no_grad()
def _iwbo_nll(model: FlowModel, split: Split, k: int, batch_size: int) -> float:
    total = 0.0
    rows = max(1, batch_size // k)
    for start in range(0, len(split), rows):
        total -= float(model.iwbo(*split.inputs(slice(start, start + rows)), k=k).double().sum())
    return total / len(split)


def evaluate(
    model: FlowModel,
    split: Split,
    *,
    discrete: bool,
    k: int | None = None,
    batch_size: int = 4096,
) -> Evaluation:
    """Score ``model`` on ``split``; for bound models with ``k``, also the IWBO."""
    was_training = model.training
    model.eval()
    try:
        nll = evaluate_nll(model, split, batch_size=batch_size)
        dims = math.prod(split.x.shape[1:])
        bits = bits_per_dim(nll, dims) if discrete else None
        if k is None or model.exact:
            return Evaluation(len(split), model.exact, nll, bits)
        tight = _iwbo_nll(model, split, k, batch_size)
        tight_bits = bits_per_dim(tight, dims) if discrete else None
        return Evaluation(len(split), False, nll, bits, k, tight, tight_bits)
    finally:
        model.train(was_training)
