"""MAF and IAF (the two directions of the autoregressive kind) and the MADE conditioner.
Round trips and log-dets of both directions with every transformer and every conditioner,
and each conditioner's order, are the kinds' contract (tests/test_contract_nodes.py,
tests/test_contract_parts.py); here: MADE's exact zero pattern, costs, orders."""

import pytest
import torch
from oracles import infer_node, make_node, randomize_
from torch.func import jacrev

from flowspec.core.properties import Cost


@pytest.mark.parametrize("direction", ["maf", "iaf"])
def test_context_reaches_the_conditioner(direction):
    spec = {"kind": "autoregressive", "direction": direction, "conditioner": {"hidden": [8]}}
    _, layer, _ = make_node(spec, (3,), context=(2,))
    randomize_(layer)
    x = torch.randn(4, 3, dtype=torch.float64)
    c = torch.randn(4, 2, dtype=torch.float64)
    z, _ = layer(x, context=c)
    assert not torch.allclose(z, layer(x, context=torch.zeros_like(c))[0])
    torch.testing.assert_close(layer.inverse(z, context=c), x)


@pytest.mark.parametrize("order", ["natural", "reversed", "random", [3, 1, 0, 2, 5, 4]])
@pytest.mark.parametrize("context", [None, 2])
def test_made_jacobian_has_the_autoregressive_zero_pattern(order, context):
    """d params_i / d x_j is nonzero exactly when x_j precedes x_i in the order (tanh, so
    no hidden unit is switched off at the point where the Jacobian is taken)."""
    conditioner = {"hidden": [32, 32], "order": order, "activation": "tanh"}
    spec = {"kind": "autoregressive", "conditioner": conditioner}
    node, layer, _ = make_node(spec, (6,), context=(context,) if context else None)
    randomize_(layer)
    ranks = torch.tensor(node.conditioner.ranks(6))
    c = torch.randn(1, context, dtype=torch.float64) if context else None
    x = torch.randn(6, dtype=torch.float64)
    jac = jacrev(lambda v: layer.conditioner(v.unsqueeze(0), c).squeeze(0))(x)  # (6, 2, 6)
    allowed = ranks[None, :] < ranks[:, None]  # [i, j]: j before i
    for p in range(jac.shape[1]):
        assert torch.equal(jac[:, p, :] != 0, allowed)


def test_made_of_one_feature_sees_only_the_context():
    spec = {"kind": "autoregressive", "conditioner": {"hidden": [4]}}
    _, layer, _ = make_node(spec, (1,), context=(2,))
    randomize_(layer)
    x = torch.randn(3, 1, dtype=torch.float64)
    c = torch.randn(3, 2, dtype=torch.float64)
    params = layer.conditioner(x, c)
    torch.testing.assert_close(params, layer.conditioner(torch.zeros_like(x), c))
    assert not torch.allclose(params, layer.conditioner(x, torch.zeros_like(c)))


def test_directions_have_their_costs():
    maf = make_node({"kind": "autoregressive", "direction": "maf"}, (4,))[0]
    iaf = make_node({"kind": "autoregressive", "direction": "iaf"}, (4,))[0]
    assert (maf.costs().inference, maf.costs().generation) == (Cost.ONE_PASS, Cost.D_PASSES)
    assert (iaf.costs().inference, iaf.costs().generation) == (Cost.D_PASSES, Cost.ONE_PASS)


def test_explicit_order_must_be_a_permutation():
    outputs, reporter = infer_node(
        {"kind": "autoregressive", "conditioner": {"order": [0, 0, 1]}}, (3,)
    )
    assert outputs is None
    (diagnostic,) = reporter.diagnostics
    assert diagnostic.code == "E602" and diagnostic.path[-2:] == ("conditioner", "order")


def test_random_orders_differ_between_repetitions():
    node = make_node({"kind": "autoregressive", "conditioner": {"order": "random"}}, (8,))[0]
    first, second = node.for_repetition(0), node.for_repetition(1)
    assert first.conditioner.ranks(8) != second.conditioner.ranks(8)
