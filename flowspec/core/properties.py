"""What a node's (and a model's) ``log_prob`` is, and what each direction costs.

A model is classified by the weakest of its nodes (``FlowGraph.likelihood``): combining an
exact term with a bound gives a bound, a tolerance with an estimate gives an estimate, and
so on. Both enumerations are ordered from strongest to weakest, so the model's class is the ``max``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

__all__ = ["DRAWN_CLASSES", "Likelihood", "Cost", "Costs"]


class Likelihood(IntEnum):
    """What ``log_prob`` computes, from strongest to weakest."""

    #: ``log p(x)`` itself (couplings, MAF, slice with an exact decoder).
    EXACT = 0
    #: ``log p(x)`` up to a solver's or a fixed-point iteration's tolerance.
    TOLERANCE = 1
    #: An unbiased stochastic estimate: ``E[log_prob] = log p(x)``, neither exact nor a bound
    #: (Hutchinson's trace, Russian roulette).
    ESTIMATE = 2
    #: A stochastic lower bound: ``E[log_prob] <= log p(x)`` (augment, dequantization, VAE);
    #: the IWBO tightens it.
    BOUND = 3
    #: A biased estimate (a truncated series): neither exact, unbiased nor a bound.
    BIASED = 4

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Likelihood.EXACT: "exact",
    Likelihood.TOLERANCE: "exact to a tolerance",
    Likelihood.ESTIMATE: "unbiased estimate",
    Likelihood.BOUND: "lower bound",
    Likelihood.BIASED: "biased estimate",
}


#: The classes a node's contribution has only because it draws random numbers (a proposal,
#: an estimator's probes). A model is also a bound, without drawing, when a density gets
#: values that do not fill its support (W501, W800).
DRAWN_CLASSES = frozenset({Likelihood.ESTIMATE, Likelihood.BOUND, Likelihood.BIASED})


class Cost(IntEnum):
    """How one direction of a node is computed, from cheapest to unavailable."""

    #: Analytic, one pass through the node's network(s).
    ONE_PASS = 0
    #: Analytic, but one pass per feature (autoregressive inversion: MAF sampling, IAF density).
    D_PASSES = 1
    #: By iteration to a tolerance (bisection, fixed point, ODE solve).
    ITERATIVE = 2
    #: No way to compute it (planar and radial flows have no inverse).
    UNAVAILABLE = 3

    @property
    def label(self) -> str:
        return _COST_LABELS[self]


_COST_LABELS = {
    Cost.ONE_PASS: "one pass",
    Cost.D_PASSES: "D passes",
    Cost.ITERATIVE: "iterative",
    Cost.UNAVAILABLE: "not available",
}


@dataclass(frozen=True)
class Costs:
    """The cost of inference (data -> latent: what ``log_prob`` runs) and of generation
    (latent -> data: what ``sample`` runs)."""

    inference: Cost
    generation: Cost
