"""Scores of a trained model on data, named by the likelihood class of what computed them.

Scoring first swaps every estimator for its exact or lowest-variance option where one is
affordable (:func:`for_evaluation`: a residual block's exact log-det, a CNF's exact trace
for small D); then the mean ``-log_prob`` over the data (:func:`flowspec.train.nll.score`,
on seeded generators) is, by the class of the scored model (:mod:`flowspec.graph.verdict`):

- exact, or exact to a solver tolerance: the NLL itself, computed once;
- an unbiased estimate: the mean over ``draws`` draws of the estimator per example;
- a lower bound from draws (dequantized, augmented, VAE): the negative ELBO with ``draws``
  draws per example, an upper bound on the NLL, and with ``k`` the negative
  importance-weighted bound (IWBO, Burda et al. 2016, arXiv:1509.00519), a tighter upper
  bound that approaches the NLL as ``k`` grows;
- a lower bound that draws nothing (a density whose mass on the data's values is below one,
  W501/W800, as integer discrete flows): a deterministic NLL upper bound, computed once;
- a biased estimate: its mean, named so.

Bits per dimension are ``NLL / (D ln 2)`` for discrete data of ``D`` values per example.
With the default ``draws=1`` and seed, a figure equals the one ``flowspec train`` printed
for the same split.

Example::

    >>> import flowspec, torch
    >>> from flowspec.train import load_dataset
    >>> from flowspec.train.compat import drop_unused_context
    >>> _ = torch.manual_seed(0)
    >>> model = flowspec.compile("specs/vflow_moons.yaml")   # augmented: log_prob is a bound
    >>> data = drop_unused_context(model, load_dataset("moons", n_test=200))  # the labels
    >>> _ = model.initialize(data.train)   # its actnorms are set from the training split
    >>> split = data.split("test")
    >>> scores = evaluate(model, split, discrete=False, k=16)
    >>> scores.likelihood, scores.figure, scores.k, scores.bits_per_dim
    ('lower bound', '-ELBO', 16, None)
    >>> abs(scores.iwbo_nll - scores.nll) < 0.1   # untrained, both bounds are near each other
    True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch

from flowspec.core.properties import Likelihood
from flowspec.emit.runtime import FlowModel
from flowspec.graph.verdict import Figure
from flowspec.train.data import Split
from flowspec.train.nll import EVAL_BATCH, EVAL_SEED, bits_per_dim, model_dtype_device, score
from flowspec.train.state import seeded

__all__ = [
    "Evaluation",
    "evaluate",
    "bits_per_dim",
    "for_evaluation",
    "figure_note",
    "model_figure",
]


def model_figure(model: FlowModel) -> Figure:
    """What a mean ``-log_prob`` of ``model`` is: "NLL", "-ELBO" (a bound from draws) or
    "NLL upper bound" (deterministic: W501/W800), with what it is in words."""
    return Figure(*model.FIGURE)


def figure_note(figure: Figure, draws_noise: bool, draws: int = 1, seed: int = EVAL_SEED) -> str:
    """What a mean ``-log_prob`` is, with the draws behind it when ``log_prob`` draws
    noise: "an upper bound on the NLL; 1 draw per example, evaluation seed 0"."""
    if not draws_noise:
        return figure.meaning
    plural = "draw" if draws == 1 else "draws"
    return f"{figure.meaning}; {draws} {plural} per example, evaluation seed {seed}"


@dataclass(frozen=True)
class Evaluation:
    """Mean scores over ``n`` examples in nats per example (bits/dim for discrete data).

    ``likelihood`` is the class of the scored ``log_prob`` and ``figure`` the name of its
    mean: "NLL", "-ELBO" or "NLL upper bound" (:func:`flowspec.graph.verdict.figure`);
    ``stderr`` its standard error over the examples; ``draws_noise`` whether the scored
    ``log_prob`` draws random numbers, and then ``draws`` draws per example on generators
    seeded by ``seed`` (otherwise both are None: nothing is drawn); ``note`` says all
    that in words, as every output prints it. The IWBO (``k``) only for bounds from draws."""

    n: int
    likelihood: str
    figure: str
    nll: float
    stderr: float | None
    draws_noise: bool
    draws: int | None
    seed: int | None
    note: str
    bits_per_dim: float | None
    k: int | None = None
    iwbo_nll: float | None = None
    iwbo_bits_per_dim: float | None = None


def for_evaluation(model: FlowModel) -> tuple[FlowModel, list[str]]:
    """``model`` with each node's exact or lowest-variance option where it has an
    affordable one (a residual block's exact log-det, a CNF's exact trace for small D; more
    probes otherwise), its weights loaded, on its device and dtype, in eval mode; and one
    line per node changed. Training uses cheap estimators; scores should not (Chen et al.
    2019 evaluate Residual Flows with more terms, Grathwohl et al. 2019 FFJORD with the
    exact trace in 2-D)."""
    import flowspec

    checked = flowspec.check(model.checked.loaded.text)
    changed = []
    for node in checked.graph.layers:
        better = node.node_spec.for_evaluation(node.known_inputs)
        if better is not None:
            node.spec, what = better
            changed.append(f"{node.id} ({node.kind}): {what}")
    if not changed:
        return model, []
    with seeded(EVAL_SEED):  # the weights are replaced: leave the caller's random stream alone
        scored = checked.build_model()
    dtype, device = model_dtype_device(model)
    scored.to(device=device, dtype=dtype)
    scored.load_state_dict(model.state_dict())
    return scored.eval(), changed


@torch.no_grad()
def _iwbo_nll(model: FlowModel, split: Split, k: int, seed: int) -> float:
    total = 0.0
    rows = max(1, EVAL_BATCH // k)
    dtype, device = model_dtype_device(model)
    with seeded(seed):
        for start in range(0, len(split), rows):
            inputs = [
                part.to(device=device, dtype=dtype)
                for part in split.inputs(slice(start, start + rows))
            ]
            total -= float(model.iwbo(*inputs, k=k).double().sum())
    return total / len(split)


def evaluate(
    model: FlowModel,
    split: Split,
    *,
    discrete: bool,
    k: int | None = None,
    draws: int = 1,
    seed: int = EVAL_SEED,
) -> Evaluation:
    """Score ``model`` (as it is: call :func:`for_evaluation` first for the exact options)
    on ``split`` by its class; for lower bounds from draws with ``k``, also the IWBO."""
    likelihood = next(c for c in Likelihood if c.label == model.likelihood)
    noise = model.draws_noise
    draws = draws if noise else 1
    named = model_figure(model)
    if not model.CONTEXT_INPUTS:
        split = Split(split.x)
    was_training = model.training
    model.eval()
    try:
        mean = score(model, split, draws=draws, seed=seed)
        dims = math.prod(split.x.shape[1:])
        bits = bits_per_dim(mean.mean, dims) if discrete else None
        scores = Evaluation(
            n=mean.n,
            likelihood=likelihood.label,
            figure=named.name,
            nll=mean.mean,
            stderr=mean.stderr,
            draws_noise=noise,
            draws=draws if noise else None,
            seed=seed if noise else None,
            note=figure_note(named, noise, draws, seed),
            bits_per_dim=bits,
        )
        if k is None or likelihood is not Likelihood.BOUND or not noise:
            return scores
        tight = _iwbo_nll(model, split, k, seed)
        tight_bits = bits_per_dim(tight, dims) if discrete else None
        return replace(scores, k=k, iwbo_nll=tight, iwbo_bits_per_dim=tight_bits)
    finally:
        model.train(was_training)
