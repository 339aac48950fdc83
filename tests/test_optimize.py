"""The optimizing passes (flowspec/optimize/) leave the density unchanged: optimized and
literal models of many random specs agree on log_prob, trace, samples and gradients; each
pass rewrites what it should; the one emitted path calls every layer it runs as a module
(hooks fire), initialises actnorm on its own batch, and loads the literal model's
checkpoints."""

from __future__ import annotations

import random

import pytest
import torch
import yaml
from bundled import DATA, SPECS
from oracles import randomize_

import flowspec
from flowspec.optimize import optimize
from flowspec.optimize.program import AffineChain, Call, Couple, Permute, Regroup
from flowspec.train.data import load_dataset

SEEDS = range(36)


def _mask(rng: random.Random, features: int) -> object:
    choice = rng.choice(["half", "alternate", "explicit"])
    if choice != "explicit":
        return choice
    mask = [rng.randint(0, 1) for _ in range(features)]
    kept, changed = rng.sample(range(features), 2)
    mask[kept], mask[changed] = 1, 0
    return mask


def _layer(rng: random.Random, features: int, context: bool) -> dict:
    """One random node (without ``in``) for a flat input of ``features`` features."""
    net = {"kind": "mlp", "hidden": [8]}
    options = [
        {"kind": "reverse"},
        {"kind": "shuffle", "seed": rng.randint(0, 50)},
        {
            "kind": "elementwise",
            "fn": "scale_shift",
            "scale": rng.choice([-1.5, 0.7, 2.0]),
            "shift": rng.choice([0.0, 0.3]),
            "learnable": rng.random() < 0.5,
        },
        {"kind": "actnorm"},
        {"kind": "elementwise", "fn": "leaky_relu", "negative_slope": 0.5},
        {"kind": "lu_linear"},
    ]
    if features >= 2:
        options += [
            {"kind": "affine_coupling", "mask": _mask(rng, features), "net": net},
            {"kind": "additive_coupling", "mask": _mask(rng, features), "net": net},
            {
                "kind": "coupling",
                "mask": _mask(rng, features),
                "conditioner": {"kind": "mlp", "hidden": [8]},
            },
        ] * 2
    layer = dict(rng.choice(options))
    if context and layer["kind"].endswith("coupling") and rng.random() < 0.7:
        layer["context"] = "c"
    return layer


def random_spec(seed: int) -> tuple[str, int, bool]:
    """A seeded random spec: chains of every foldable kind, a repeated block, a
    multi-scale split with a conditional factor, split-transform-concat, context."""
    rng = random.Random(seed)
    features = rng.randint(2, 7)
    context = rng.random() < 0.4
    inputs = {"x": {"shape": [features]}}
    if context:
        inputs["c"] = {"shape": [2], "context": True}
    step = [_layer(rng, features, False) for _ in range(rng.randint(2, 3))]
    nodes: dict = {}
    prev = "x"

    def chain(name: str, source: str, width: int, count: int) -> str:
        for k in range(count):
            node = _layer(rng, width, context)
            node["in"] = source
            source = f"{name}{k}"
            nodes[source] = node
        return source

    prev = chain("pre", prev, features, rng.randint(1, 3))
    use = {"block": "step", "repeat": rng.randint(1, 3), "in": prev}
    if context and any(layer["kind"].endswith("coupling") for layer in step):
        use["context"] = "c"
    nodes["body"] = use
    prev = chain("mid", "body", features, rng.randint(0, 2))
    if features >= 3 and rng.random() < 0.5:  # multi-scale: factor part of the features out
        kept = rng.randint(2, features - 1)
        nodes["factor"] = {"kind": "split", "sizes": [kept, features - kept], "in": prev}
        nodes["early"] = {
            "kind": "conditional_normal",
            "in": "factor.out1",
            "context": "factor.out0",
        }
        prev, features = chain("low", "factor.out0", kept, rng.randint(1, 3)), kept
    if features >= 2 and rng.random() < 0.5:  # transform two parts apart, then join them
        left = rng.randint(1, features - 1)
        nodes["parts"] = {"kind": "split", "sizes": [left, features - left], "in": prev}
        a = chain("left", "parts.out0", left, rng.randint(0, 2))
        b = chain("right", "parts.out1", features - left, rng.randint(0, 2))
        nodes["joined"] = {"kind": "concat", "in": [a, b]}
        prev = chain("post", "joined", features, rng.randint(1, 2))
    if context and rng.random() < 0.5:
        nodes["prior"] = {"kind": "conditional_normal", "in": prev, "context": "c"}
    else:
        nodes["prior"] = {"kind": rng.choice(["standard_normal", "diagonal_normal"]), "in": prev}
    document = {
        "flowspec": "1",
        "name": f"random-{seed}",
        "inputs": inputs,
        "blocks": {"step": step},
        "nodes": nodes,
    }
    return yaml.safe_dump(document, sort_keys=False), inputs["x"]["shape"][0], context


def _pair(text: str, batch: int, features: int, context: bool):
    """The literal and the optimized model with the same (randomised) weights, float64,
    after one data-dependent initialisation; and the inputs."""
    checked = flowspec.check(text)
    literal = checked.build_model(optimize=False).double()
    optimized = checked.build_model().double()
    gen = torch.Generator().manual_seed(batch)
    x = torch.randn(batch, features, generator=gen, dtype=torch.float64)
    named = {"c": torch.randn(batch, 2, generator=gen, dtype=torch.float64)} if context else {}
    literal.log_prob(x, **named)
    randomize_(literal, scale=0.3)
    optimized.load_state_dict(literal.state_dict())
    return literal, optimized, x, named


def _close(a: torch.Tensor, b: torch.Tensor) -> None:
    torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("seed", SEEDS)
def test_optimized_and_literal_models_agree(seed):
    text, features, context = random_spec(seed)
    literal, optimized, x, named = _pair(text, 16, features, context)
    _close(optimized.log_prob(x, **named), literal.log_prob(x, **named))
    got, want = optimized.trace(x, **named), literal.trace(x, **named)
    assert got.contributions.keys() == want.contributions.keys()
    for key in want.contributions:
        _close(got.contributions[key], want.contributions[key])
    torch.manual_seed(seed)
    back = optimized.inverse(want.latents, **named)
    torch.manual_seed(seed)
    _close(back, literal.inverse(want.latents, **named))
    torch.manual_seed(seed)
    drawn = optimized.sample(5, **{k: v[:5] for k, v in named.items()})
    torch.manual_seed(seed)
    _close(drawn, literal.sample(5, **{k: v[:5] for k, v in named.items()}))
    for model in (literal, optimized):
        model.zero_grad()
        (-model.log_prob(x, **named).mean()).backward()
    grads = {name: p.grad for name, p in literal.named_parameters()}
    for name, p in optimized.named_parameters():
        assert (p.grad is None) == (grads[name] is None), name
        if p.grad is not None:
            _close(p.grad, grads[name])


def test_random_specs_cover_every_rewrite():
    """The generator exercises each pass (and not only the trivial cases)."""
    seen = set()
    for seed in SEEDS:
        text, _, _ = random_spec(seed)
        seen |= {type(op).__name__ for op in optimize(flowspec.check(text).graph).ops}
    assert {"Permute", "Regroup", "Couple", "AffineChain", "Call"} <= seen


def _ops(name: str):
    return optimize(flowspec.check(SPECS / f"{name}.yaml").graph).ops


def _method(source: str, name: str) -> str:
    """The text of one generated method."""
    start = source.index(f"    def {name}(")
    end = source.find("\n    def ", start + 1)
    return source[start : end if end > 0 else source.index("\n\n\n", start)]


def test_realnvp_becomes_the_hand_written_loop():
    """Reversals only rename positions: the couplings swap halves, no flip, no merge."""
    ops = _ops("realnvp_moons")
    assert [type(op) for op in ops] == [Couple, Permute] * 8 + [Call]
    source = flowspec.check(SPECS / "realnvp_moons.yaml").source()
    log_prob = _method(source, "_log_prob")
    assert log_prob.count(".couple(") == 8
    assert "flip" not in log_prob and "nodes['body_0_1']" not in log_prob
    assert log_prob.count("self._join(") == 1  # joined once, for the prior
    assert "reverse folded" in log_prob and "realnvp_moons.yaml':18:7" in log_prob
    assert "its index sets fold in: body_0_1 (reverse)" in log_prob
    assert "nodes['prior'](body_7_1)" in log_prob  # called as a module
    generate = _method(source, "_generate")
    assert generate.count(".uncouple(") == 8 and "flip" not in generate


def test_one_method_per_direction():
    """The emitted class holds the graph as a table and one method per direction: no
    second (literal) copy of the graph, no switch between copies at run time."""
    source = flowspec.check(SPECS / "realnvp_moons.yaml").source()
    methods = [line.strip() for line in source.splitlines() if line.startswith("    def ")]
    assert [m.split("(")[0] for m in methods] == ["def _log_prob", "def _generate"]
    assert "GRAPH = (" in source and "GENERATION_ORDER = (" in source
    assert "direct=" not in source and "literal" not in source


def test_split_and_concat_are_regrouped():
    ops = _ops("ports_checkerboard")
    regroups = [op for op in ops if isinstance(op, Regroup)]
    assert [op.first.id for op in regroups] == ["parts", "joined"]
    assert [op.splits for op in regroups] == [True, False]


AFFINE_CHAIN = """
flowspec: "1"
name: chain
inputs:
  x: {shape: [3]}
nodes:
  s1: {kind: elementwise, fn: scale_shift, scale: -2.0, shift: 0.5, in: x}
  norm: {kind: actnorm, in: s1}
  s2: {kind: elementwise, fn: scale_shift, scale: 0.5, learnable: true, in: norm}
  flip: {kind: reverse, in: s2}
  s3: {kind: elementwise, fn: scale_shift, scale: 3.0, in: flip}
  prior: {kind: diagonal_normal, in: s3}
"""


def test_adjacent_affine_maps_are_composed_and_actnorm_initialises_first():
    ops = optimize(flowspec.check(AFFINE_CHAIN).graph).ops
    chains = [op for op in ops if isinstance(op, AffineChain)]
    assert [[n.id for n in op.nodes] for op in chains] == [["s1", "norm", "s2"]]
    checked = flowspec.check(AFFINE_CHAIN)
    literal, optimized = checked.build_model(optimize=False), checked.build_model()
    optimized.load_state_dict(literal.state_dict())
    x = torch.randn(32, 3) * 3 + 1
    assert not optimized.nodes["norm"].is_initialized
    _close(optimized.log_prob(x), literal.log_prob(x))  # both initialise on x
    assert optimized.nodes["norm"].is_initialized
    _close(optimized.state_dict()["nodes.norm.bias"], literal.state_dict()["nodes.norm.bias"])
    _close(optimized.log_prob(x * 2), literal.log_prob(x * 2))
    assert "composed into one affine map: s1 (elementwise), norm (actnorm), s2" in checked.source()


@pytest.mark.parametrize("optimize", [True, False])
def test_hooks_fire_on_every_module_the_emitted_code_runs(optimize):
    """log_prob and sample call every layer they run as a module: hooks on a coupling's
    conditioner, its network's layers and the prior fire once per call. A folded node (a
    reversal; a coupling run on its two parts) is not called as a module in the optimized
    log_prob; trace, and the literal model, call every node's layer."""
    model = flowspec.compile(SPECS / "realnvp_moons.yaml", optimize=optimize)
    x = torch.randn(8, 2)
    expected = model.log_prob(x)
    coupling = model.nodes["body_3_0"]
    modules = {
        "coupling": coupling,
        "conditioner": coupling.conditioner,
        "transformer": coupling.transformer,
        "linear": coupling.conditioner.net[0],
        "prior": model.nodes["prior"],
        "reverse": model.nodes["body_3_1"],
    }
    seen: list[str] = []
    handles = [
        module.register_forward_hook(lambda m, i, o, name=name: seen.append(name))
        for name, module in modules.items()
    ]
    every = sorted(modules)
    try:
        torch.testing.assert_close(model.log_prob(x), expected)
        folded = ["conditioner", "linear", "prior", "transformer"]
        assert sorted(seen) == (folded if optimize else every)
        seen.clear()
        model.sample(4)  # generation calls the conditioner; the transformer's inverse
        assert sorted(seen) == ["conditioner", "linear"]
        seen.clear()
        model.trace(x)
        assert sorted(seen) == every
    finally:
        for handle in handles:
            handle.remove()


def test_a_hook_can_change_what_a_conditioner_returns():
    """A forward hook that returns a value replaces the module's output in the emitted
    code too (here: the conditioner's parameters halved), as against the literal model."""
    checked = flowspec.check(SPECS / "realnvp_moons.yaml")
    optimized, literal = checked.build_model().double(), checked.build_model(optimize=False)
    randomize_(optimized, scale=0.3)
    literal = literal.double()
    literal.load_state_dict(optimized.state_dict())
    x = torch.randn(16, 2, dtype=torch.float64)
    for model in (optimized, literal):
        model.nodes["body_2_0"].conditioner.register_forward_hook(lambda m, i, o: 0.5 * o)
    _close(optimized.log_prob(x), literal.log_prob(x))
    assert not torch.allclose(optimized.log_prob(x), checked.build_model().double().log_prob(x))


class _Halved(torch.nn.Module):
    """A conditioner replacing another: its parameters, halved."""

    def __init__(self, inner: torch.nn.Module):
        super().__init__()
        self.inner = inner

    def forward(self, a, context=None):
        return 0.5 * self.inner(a, context)


def test_couplings_follow_reassigned_parts():
    """A conditioner reassigned after compilation is the one that runs, in the model, a
    deep copy and its float64 conversion (the literal model is the oracle)."""
    import copy

    checked = flowspec.check(SPECS / "realnvp_moons.yaml")
    optimized, literal = checked.build_model(), checked.build_model(optimize=False)
    randomize_(optimized, scale=0.3)
    literal.load_state_dict(optimized.state_dict())
    for model in (optimized, literal):
        layers = model.nodes
        layers["body_2_0"].conditioner = _Halved(layers["body_2_0"].conditioner)
        layers["body_5_0"].conditioner = copy.deepcopy(layers["body_4_0"].conditioner)
    x = torch.randn(16, 2)
    for model in (optimized, copy.deepcopy(optimized)):
        _close(model.log_prob(x), literal.log_prob(x))
        torch.manual_seed(3)
        drawn = model.sample(8)
        torch.manual_seed(3)
        _close(drawn, literal.sample(8))
    _close(optimized.double().log_prob(x.double()), literal.double().log_prob(x.double()))


#: A checkerboard coupling with a conv conditioner, between image parts.
IMAGE_PARTS = """
flowspec: "1"
name: image-parts
inputs:
  x: {shape: [4, 2, 2]}
  c: {shape: [2], context: true}
nodes:
  fine: {kind: unsqueeze, in: x}
  board: {kind: coupling, mask: checkerboard, in: fine, context: c, conditioner: {kind: conv, channels: 4}}
  back: {kind: squeeze, in: board}
  chan: {kind: coupling, mask: channel_flipped, in: back, conditioner: {kind: resnet, channels: 4, blocks: 1}}
  mix: {kind: invconv1x1, in: chan}
  prior: {kind: standard_normal, in: mix}
"""


def test_checkerboard_couplings_run_whole_and_match_the_literal_model():
    """Couplings the passes leave whole (checkerboard masks) are called as modules;
    log_prob and samples match the literal model in float64 and a hook on the conditioner
    fires."""
    checked = flowspec.check(IMAGE_PARTS)
    assert "nodes['board'](fine, context=c)" in checked.source()
    optimized = checked.build_model().double()
    literal = checked.build_model(optimize=False).double()
    randomize_(optimized, scale=0.3)
    literal.load_state_dict(optimized.state_dict())
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(6, 4, 2, 2, generator=gen, dtype=torch.float64)
    c = torch.randn(6, 2, generator=gen, dtype=torch.float64)
    _close(optimized.log_prob(x, c=c), literal.log_prob(x, c=c))
    torch.manual_seed(5)
    drawn = optimized.sample(6, c=c)
    torch.manual_seed(5)
    _close(drawn, literal.sample(6, c=c))
    seen = []
    handle = optimized.nodes["board"].conditioner.register_forward_hook(
        lambda m, i, o: seen.append(m)
    )
    try:
        _close(optimized.log_prob(x, c=c), literal.log_prob(x, c=c))
    finally:
        handle.remove()
    assert len(seen) == 1


def test_checkpoints_do_not_depend_on_optimization():
    checked = flowspec.check(SPECS / "slice_multiscale.yaml")
    literal, optimized = checked.build_model(optimize=False), checked.build_model()
    assert literal.state_dict().keys() == optimized.state_dict().keys()
    randomize_(optimized, scale=0.2)
    literal.load_state_dict(optimized.state_dict())
    x = torch.randn(8, 3)
    literal.log_prob(x)  # both initialised by the loaded flag: no re-initialisation
    _close(literal.log_prob(x), optimized.log_prob(x))


def test_optimized_log_prob_releases_intermediates():
    source = flowspec.check(SPECS / "realnvp_moons.yaml").source()
    log_prob = _method(source, "_log_prob")
    assigned = {
        line.split("=")[0].split(",")[0].strip()
        for line in log_prob.splitlines()
        if line.strip().startswith("body_")
    }
    assert len(assigned) == 11  # the parts of x, each coupling's output and the prior's input
    deleted = {
        name.strip()
        for line in log_prob.splitlines()
        if line.strip().startswith("del ")
        for name in line.strip()[4:].split(",")
    }
    assert assigned <= deleted


def test_compile_no_optimize_emits_the_literal_graph():
    from typer.testing import CliRunner

    from flowspec.cli.app import app

    spec = str(SPECS / "realnvp_moons.yaml")
    literal = CliRunner().invoke(app, ["compile", spec, "--no-optimize"])
    optimized = CliRunner().invoke(app, ["compile", spec])
    assert literal.exit_code == 0 and optimized.exit_code == 0
    assert "folded" not in literal.stdout and "nodes['body_0_1'](body_0_0)" in literal.stdout
    assert "reverse folded" in optimized.stdout


def test_drawings_show_the_spec_not_the_optimized_graph():
    """The passes leave the checked graph alone: the drawing is the same after them,
    with every folded node in it."""
    from flowspec.render.graphviz import to_dot

    graph = flowspec.check(SPECS / "ports_checkerboard.yaml").graph
    before = to_dot(graph, expand=True).source
    assert any(isinstance(op, (Permute, Regroup, Couple)) for op in optimize(graph).ops)
    assert to_dot(graph, expand=True).source == before
    for node_id in ("parts", "joined", "body_0_1"):
        assert f"{node_id} [" in before


@pytest.mark.parametrize(
    "module", sorted((SPECS.parent / "flowspec" / "optimize").glob("*.py")), ids=lambda p: p.stem
)
def test_passes_import_no_torch(module):
    """The passes are part of the torch-free spec layer (they see the graph, not tensors)."""
    import ast

    tree = ast.parse(module.read_text(encoding="utf-8"))
    names = [
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    ]
    names += [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    assert not {name.split(".")[0] for name in names} & {"torch", "numpy", "sklearn"}


@pytest.mark.parametrize("name", sorted(DATA))
def test_bundled_specs_give_the_same_log_prob_optimized(name):
    """Every bundled spec (every family on main): the optimized log_prob equals the
    literal one, noise draws included (same seed, same order of draws)."""
    checked = flowspec.check(SPECS / f"{name}.yaml")
    literal, optimized = checked.build_model(optimize=False), checked.build_model()
    x = load_dataset(DATA[name], n_train=16, n_test=16).test
    literal.initialize(x)
    randomize_(literal, scale=0.05)
    optimized.load_state_dict(literal.state_dict())
    torch.manual_seed(3)
    expected = literal.log_prob(x)
    torch.manual_seed(3)
    torch.testing.assert_close(optimized.log_prob(x), expected, rtol=1e-6, atol=1e-5)
