"""The oracles of random specs (tests/random_specs.py): each family's claims checked against
an independent computation, in float64 with every parameter moved off its initialisation.

``check(spec)`` returns the problems found (empty when every oracle agrees), so that the
test suite can assert on a few seeds and ``fuzz/random_valid.py`` can run many. The likelihood
class ``validate`` gives is checked against what the oracle finds: exact and exact-to-a-
tolerance models integrate (or sum) to one, a model whose density gets values that do not
fill its support integrates to less, an unbiased estimate averages to the exact value, and a
lower bound stays below the exact value computed by quadrature.
"""

from __future__ import annotations

import copy
import itertools
import math
from collections.abc import Callable

import torch
import yaml
from oracles import randomize_
from random_specs import RandomSpec, parts_used

import flowspec
from flowspec.core.node import Category
from flowspec.core.properties import Cost, Likelihood
from flowspec.emit.runtime import UnavailableError

__all__ = ["ORACLES", "check"]

Problems = list[str]
DTYPE = torch.float64


class Prepared:
    """A random spec's checked graph and its model: float64, parameters moved by a seeded
    perturbation, data-dependent initialisations done on data-like values, eval mode."""

    def __init__(self, spec: RandomSpec):
        self.spec = spec
        self.checked = flowspec.check(spec.text)
        self.graph = self.checked.graph
        torch.manual_seed(spec.seed)
        self.model = self.checked.build_model().to(DTYPE)
        randomize_(self.model, scale=0.15, seed=spec.seed)
        if not self.graph.unavailable_log_prob():
            self.model.initialize(self.data(256), **self.context(256))
        self.model.eval()

    @property
    def likelihood(self) -> Likelihood:
        return self.graph.likelihood

    @property
    def reach(self) -> float:
        """How far a grid may go: |x| up to sinh(9) (about 4000), short of 709 when the spec
        holds an exp (float64's exp saturates there, and past it an exp then log stops
        falling: its analytic log-derivative grows while the clamped value does not)."""
        return 7.0 if ("transformer", "exp") in parts_used(self.spec.doc) else 9.0

    def data(self, n: int) -> torch.Tensor:
        """``n`` data-like values of the input ``x``."""
        x = self.spec.doc["inputs"]["x"]
        if "levels" in x:
            return torch.randint(0, x["levels"], (n, *x["shape"])).to(DTYPE)
        return torch.randn(n, *x["shape"], dtype=DTYPE)

    def context(self, n: int, value: float = 0.5) -> dict[str, torch.Tensor]:
        if "c" not in self.spec.doc["inputs"]:
            return {}
        return {"c": torch.full((n, 1), value, dtype=DTYPE)}

    def all_nodes(self, *categories: Category) -> bool:
        return all(node.spec.category() in categories for node in self.graph.layers)

    def iterative(self) -> bool:
        """Whether some node inverts or infers by iteration (bisection, fixed point, ODE)."""
        costs = self.graph.costs
        return Cost.ITERATIVE in (costs.inference, costs.generation)


def check(spec: RandomSpec) -> Problems:
    """Every oracle of the spec's family; the problems found."""
    prepared = Prepared(spec)
    return [problem for oracle in ORACLES[spec.family] for problem in oracle(prepared)]


# --- quadrature ------------------------------------------------------------------------------


def sinh_axis(n: int, reach: float = 7.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Points uniform in asinh(x), out to |x| = sinh(reach) (about 550 by default), and
    their weights: as fine as a uniform grid near 0, yet holding the log-normal tails some
    maps give."""
    step = 2 * reach / n
    s = torch.linspace(-reach + step / 2, reach - step / 2, n, dtype=DTYPE)
    return torch.sinh(s), torch.cosh(s) * step


def log_integral(
    log_density: Callable[[torch.Tensor], torch.Tensor],
    points: torch.Tensor,
    log_weights: torch.Tensor,
) -> float:
    """log of the sum of density times weight over the points (in chunks, no gradients)."""
    with torch.no_grad():
        values = torch.cat([log_density(chunk) for chunk in points.split(40_000)])
    return torch.logsumexp(values.nan_to_num(float("-inf")) + log_weights, 0).item()


def plane(n: int = 400, reach: float = 7.0) -> tuple[torch.Tensor, torch.Tensor]:
    """The plane's points and log-weights (a product of two :func:`sinh_axis`)."""
    axis, weight = sinh_axis(n, reach)
    return torch.cartesian_prod(axis, axis), torch.cartesian_prod(weight, weight).log().sum(1)


def plane_mass(
    log_density: Callable[[torch.Tensor], torch.Tensor], n: int = 400, reach: float = 7.0
) -> float:
    return math.exp(log_integral(log_density, *plane(n, reach)))


# --- oracles shared by the families ----------------------------------------------------------


def mass_matches_verdict(p: Prepared, mass: float, error: float, what: str) -> Problems:
    """Exact (or exact to a tolerance) models hold mass one; a model whose density gets
    values that do not fill its support (W501) holds less. ``error`` is the oracle's own."""
    if p.likelihood in (Likelihood.EXACT, Likelihood.TOLERANCE):
        if not abs(mass - 1) <= error:
            return [f"{what}: mass {mass:.4f} but validate says {p.likelihood.label}"]
    elif p.graph.unnormalized and mass > 1 - error:
        return [f"{what}: mass {mass:.4f} but validate says a lower bound (W501)"]
    return []


def grid_verdict(p: Prepared, n: int = 400) -> Problems:
    """The 2-D density integrated on a grid (for each context value)."""
    problems: Problems = []
    for value in p.spec.meta.get("contexts", [0.0]):

        def density(x: torch.Tensor, value: float = value) -> torch.Tensor:
            return p.model.log_prob(x, **p.context(len(x), value))

        mass = plane_mass(density, n, p.reach)
        problems += mass_matches_verdict(p, mass, 0.03 if n < 400 else 0.02, f"grid (c={value})")
    return problems


def round_trip(p: Prepared) -> Problems:
    """Inference then generation gives the data back (bijective models)."""
    if not p.all_nodes(Category.BIJECTIVE, Category.DISTRIBUTION):
        return []
    x = p.data(16)
    with torch.no_grad():
        back = p.model.inverse(p.model.trace(x, **p.context(16)).latents, **p.context(16))
    error = (back - x).abs().max().item()
    limit = 1e-3 if p.iterative() else 1e-6
    return [f"round trip: error {error:.2e}"] if not error <= limit else []


def jacobian_logdet(p: Prepared) -> Problems:
    """The contributions of the bijective nodes add up to log|det| of the map from the data
    to all latents, by autograd (per sample, float64)."""
    discrete = "levels" in p.spec.doc["inputs"]["x"]
    if discrete or not p.all_nodes(Category.BIJECTIVE, Category.DISTRIBUTION):
        return []
    if any(node.kind == "cnf" for node in p.graph.layers):
        return []  # an ODE solve per Jacobian column: the estimate family covers CNFs
    terminals = [node.id for node in p.graph.terminals]
    x = p.data(4)
    problems: Problems = []
    for row in x:
        context = p.context(1)

        def latents(v: torch.Tensor, context: dict = context) -> torch.Tensor:
            found = p.model.trace(v.unsqueeze(0), **context).latents
            return torch.cat([found[t].flatten(1) for t in terminals], dim=1).squeeze(0)

        jacobian = torch.autograd.functional.jacobian(latents, row)
        expected = torch.linalg.slogdet(jacobian.reshape(row.numel(), row.numel()))[1]
        with torch.no_grad():
            trace = p.model.trace(row.unsqueeze(0), **context)
        found = sum(v for k, v in trace.contributions.items() if k not in terminals)
        if not math.isclose(float(found), float(expected), rel_tol=1e-6, abs_tol=1e-6):
            problems.append(f"log-det: {float(found):.8f} against autograd {float(expected):.8f}")
    return problems


def own_samples(p: Prepared) -> Problems:
    """The density of the model's own samples, scored along generation, is log_prob's."""
    if p.graph.unavailable_log_prob() or p.likelihood not in (
        Likelihood.EXACT,
        Likelihood.TOLERANCE,
    ):
        return []
    with torch.no_grad():
        x, along = p.model.sample_and_log_prob(64, **p.context(64))
        scored = p.model.log_prob(x, **p.context(64))
    limit = 1e-2 if p.iterative() else 1e-5
    differ = ((along - scored).abs() > limit).sum().item()
    # A draw far in a heavy tail can pass a saturating map (sigmoid beyond |x| ~ 37 in
    # float64), whose round trip then returns the clamp's preimage: one in 64 may differ.
    if differ > 1:
        error = (along - scored).abs().max().item()
        return [f"own samples: {differ} of 64 log-densities differ, by up to {error:.2e}"]
    return []


def importance_mass(p: Prepared, n: int = 20_000) -> Problems:
    """The mass by importance sampling, for events too large for a grid: from independent
    Student t's (3 degrees of freedom, scale 1.5), whose tails are heavier than those of
    the models (log-normal gaps of a max-pool included), so the weights stay bounded."""
    proposal_density = torch.distributions.StudentT(3.0, 0.0, 1.5)
    x = proposal_density.sample((n, *p.spec.doc["inputs"]["x"]["shape"])).to(DTYPE)
    proposal = proposal_density.log_prob(x).flatten(1).sum(1)
    with torch.no_grad():
        ratio = (p.model.log_prob(x) - proposal).exp()
    # Where the model's tails outgrow the proposal's, a few weights carry the estimate and
    # its standard error means nothing: judge only with enough effective samples.
    effective = ratio.sum().item() ** 2 / (ratio**2).sum().item()
    if effective < 0.05 * n:
        return []
    mass, error = ratio.mean().item(), ratio.std().item() / math.sqrt(n)
    return mass_matches_verdict(p, mass, max(5 * error, 0.05), f"importance mass ±{error:.3f}")


# --- family-specific oracles -----------------------------------------------------------------


def generation_density(p: Prepared) -> Problems:
    """No inference direction: log_prob is unavailable and says so; the density of own
    samples is the base density minus log|det| of generation's Jacobian (autograd)."""
    problems: Problems = []
    if not p.graph.unavailable_log_prob():
        problems.append("a planar/Sylvester node without inverse, yet log_prob is available")
    try:
        p.model.log_prob(p.data(2))
        problems.append("log_prob of data ran though the model has no inference direction")
    except UnavailableError:
        pass
    torch.manual_seed(1)
    with torch.no_grad():
        x, along = p.model.sample_and_log_prob(4)
    torch.manual_seed(1)
    z = p.model.nodes["prior"].sample(4)
    with torch.no_grad():
        if not torch.allclose(p.model.inverse({"prior": z}), x, atol=1e-10):
            return [*problems, "generation is not a function of the base draws"]
    for row, log_px in zip(z, along, strict=True):
        jacobian = torch.autograd.functional.jacobian(
            lambda v: p.model.inverse({"prior": v.unsqueeze(0)}).squeeze(0), row
        )
        base = torch.distributions.Normal(0.0, 1.0).log_prob(row).sum()
        expected = base - torch.linalg.slogdet(jacobian)[1]
        if not math.isclose(float(log_px), float(expected), rel_tol=1e-6, abs_tol=1e-6):
            problems.append(
                f"own-sample density {float(log_px):.6f}, by autograd {float(expected):.6f}"
            )
    return problems


def enumerated_pmf(p: Prepared) -> Problems:
    """The pmf summed over the data's domain: one when exact; below one for a pmf over all
    integers (W501), which sums to one over a window of the integers instead."""
    levels = p.spec.meta["levels"]
    features = p.spec.doc["inputs"]["x"]["shape"][0]
    domain = torch.tensor(list(itertools.product(range(levels), repeat=features)), dtype=DTYPE)
    with torch.no_grad():
        total = p.model.log_prob(domain).exp().sum().item()
    if p.likelihood is Likelihood.EXACT:
        return [] if abs(total - 1) < 1e-6 else [f"pmf sums to {total:.8f} over the domain"]
    problems = [] if total < 0.999 else [f"pmf sums to {total:.6f} but validate says a bound"]
    if p.spec.meta.get("integers_only"):  # integer flows alone: a bijection of Z^D
        window = torch.tensor(
            list(itertools.product(range(-25, 25 + levels), repeat=features)), dtype=DTYPE
        )
        with torch.no_grad():
            over_integers = p.model.log_prob(window).exp().sum().item()
        if abs(over_integers - 1) > 0.01:
            problems.append(f"the pmf over the integers sums to {over_integers:.4f}")
    return problems


def estimate_vs_exact(p: Prepared) -> Problems:
    """An unbiased estimate averages to the value of the same weights with the exact
    log-det or trace; exact models integrate to one."""
    if p.likelihood in (Likelihood.EXACT, Likelihood.TOLERANCE):
        return grid_verdict(p, n=120)
    if p.likelihood is not Likelihood.ESTIMATE:
        return []  # a biased estimate (truncated series) promises nothing to check
    doc = copy.deepcopy(p.spec.doc)
    for node in [*doc["nodes"].values(), *itertools.chain(*doc.get("blocks", {}).values())]:
        if node.get("kind") == "residual":
            node["logdet"] = "exact"
        if node.get("kind") == "cnf":
            node["trace"] = "exact"
    exact = flowspec.compile(yaml.safe_dump(doc, sort_keys=False)).to(DTYPE)
    exact.load_state_dict(p.model.state_dict())
    exact.eval()
    x = p.data(4)
    with torch.no_grad():
        target = exact.log_prob(x)
        draws = torch.stack([p.model.log_prob(x) for _ in range(40)])
    error = draws.std(0) / math.sqrt(len(draws))
    gap = (draws.mean(0) - target).abs()
    if (gap > 5 * error + 1e-4).any():
        return [
            f"the estimate averages {gap.max().item():.4f} from the exact value (se {error.max().item():.4f})"
        ]
    return []


def tail_model(p: Prepared) -> flowspec.FlowModel:
    """The model after the bound's node (``meta['node']``): that node replaced by an input
    of the same name, holding the same weights."""
    doc = copy.deepcopy(p.spec.doc)
    name = p.spec.meta["node"]
    del doc["nodes"][name]
    doc["inputs"] = {name: p.spec.meta["tail"]}
    tail = flowspec.compile(yaml.safe_dump(doc, sort_keys=False)).to(DTYPE)
    missing, _ = tail.load_state_dict(p.model.state_dict(), strict=False)
    assert not missing, missing
    return tail.eval()


def bound_below_exact(p: Prepared, exact: dict[tuple[float, ...], float]) -> Problems:
    """For two data values: the one-sample bound averages below the exact log-likelihood
    (within its standard error), and the importance-weighted bound lies between them."""
    problems: Problems = []
    if p.likelihood is not Likelihood.BOUND:
        problems.append(f"validate says {p.likelihood.label}, the family is a lower bound")
    for value in list(exact)[:2]:
        x = torch.tensor([value], dtype=DTYPE)
        with torch.no_grad():
            draws = p.model.log_prob(x.repeat(2000, 1))
            iwbos = torch.cat([p.model.iwbo(x, k=64) for _ in range(8)])
        mean, error = draws.mean().item(), draws.std().item() / math.sqrt(len(draws))
        iwbo, iwbo_error = iwbos.mean().item(), iwbos.std().item() / math.sqrt(len(iwbos))
        if mean > exact[value] + 4 * error + 1e-6:
            problems.append(f"x={value}: bound {mean:.4f} above the exact {exact[value]:.4f}")
        # E[IWBO] lies between the bound and the exact value; its draws are heavy-tailed
        # where the proposal's tails are lighter than the model's (a dequantizer's edges).
        if not mean - 4 * error - 1e-3 <= iwbo <= exact[value] + 4 * iwbo_error + 1e-3:
            problems.append(
                f"x={value}: IWBO {iwbo:.4f} not between {mean:.4f} and {exact[value]:.4f}"
            )
    return problems


def cell_axis(low: float, high: float, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Points of the interval ``(low, high)`` and their weights, dense at both ends (a sinh
    axis through a sigmoid): a logit and what follows it can put the density's mass there."""
    t, weights = sinh_axis(n, reach=4.0)
    inside = torch.sigmoid(t)
    return low + (high - low) * inside, (high - low) * inside * (1 - inside) * weights


def dequantization_quadrature(p: Prepared) -> Problems:
    """log P(x) = log of the continuous density's mass on x's cell; the cells' masses add
    up to one, and the dequantization bound stays below."""
    tail = tail_model(p)
    levels = p.spec.meta["levels"]
    features = p.spec.doc["inputs"]["x"]["shape"][0]
    width = 1.0 if p.spec.meta["tail"]["high"] == levels else 1.0 / levels
    points = 2000 if features == 1 else 120
    exact = {}
    for value in itertools.product(range(levels), repeat=features):
        axes = [cell_axis(v * width, (v + 1) * width, points) for v in value]
        grid = torch.cartesian_prod(*[a for a, _ in axes]).reshape(-1, features)
        weights = torch.cartesian_prod(*[w for _, w in axes]).reshape(-1, features)
        exact[tuple(float(v) for v in value)] = log_integral(
            tail.log_prob, grid, weights.log().sum(1)
        )
    total = sum(math.exp(v) for v in exact.values())
    problems = [] if abs(total - 1) < 0.01 else [f"cells hold {total:.4f} in all"]
    return problems + bound_below_exact(p, exact)


def augmentation_quadrature(p: Prepared) -> Problems:
    """log p(x) = log of the joint density integrated over the added noise."""
    tail = tail_model(p)
    mass = plane_mass(tail.log_prob, 300)
    problems = [] if abs(mass - 1) < 0.02 else [f"the joint holds mass {mass:.4f}"]
    noise, weights = sinh_axis(2000)
    exact = {}
    for value in (-0.7, 1.3):
        joint = torch.stack([torch.full_like(noise, value), noise], dim=1)
        exact[(value,)] = log_integral(tail.log_prob, joint, weights.log())
    return problems + bound_below_exact(p, exact)


def vae_quadrature(p: Prepared) -> Problems:
    """log p(x) = log of p(x | z) p(z) integrated over the latent; p(x) sums (or integrates)
    to one."""
    tail = tail_model(p)
    decoder = p.model.nodes[p.spec.meta["node"]].decoder
    latent, weights = sinh_axis(1200)
    with torch.no_grad():
        log_pz = tail.log_prob(latent.unsqueeze(1)).nan_to_num(float("-inf")) + weights.log()

    def log_px(x: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            rows = decoder.log_prob(
                x.repeat_interleave(len(latent), 0), latent.repeat(len(x)).unsqueeze(1)
            )
        return torch.logsumexp(rows.view(len(x), -1) + log_pz, 1)

    levels = p.spec.meta.get("levels")
    if levels is not None:
        values = torch.arange(levels, dtype=DTYPE).unsqueeze(1)
        exact_all = log_px(values)
        total = exact_all.exp().sum().item()
    else:
        values, dx = sinh_axis(600)
        exact_all = torch.cat([log_px(chunk.unsqueeze(1)) for chunk in values.split(50)])
        total = (exact_all.exp() * dx).sum().item()
    problems = [] if abs(total - 1) < 0.02 else [f"p(x) sums to {total:.4f}"]
    picked = [0.0, 1.0] if levels is not None else [-0.5, 1.0]
    exact = {(v,): log_px(torch.tensor([[v]], dtype=DTYPE)).item() for v in picked}
    return problems + bound_below_exact(p, exact)


def argmax_quadrature(p: Prepared) -> Problems:
    """P(x) = the mass of the scores whose argmax is x (a grid over the two scores)."""
    tail = tail_model(p)
    grid, weights = plane()
    winner = grid.argmax(1)
    exact = {
        (float(k),): log_integral(tail.log_prob, grid[winner == k], weights[winner == k])
        for k in range(2)
    }
    total = sum(math.exp(v) for v in exact.values())
    problems = [] if abs(total - 1) < 0.02 else [f"the argmax cells hold {total:.4f}"]
    return problems + bound_below_exact(p, exact)


def noise_matches_fact(p: Prepared) -> Problems:
    """``log_prob`` draws noise exactly when the graph says so (``draws_noise``, from the
    kinds' declared facts): two calls on the same values under different seeds differ for
    a model that draws, and are identical for one that does not (an exact model, or a bound
    only because a density's mass on the data's values is below one)."""
    x, context = p.data(16), p.context(16)
    with torch.no_grad():
        first, second = (
            (torch.manual_seed(seed), p.model.log_prob(x, **context))[1] for seed in (0, 1)
        )
    differ = not torch.equal(first, second)
    if differ != p.graph.draws_noise:
        said = "draws noise" if p.graph.draws_noise else "draws nothing"
        return [
            f"the graph says log_prob {said}, but two seeds gave {'different' if differ else 'identical'} values"
        ]
    return []


ORACLES: dict[str, list[Callable[[Prepared], Problems]]] = {
    "exact_2d": [grid_verdict, round_trip, jacobian_logdet, own_samples, noise_matches_fact],
    "image": [importance_mass, round_trip, jacobian_logdet, own_samples, noise_matches_fact],
    "generation_only": [generation_density],
    "discrete": [enumerated_pmf, round_trip, own_samples, noise_matches_fact],
    "estimate": [estimate_vs_exact, round_trip, noise_matches_fact],
    "dequantized": [dequantization_quadrature, noise_matches_fact],
    "augmented": [augmentation_quadrature, noise_matches_fact],
    "vae": [vae_quadrature, noise_matches_fact],
    "argmax": [argmax_quadrature, noise_matches_fact],
    "conditional": [grid_verdict, round_trip, jacobian_logdet, own_samples, noise_matches_fact],
}
