"""The contract of every node kind, checked on each kind's declared examples and on every
transformer and conditioner example inside the nodes that host it (``tests/declared.py``):
what the spec states (shapes, supports, flags, likelihood class, costs, parameter count)
against what the built module does, in float64 on a batch of three."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

import pytest
import torch
from declared import NodeCase, node_cases, registry, run_node_checks
from oracles import in_support, mass_computable, randomize_, total_mass, values_in

from flowspec.core.node import Category, NodeSpec
from flowspec.core.ports import PortInfo
from flowspec.core.properties import Cost, Likelihood
from flowspec.layers._data_init import DataInitialized, Recorded

BATCH = 3
CASES = node_cases()
F64 = torch.float64


def cases_where(keep) -> list:
    """The cases whose node (built from the spec alone) satisfies ``keep``, as params."""
    return [pytest.param(case, id=case.id) for case in CASES if keep(case.spec())]


def infers(node: NodeSpec) -> bool:
    return not node.terminal and node.costs().inference != Cost.UNAVAILABLE


ALL = cases_where(lambda node: True)


@dataclass
class Built:
    """A case's node, its module in float64 with moved parameters, and inputs drawn in
    the declared supports."""

    case: NodeCase
    node: NodeSpec
    layer: torch.nn.Module
    outputs: tuple[PortInfo, ...]
    x: list[torch.Tensor]
    context: torch.Tensor | None

    @property
    def infers(self) -> bool:
        """Whether the inference direction (data -> latent) is available."""
        return self.node.costs().inference != Cost.UNAVAILABLE

    def forward(self, *x: torch.Tensor, seed: int = 0) -> tuple[list[torch.Tensor], torch.Tensor]:
        """The outputs (as a list) and the contribution of inference, under ``seed``."""
        torch.manual_seed(seed)
        out, contribution = self.layer(*(x or self.x), context=self.context)
        return (list(out) if isinstance(out, tuple) else [out]), contribution

    def inverse(self, z: list[torch.Tensor], seed: int = 0) -> list[torch.Tensor]:
        torch.manual_seed(seed)
        x = self.layer.inverse(*z, context=self.context)
        return list(x) if isinstance(x, tuple) else [x]

    def latents(self, seed: int = 1) -> list[torch.Tensor]:
        """Values in the image of inference: the outputs for other inputs."""
        generator = torch.Generator().manual_seed(seed)
        other = [values_in(info, BATCH, generator) for info in self.case.inputs]
        with torch.no_grad():
            return self.forward(*other, seed=seed)[0]


def build(case: NodeCase, seed: int = 0) -> Built:
    node = case.spec()
    outputs, reporter = run_node_checks(node, case.inputs, case.context)
    assert outputs is not None and not reporter.has_errors, [
        d.format() for d in reporter.diagnostics
    ]
    layer = node.build(case.inputs, case.context).to(F64)
    generator = torch.Generator().manual_seed(seed)
    x = [values_in(info, BATCH, generator) for info in case.inputs]
    context = values_in(case.context, BATCH, generator) if case.context is not None else None
    built = Built(case, node, layer, outputs, x, context)
    if node.terminal:  # a base set from data (the discretized logistic over all integers)
        set_from_data(layer, lambda: layer(*x, context=context))
    elif built.infers:
        set_from_data(layer, built.forward)
    randomize_(layer, scale=0.3, seed=seed)
    layer.eval()
    return built


def set_from_data(layer: torch.nn.Module, forward: Callable[[], object]) -> None:
    """Set the layers that take their numbers from data (actnorm, standardize, a base over
    all integers) from the
    example's inputs, as ``FlowModel.initialize`` does: record one pass, then set."""
    for module in layer.modules():
        if isinstance(module, DataInitialized) and not module.is_initialized:
            module.record()
            with torch.no_grad(), contextlib.suppress(Recorded):
                forward()
            module.finish()


def tolerance(node: NodeSpec) -> float:
    """How close a round trip or log-det must come: float64 rounding for closed forms, the
    solvers' tolerances for kinds that iterate."""
    costs = node.costs()
    iterates = Cost.ITERATIVE in (costs.inference, costs.generation)
    return 1e-5 if iterates or node.likelihood() != Likelihood.EXACT else 1e-9


def flat(values: list[torch.Tensor]) -> torch.Tensor:
    return torch.cat([v.flatten(1) for v in values], dim=1)


def unflat(vector: torch.Tensor, infos: tuple[PortInfo, ...]) -> list[torch.Tensor]:
    sizes = [info.numel for info in infos]
    return [
        part.reshape(vector.shape[0], *info.shape)
        for part, info in zip(vector.split(sizes, dim=1), infos, strict=True)
    ]


def autograd_log_det(fn, x: torch.Tensor, context: torch.Tensor | None) -> torch.Tensor:
    """log|det| of the Jacobian of ``fn(v, c)``, a per-sample map of flat vectors given a
    context row, by autograd (a loop of backward passes: it works through solvers and
    layers that take gradients inside)."""
    rows = []
    for index, row in enumerate(x):
        c = None if context is None else context[index : index + 1]
        jac = torch.autograd.functional.jacobian(
            lambda v, c=c: fn(v.unsqueeze(0), c).squeeze(0), row
        )
        rows.append(torch.linalg.slogdet(jac)[1])
    return torch.stack(rows)


@pytest.mark.parametrize("case", ALL)
def test_parameter_count_is_the_modules_free_parameters(case: NodeCase) -> None:
    node = case.spec()
    outputs, _ = run_node_checks(node, case.inputs, case.context)
    assert outputs is not None
    module = node.build(case.inputs, case.context)
    free = sum(p.numel() for p in module.parameters() if p.requires_grad)
    assert node.parameter_count(case.inputs, case.context) == free
    if not node.has_parameters:
        assert not list(module.parameters())


@pytest.mark.parametrize("kind", sorted(registry("node")))
def test_has_parameters_and_accepts_context_are_shown_by_the_examples(kind: str) -> None:
    """A kind with parameters has an example that builds some; a kind that takes a
    context has an example with one (and only such kinds have)."""
    cls = registry("node")[kind]
    counts = []
    for example in cls.examples:
        node = cls.model_validate({"kind": kind, **example.settings})
        module = node.build(example.inputs, example.context)
        counts.append(sum(p.numel() for p in module.parameters()))
    assert cls.has_parameters == any(counts)
    assert cls.accepts_context == any(example.context is not None for example in cls.examples)
    assert isinstance(cls.not_fullgraph, str)


@pytest.mark.parametrize("case", ALL)
def test_inference_keeps_the_declared_shapes_supports_and_dtype(case: NodeCase) -> None:
    built = build(case)
    if built.node.terminal:
        log_prob = built.layer(*built.x, context=built.context)
        assert log_prob.shape == (BATCH,) and log_prob.dtype == F64
        assert torch.isfinite(log_prob).all()
        return
    if not built.infers:
        with pytest.raises(RuntimeError, match="no inference direction"):
            built.forward()
        return
    outputs, contribution = built.forward()
    assert len(outputs) == len(built.outputs) == len(built.node.output_ports())
    for value, info in zip(outputs, built.outputs, strict=True):
        assert value.shape == (BATCH, *info.shape) and value.dtype == F64
        assert in_support(value, info.support), f"outputs leave {info.support}"
    assert contribution.shape == (BATCH,) and contribution.dtype == F64
    assert torch.isfinite(contribution).all()


@pytest.mark.parametrize("case", cases_where(infers))
def test_zero_contribution_exactly_when_volume_preserving(case: NodeCase) -> None:
    built = build(case)
    _, contribution = built.forward()
    zero = torch.equal(contribution, torch.zeros_like(contribution))
    assert zero == built.node.preserves_volume()


@pytest.mark.parametrize("case", ALL)
def test_randomness_matches_the_flags_and_the_likelihood_class(case: NodeCase) -> None:
    """Inference draws noise exactly when the kind says so (and is then at best a bound);
    an exact contribution is the same from draw to draw, an estimate's is not; generation
    draws exactly when the kind says so."""
    built = build(case)
    node = built.node
    likelihood = node.likelihood()
    if node.stochastic_forward:
        assert likelihood >= Likelihood.BOUND
    else:
        assert likelihood != Likelihood.BOUND
    if node.terminal:
        return
    if built.infers:
        out_a, contribution_a = built.forward(seed=1)
        out_b, contribution_b = built.forward(seed=2)
        # An adaptive solver may step differently with another probe: equal to its tolerance.
        atol = tolerance(node) if node.costs().inference == Cost.ITERATIVE else 0.0
        same_outputs = all(
            torch.allclose(a, b, atol=atol, rtol=0) for a, b in zip(out_a, out_b, strict=True)
        )
        assert same_outputs != node.stochastic_forward
        same_contribution = torch.equal(contribution_a, contribution_b)
        if likelihood in (Likelihood.EXACT, Likelihood.TOLERANCE):
            assert same_contribution
        if likelihood == Likelihood.ESTIMATE:
            assert not same_contribution
    z = built.latents() if built.infers else real_latents(built)
    with torch.no_grad():
        first, second = built.inverse(z, seed=1), built.inverse(z, seed=2)
    assert (
        all(torch.equal(a, b) for a, b in zip(first, second, strict=True))
        != node.stochastic_inverse
    )


def real_latents(built: Built) -> list[torch.Tensor]:
    """Latents of a generation-only kind, which maps the whole real line."""
    generator = torch.Generator().manual_seed(1)
    return [values_in(info, BATCH, generator) for info in built.outputs]


@pytest.mark.parametrize("case", cases_where(infers))
def test_round_trips(case: NodeCase) -> None:
    """Deterministic generation undoes inference (``inverse(forward(x)) == x``: bijections,
    and dequantizers rounding back); deterministic inference undoes generation
    (``forward(inverse(z)) == z``: bijections, and surjections such as slice)."""
    built = build(case)
    node = built.node
    atol = tolerance(node)
    with torch.no_grad():
        if not node.stochastic_inverse:
            z, _ = built.forward(seed=3)
            for back, x in zip(built.inverse(z, seed=4), built.x, strict=True):
                torch.testing.assert_close(back, x, atol=atol, rtol=0)
        if not node.stochastic_forward:
            z = built.latents()
            again, _ = built.forward(*built.inverse(z, seed=5), seed=6)
            for value, expected in zip(again, z, strict=True):
                torch.testing.assert_close(value, expected, atol=atol, rtol=atol)


@pytest.mark.parametrize("case", ALL)
def test_generation_lands_in_the_declared_input_supports(case: NodeCase) -> None:
    built = build(case)
    node = built.node
    if node.terminal:
        torch.manual_seed(0)
        draws = built.layer.sample(BATCH, context=built.context)
        (info,) = case.inputs
        assert draws.shape == (BATCH, *info.shape) and in_support(draws, info.support)
        return
    z = built.latents() if built.infers else real_latents(built)
    with torch.no_grad():
        generated = built.inverse(z)
    for value, info in zip(generated, case.inputs, strict=True):
        assert value.shape == (BATCH, *info.shape)
        if node.stochastic_inverse:  # a density part draws what the kind drops or adds
            assert torch.isfinite(value).all()
        else:
            assert in_support(value, info.support), f"generated values leave {info.support}"


def log_det_checkable(node: NodeSpec) -> bool:
    """Bijections, except a truncated series (a biased estimate: nothing to compare with)."""
    return node.category() == Category.BIJECTIVE and node.likelihood() != Likelihood.BIASED


def closed_form_direction(node: NodeSpec) -> str:
    """Which direction's Jacobian to take: the one computed in closed form."""
    costs = node.costs()
    iterative = costs.inference in (Cost.ITERATIVE, Cost.UNAVAILABLE)
    return "generation" if iterative and costs.generation == Cost.ONE_PASS else "inference"


@pytest.mark.parametrize("case", cases_where(log_det_checkable))
def test_contribution_is_the_log_det_of_the_autograd_jacobian(case: NodeCase) -> None:
    """For bijections of continuous values: log|det dz/dx| by autograd in float64 (an
    estimate's mean over draws, within its standard error); for bijections of integers
    exactly zero."""
    built = build(case)
    node = built.node
    if any(info.support.discrete for info in case.inputs):
        _, contribution = built.forward()
        assert torch.equal(contribution, torch.zeros_like(contribution))
        assert node.preserves_volume()
        return
    likelihood = node.likelihood()
    if closed_form_direction(node) == "generation":
        z = built.latents() if built.infers else real_latents(built)
        x, contribution = built.layer.inverse_and_contribution(*z, context=built.context)
        expected = -autograd_log_det(
            lambda v, c: flat([built.layer.inverse(*unflat(v, built.outputs), context=c)]),
            flat(z),
            built.context,
        )
        if built.infers:  # inference at the generated x gives the same contribution
            torch.testing.assert_close(built.forward(x)[1], contribution, atol=1e-6, rtol=1e-6)
    else:

        def forward_flat(v: torch.Tensor, c: torch.Tensor | None) -> torch.Tensor:
            torch.manual_seed(0)
            out, _ = built.layer(*unflat(v, case.inputs), context=c)
            return flat(list(out) if isinstance(out, tuple) else [out])

        expected = autograd_log_det(forward_flat, flat(built.x), built.context)
        if likelihood == Likelihood.ESTIMATE:
            draws = torch.stack([built.forward(seed=seed)[1].detach() for seed in range(32)])
            error = draws.std(0) / 32**0.5
            assert ((draws.mean(0) - expected).abs() <= 5 * error + 1e-3).all()
            return
        _, contribution = built.forward()
    atol = 1e-8 if likelihood == Likelihood.EXACT else 1e-5
    torch.testing.assert_close(contribution, expected, atol=atol, rtol=1e-6)


def outputs_and_contribution(built: Built, context: torch.Tensor) -> list[torch.Tensor]:
    """Everything inference gives for the case's inputs under ``context`` (seed 0); for a
    kind without an inference direction (planar, Sylvester), what its generation gives."""
    torch.manual_seed(0)
    if built.node.terminal:
        return [built.layer(*built.x, context=context)]
    if not built.infers:
        return list(built.layer.inverse_and_contribution(*built.x, context=context))
    out, contribution = built.layer(*built.x, context=context)
    return [*(out if isinstance(out, tuple) else [out]), contribution]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES if c.context is not None])
def test_context_reaches_the_module(case: NodeCase) -> None:
    built = build(case)
    given = outputs_and_contribution(built, built.context)
    other = outputs_and_contribution(built, torch.zeros_like(built.context))
    assert not all(torch.allclose(a, b) for a, b in zip(given, other, strict=True))


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(c, id=c.id)
        for c in CASES
        if registry("node")[c.kind].terminal and mass_computable(c.inputs[0])
    ],
)
def test_base_distributions_are_normalised(case: NodeCase) -> None:
    """The mass of a base distribution sums to one for one context (see
    ``oracles.total_mass``)."""
    built = build(case)
    (info,) = case.inputs
    rows = None if built.context is None else built.context[:1]

    def given(n: int) -> torch.Tensor | None:
        return None if rows is None else rows.expand(n, *rows.shape[1:])

    torch.manual_seed(0)
    with torch.no_grad():
        draws = built.layer.sample(4000, context=given(4000))

    def log_prob(z: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return built.layer(z.reshape(z.shape[0], *info.shape), context=given(z.shape[0]))

    assert total_mass(log_prob, info, draws) == pytest.approx(1.0, abs=2e-3)
