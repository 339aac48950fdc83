"""The generated code: log_prob and trace agree, intermediates are released, and seeded
kinds differ across a block's repetitions. (That volume-preserving kinds contribute exactly
zero, which the generated sum relies on, is part of every kind's contract:
tests/test_contract_nodes.py.)"""

import pytest
import torch
from bundled import DATA, SPECS
from oracles import randomize_

import flowspec
from flowspec.train.data import load_dataset


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
