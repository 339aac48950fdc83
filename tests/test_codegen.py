"""The generated code: log_prob and trace agree, zero contributions are really zero,
intermediates are released, and seeded kinds differ across a block's repetitions."""

import pytest
import torch
from bundled import DATA, SPECS
from oracles import make_node, randomize_

import flowspec
from flowspec.core.ports import Support
from flowspec.core.registry import node_kinds
from flowspec.train.data import load_dataset

ZERO_VOLUME_CASES = {
    "additive_coupling": ({"kind": "additive_coupling"}, [(4,)]),
    "reverse": ({"kind": "reverse"}, [(3,)]),
    "shuffle": ({"kind": "shuffle", "seed": 3}, [(5,)]),
    "split": ({"kind": "split", "sizes": [2, 3]}, [(5,)]),
    "concat": ({"kind": "concat", "in": ["a", "b"]}, [(2,), (3,)]),
    "reshape": ({"kind": "reshape", "shape": [2, 3]}, [(6,)]),
    "flatten": ({"kind": "flatten"}, [(2, 3)]),
    "discrete_flow": ({"kind": "discrete_flow", "scale": True}, [(4,)]),
    "integer_discrete_flow": ({"kind": "integer_discrete_flow"}, [(4,)]),
    "squeeze": ({"kind": "squeeze"}, [(1, 4, 2)]),
    "unsqueeze": ({"kind": "unsqueeze"}, [(8, 1, 2)]),
}
#: Kinds of integer values, fed integers 0..4.
DISCRETE = {"discrete_flow", "integer_discrete_flow"}


def test_every_volume_preserving_kind_has_a_case():
    flagged = {name for name, kind in node_kinds().items() if kind.volume_preserving}
    assert flagged == set(ZERO_VOLUME_CASES)


@pytest.mark.parametrize("kind", sorted(ZERO_VOLUME_CASES))
def test_volume_preserving_kinds_contribute_exactly_zero(kind):
    spec, shapes = ZERO_VOLUME_CASES[kind]
    support = Support(0, 4, levels=5) if kind in DISCRETE else None
    _, layer, _ = make_node(spec, *shapes, support=support)
    randomize_(layer)
    inputs = [torch.randn(6, *shape, dtype=torch.float64) for shape in shapes]
    if kind in DISCRETE:
        inputs = [torch.randint(0, 5, x.shape, dtype=torch.float64) for x in inputs]
    _, contribution = layer(*inputs)
    assert torch.equal(contribution, torch.zeros(6, dtype=torch.float64))


@pytest.mark.parametrize("name", sorted(DATA))
def test_log_prob_and_trace_agree(name):
    model = flowspec.compile(SPECS / f"{name}.yaml")
    x = load_dataset(DATA[name], n_train=32, n_test=32).test
    model.initialize(x)  # layers set from data (actnorm, standardize)
    randomize_(model, scale=0.05)
    torch.manual_seed(4)
    expected = model.log_prob(x)
    torch.manual_seed(4)
    trace = model.trace(x)
    torch.testing.assert_close(trace.log_prob, expected)
    torch.testing.assert_close(sum(trace.contributions.values()), expected)


def test_generated_log_prob_releases_intermediates():
    source = flowspec.check(SPECS / "realnvp_moons.yaml").source(optimize=False)
    log_prob = source[source.index("def _log_prob") : source.index("def _inference")]
    assert log_prob.count("del ") == 16  # each of the 16 intermediates, after its last use
    assert "body_0_1, _ = " in log_prob  # a reversal adds nothing to the sum


def test_seeded_kinds_differ_across_repetitions():
    text = """
flowspec: "1"
name: seeds
inputs:
  x: {shape: [6]}
blocks:
  step:
    - {kind: shuffle, seed: 5}
    - {kind: lu_linear, seed: 9}
nodes:
  body: {block: step, repeat: 3, in: x}
  prior: {kind: standard_normal, in: body}
"""
    checked = flowspec.check(text)
    seeds = {n.id: n.spec.seed for n in checked.graph.layers if n.spec.kind != "standard_normal"}
    assert seeds == {
        "body_0_0": 5,
        "body_0_1": 9,
        "body_1_0": 6,
        "body_1_1": 10,
        "body_2_0": 7,
        "body_2_1": 11,
    }
    model = checked.build_model()
    orders = {tuple(model.nodes[f"body_{r}_0"].index.tolist()) for r in range(3)}
    assert len(orders) == 3
