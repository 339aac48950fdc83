"""What ``log_prob`` of a model is, said once: the verdict every output prints.

A model's likelihood class is the weakest of its nodes' (:class:`Likelihood`: exact, exact
to a tolerance, unbiased estimate, lower bound, biased estimate), and at best a lower bound
when a density of the whole real line gets values that do not fill it (W501, W800: the
model's mass is below 1). ``validate``, ``compile``, ``render``, ``train``, ``eval``, the
plots, the metrics logs and ``model.likelihood`` all take it from here, so they cannot
disagree.

A number computed from ``log_prob`` is named by the class of what computed it
(:func:`figure`): an exact NLL, an NLL exact to a tolerance, an unbiased estimate of the NLL,
the negative ELBO (an upper bound on the NLL, from draws) or a biased estimate; a bound that
draws nothing (its mass on the data's values is below one, W501/W800) is a deterministic NLL
upper bound, one number per example. Scoring may use a
node's exact option (:meth:`NodeSpec.for_evaluation`), so the class of a printed figure
can be stronger than that of the model's ``log_prob``.

Example::

    >>> import flowspec
    >>> verdict(flowspec.check("specs/vflow_moons.yaml").graph).sentence
    'log_prob is a lower bound (ELBO): stochastic nodes: pad'
    >>> figure("lower bound", draws_noise=True).label
    '-ELBO (an upper bound on the NLL)'
    >>> verdict(flowspec.check("specs/idf_digits.yaml").graph).figure.label
    "NLL upper bound (deterministic; W501: the model's mass on the data's values is below one)"
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from flowspec.core.properties import Likelihood
from flowspec.graph.model import FlowGraph

__all__ = ["Figure", "Verdict", "figure", "verdict", "with_article"]


@dataclass(frozen=True)
class Figure:
    """What a mean of ``-log_prob`` over data is, by the class of that ``log_prob``."""

    #: Its name in tables and logs: "NLL" or "-ELBO".
    name: str
    #: What it is, in words: "exact", "an upper bound on the NLL", ...
    meaning: str

    @property
    def label(self) -> str:
        """The name and what it is: "-ELBO (an upper bound on the NLL)"."""
        return f"{self.name} ({self.meaning})"


_FIGURES = {
    Likelihood.EXACT: Figure("NLL", "exact"),
    Likelihood.TOLERANCE: Figure("NLL", "exact to a solver tolerance"),
    Likelihood.ESTIMATE: Figure("NLL", "an unbiased estimate"),
    Likelihood.BOUND: Figure("-ELBO", "an upper bound on the NLL"),
    Likelihood.BIASED: Figure("NLL", "a biased estimate"),
}


def figure(
    likelihood: Likelihood | str, *, draws_noise: bool, causes: Sequence[str] = ()
) -> Figure:
    """What the mean ``-log_prob`` of a model of class ``likelihood`` is. A lower bound
    whose ``log_prob`` draws nothing (``draws_noise`` False: the bound comes only from a
    density's support, ``causes`` W501/W800) is no ELBO: it is named an NLL upper bound,
    deterministic, with its causes, and has no draws and no IWBO."""
    if isinstance(likelihood, str):
        likelihood = next(c for c in Likelihood if c.label == likelihood)
    if likelihood is Likelihood.BOUND and not draws_noise:
        why = ", ".join(causes) or "a density's support"
        return Figure(
            "NLL upper bound",
            f"deterministic; {why}: the model's mass on the data's values is below one",
        )
    return _FIGURES[likelihood]


def with_article(label: str) -> str:
    """ "exact", "exact to a tolerance", "an unbiased estimate", "a lower bound"."""
    if label.startswith("exact"):
        return label
    return ("an " if label[0] in "aeiou" else "a ") + label


_CLASS_SENTENCE = {
    Likelihood.EXACT: "log_prob is the exact log-likelihood",
    Likelihood.TOLERANCE: "log_prob is the exact log-likelihood up to a solver tolerance: "
    "iterative nodes: ",
    Likelihood.ESTIMATE: "log_prob is an unbiased stochastic estimate (neither exact nor a "
    "bound): estimating nodes: ",
    Likelihood.BOUND: "log_prob is a lower bound (ELBO): stochastic nodes: ",
    Likelihood.BIASED: "log_prob is a biased estimate (a truncated series; neither exact, "
    "unbiased nor a bound): nodes: ",
}


@dataclass(frozen=True)
class Verdict:
    """What ``log_prob`` of a checked model is, and because of which nodes."""

    #: The model's class: the weakest of its nodes', a bound at best when unnormalized.
    likelihood: Likelihood
    #: Every node that is not exact: (id, class, its tolerance in words or None).
    inexact: tuple[tuple[str, Likelihood, str | None], ...] = ()
    #: Densities fed values that do not fill the real line: (node id, code W501/W800).
    unnormalized: tuple[tuple[str, str], ...] = ()
    #: Codes the spec accepts (``accept:``): the verdict still holds, marked accepted.
    accepted: frozenset[str] = frozenset()
    #: Nodes without an inference direction: ``log_prob`` of data is not available.
    unavailable: tuple[str, ...] = ()
    #: Whether ``log_prob`` draws random numbers (:attr:`FlowGraph.draws_noise`).
    draws_noise: bool = False

    @property
    def figure(self) -> Figure:
        """What a mean ``-log_prob`` of this model is (:func:`figure`)."""
        causes = sorted({code for _, code in self.unnormalized})
        return figure(self.likelihood, draws_noise=self.draws_noise, causes=causes)

    @property
    def label(self) -> str:
        """The class in words: ``model.likelihood``."""
        return self.likelihood.label

    @property
    def log_prob_available(self) -> bool:
        return not self.unavailable

    @property
    def sentence(self) -> str:
        """One sentence: what ``log_prob`` is, naming the nodes that make it so."""
        if self.unavailable:
            text = (
                f"log_prob of data is not available: {', '.join(self.unavailable)} "
                "have no inference direction (W752); sample_and_log_prob gives "
                f"{_OWN_SAMPLES[self.likelihood]} of the model's own samples"
            )
            reasons = self._reasons()
            return text + (f" ({'; '.join(reasons)})" if reasons else "")
        weakest = max((c for _, c, _ in self.inexact), default=Likelihood.EXACT)
        if self.unnormalized and weakest < Likelihood.BOUND:
            others = ", ".join(self._named(n, with_class=True) for n in self.inexact)
            return f"log_prob is a lower bound: {self._mass()}" + (
                f"; also {others}" if others else ""
            )
        if weakest is Likelihood.EXACT:
            return _CLASS_SENTENCE[weakest]
        return _CLASS_SENTENCE[weakest] + "; ".join(self._reasons())

    def _mass(self) -> str:
        nodes = ", ".join(node for node, _ in self.unnormalized)
        codes = sorted({code for _, code in self.unnormalized})
        marks = ", ".join(f"{code}, accepted" if code in self.accepted else code for code in codes)
        return (
            f"the density of {nodes} gets values that do not fill its support ({marks}), so "
            "the model's total mass is below 1"
        )

    @staticmethod
    def _named(node: tuple[str, Likelihood, str | None], with_class: bool) -> str:
        name, likelihood, tolerance = node
        details = [likelihood.label] if with_class else []
        details += [tolerance] if tolerance else []
        return f"{name} ({'; '.join(details)})" if details else name

    def _reasons(self) -> list[str]:
        """The clauses after the class: the weakest nodes, then the others (with their
        class), then the densities that make the mass below 1."""
        weakest = max((c for _, c, _ in self.inexact), default=None)
        clauses = []
        if weakest is not None:
            named = [self._named(n, False) for n in self.inexact if n[1] is weakest]
            clauses.append(", ".join(named))
        also = [self._named(n, True) for n in self.inexact if n[1] is not weakest]
        if self.unnormalized:
            also.append(self._mass())
        if also:
            clauses.append(("also " if clauses else "") + ", ".join(also))
        return clauses


_OWN_SAMPLES = {
    Likelihood.EXACT: "the exact log-density",
    Likelihood.TOLERANCE: "the log-density (exact to a tolerance)",
    Likelihood.ESTIMATE: "an unbiased estimate of the log-density",
    Likelihood.BOUND: "a lower bound on the log-density",
    Likelihood.BIASED: "a biased estimate of the log-density",
}


def verdict(graph: FlowGraph) -> Verdict:
    """The verdict of a checked graph (with the warnings its spec accepts)."""
    inexact = tuple(
        (node.id, node.spec.likelihood(), node.spec.tolerance())
        for node in graph.layers
        if node.spec is not None and node.spec.likelihood() is not Likelihood.EXACT
    )
    unnormalized = tuple(
        (node.id, found.code) for node in graph.layers for found in node.unnormalized[:1]
    )
    return Verdict(
        likelihood=graph.likelihood,
        inexact=inexact,
        unnormalized=unnormalized,
        accepted=frozenset(graph.accepted),
        unavailable=tuple(graph.unavailable_log_prob()),
        draws_noise=graph.draws_noise,
    )
