"""The trivial baseline every trained figure is printed next to, and the "learned nothing"
and "not converged" checks of a run.

A flow that has learned something about its data scores a lower test NLL than the simplest
density one could fit in closed form:

- continuous data: one full-covariance Gaussian, fitted by maximum likelihood on the
  training split (mean and covariance of the training examples, flattened);
- discrete data (``levels`` K): independent categoricals, one per dimension, fitted on the
  training split with add-one (Laplace) smoothing, ``p_d(k) = (n_dk + 1) / (n + K)``.

Both are scored on the test split in nats per example (and bits per dimension for discrete
data), the units of :class:`flowspec.train.loop.FitResult`. A data set's context (a
conditional model's labels) is ignored: the baseline is unconditional.

A model beats the baseline *clearly* when its test NLL is below the baseline's by more than
:meth:`Baseline.margin`: twice the standard error of the baseline's test mean (so test-set
noise alone cannot make the verdict) and at least :data:`MARGIN_PER_DIM` nats per
dimension. The comparison is invariant to an affine change of the data's units: both
densities change by the same log-determinant.

Example::

    >>> baseline = fit_baseline(dataset)                                # doctest: +SKIP
    >>> baseline.nll, baseline.describe()                               # doctest: +SKIP
    (1.8772, 'full-covariance Gaussian fitted on the training split (maximum likelihood)')
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch

from flowspec.train.data import Dataset
from flowspec.train.nll import bits_per_dim

__all__ = [
    "MARGIN_PER_DIM",
    "Baseline",
    "categorical_nlls",
    "fit_baseline",
    "gaussian_nlls",
    "run_warnings",
]

#: The smallest gain, in nats per dimension, that counts as beating the baseline clearly.
MARGIN_PER_DIM = 0.01
#: Added to a singular covariance's diagonal, relative to its mean variance, so that data
#: with a constant (or collinear) coordinate still gets a finite baseline.
_JITTER = 1e-6

_DESCRIPTIONS = {
    "gaussian": "full-covariance Gaussian fitted on the training split (maximum likelihood)",
    "categorical": "independent per-dimension categoricals fitted on the training split "
    "(add-one smoothing)",
}


def gaussian_nlls(train: torch.Tensor, test: torch.Tensor) -> torch.Tensor:
    """``-log N(x; mu, Sigma)`` of every test example in nats, ``mu`` and ``Sigma`` the
    maximum-likelihood mean and covariance of ``train`` (examples flattened, float64)."""
    x, y = train.flatten(1).double(), test.flatten(1).double()
    dims = x.shape[1]
    mean = x.mean(0)
    centred = x - mean
    covariance = centred.T @ centred / len(x)
    cholesky, singular = torch.linalg.cholesky_ex(covariance)
    if singular:
        jitter = _JITTER * float(covariance.diagonal().mean().clamp_min(1e-12))
        cholesky = torch.linalg.cholesky(covariance + jitter * torch.eye(dims).double())
    white = torch.linalg.solve_triangular(cholesky, (y - mean).T, upper=False)
    log_det = 2.0 * torch.log(cholesky.diagonal()).sum()
    return 0.5 * (dims * math.log(2 * math.pi) + log_det + white.pow(2).sum(0))


def categorical_nlls(train: torch.Tensor, test: torch.Tensor, levels: int) -> torch.Tensor:
    """``-sum_d log p_d(x_d)`` of every test example in nats, ``p_d`` the add-one smoothed
    frequencies of the values ``0..levels-1`` of dimension ``d`` in ``train``."""
    x, y = train.flatten(1).long(), test.flatten(1).long()
    counts = torch.zeros(x.shape[1], levels, dtype=torch.float64)
    counts.scatter_add_(1, x.T, torch.ones(x.T.shape, dtype=torch.float64))
    log_p = torch.log((counts + 1.0) / (len(x) + levels))
    return -log_p.gather(1, y.T).sum(0)


@dataclass(frozen=True)
class Baseline:
    """A trivial density's mean test NLL (``nll``, nats per example) with the standard
    error of that mean over the ``n`` test examples, for data of ``dims`` dimensions;
    ``bits_per_dim`` for discrete data, else None."""

    kind: str
    nll: float
    standard_error: float
    n: int
    dims: int
    bits_per_dim: float | None

    def describe(self) -> str:
        """What the baseline is, in words."""
        return _DESCRIPTIONS[self.kind]

    def margin(self) -> float:
        """How much lower (nats per example) a model's test NLL must be to beat it clearly."""
        return max(2.0 * self.standard_error, MARGIN_PER_DIM * self.dims)

    def beaten_by(self, nll: float) -> bool:
        """Whether a test NLL of ``nll`` nats per example beats this baseline clearly."""
        return nll < self.nll - self.margin()

    def to_json(self) -> dict[str, object]:
        return {
            **asdict(self),
            "description": self.describe(),
            "units": "nats per example",
            "margin": self.margin(),
        }


def fit_baseline(dataset: Dataset, scored: torch.Tensor | None = None) -> Baseline:
    """The trivial baseline of ``dataset``: fitted on its training split, scored on its
    test split or on the examples ``scored`` (see the module doc)."""
    test = dataset.test if scored is None else scored
    dims = math.prod(dataset.shape)
    if dataset.levels is None:
        kind, nlls = "gaussian", gaussian_nlls(dataset.train, test)
    else:
        kind, nlls = "categorical", categorical_nlls(dataset.train, test, dataset.levels)
    error = float(nlls.std() / math.sqrt(len(nlls))) if len(nlls) > 1 else math.inf
    nll = float(nlls.mean())
    bits = bits_per_dim(nll, dims) if dataset.levels is not None else None
    return Baseline(kind, nll, error, len(nlls), dims, bits)


def run_warnings(
    test_nll: float, baseline: Baseline, steps: int, best_step: int, bound: bool
) -> list[str]:
    """What a run's summary must warn about: a test NLL that does not beat ``baseline``
    clearly (the model may have learned nothing), and the best validation NLL at the last
    step done (the model had not converged). ``bound``: the NLL is an upper bound from
    draws, which the importance-weighted bound tightens."""
    warnings = []
    if not baseline.beaten_by(test_nll):
        tighter = " (an upper bound: flowspec eval --k 128 tightens it)" if bound else ""
        warnings.append(
            f"the model does not clearly beat the baseline: test NLL {test_nll:.4f} nats"
            f"{tighter} against {baseline.nll:.4f} nats for the {baseline.describe()}, where "
            f"a model that learned the data is lower by more than {baseline.margin():.4f} "
            "nats; train longer, or change the learning rate or the spec's settings"
        )
    if steps > 0 and best_step == steps:
        warnings.append(
            f"the best validation NLL is at the last step ({steps}): the model had not "
            "converged; train longer (more --steps)"
        )
    return warnings
