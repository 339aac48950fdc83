"""split, concat, reshape and flatten: volume-preserving re-indexings of the event."""

import math

import pytest
import torch
from oracles import assert_logdet_matches, autograd_logdet, infer_node, make_node, run_checks

from flowspec.core.node import NodeCheck
from flowspec.core.ports import PortInfo, Support
from flowspec.core.properties import Likelihood
from flowspec.core.registry import node_kinds
from flowspec.diagnostics import Reporter

DTYPES = [torch.float32, torch.float64]


def infer_ports(spec, *inputs: PortInfo):
    """Run the shape rule on inputs with arbitrary supports."""
    node = node_kinds()[spec["kind"]].model_validate(spec)
    reporter = Reporter()
    outputs = run_checks(node, tuple(inputs), None, NodeCheck(reporter, "node", ("nodes", "node")))
    return outputs, reporter


def only_diagnostic(reporter: Reporter, code: str, *path):
    assert [d.code for d in reporter.diagnostics] == [code], [str(d) for d in reporter.diagnostics]
    diagnostic = reporter.diagnostics[0]
    assert diagnostic.path == ("nodes", "node", *path)
    assert diagnostic.hint
    return diagnostic


# --- split -----------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    ("shape", "sizes"), [((7,), [3, 4]), ((6,), [1, 2, 3]), ((5, 2, 3), [2, 3])]
)
def test_split_round_trip_both_ways(dtype, shape, sizes):
    node, layer, outputs = make_node({"kind": "split", "sizes": sizes}, shape, dtype=dtype)
    assert node.output_ports() == tuple(f"out{i}" for i in range(len(sizes)))
    assert [o.shape for o in outputs] == [(s, *shape[1:]) for s in sizes]
    for batch in (1, 4):
        x = torch.randn(batch, *shape, dtype=dtype)
        parts, contribution = layer(x)
        assert isinstance(parts, tuple) and len(parts) == len(sizes)
        assert [p.shape[1:] for p in parts] == [o.shape for o in outputs]
        assert contribution.shape == (batch,) and contribution.dtype == dtype
        assert torch.all(contribution == 0)
        torch.testing.assert_close(layer.inverse(*parts), x)
        again, _ = layer(layer.inverse(*parts))
        for a, b in zip(again, parts, strict=True):
            torch.testing.assert_close(a, b)


def test_split_logdet_is_zero_by_autograd():
    _, layer, _ = make_node({"kind": "split", "sizes": [2, 3]}, (5,))
    x = torch.randn(3, 5, dtype=torch.float64)
    expected = autograd_logdet(lambda v: torch.cat(layer(v)[0], dim=1), x)
    torch.testing.assert_close(layer(x)[1], expected)


def test_split_keeps_support():
    support = Support(0.0, 1.0)
    outputs, reporter = infer_ports({"kind": "split", "sizes": [1, 1]}, PortInfo((2,), support))
    assert not reporter.diagnostics
    assert all(o.support == support for o in outputs)


def test_split_needs_two_sizes():
    outputs, reporter = infer_node({"kind": "split", "sizes": [4]}, (4,))
    assert outputs is None
    only_diagnostic(reporter, "E450", "sizes")


def test_split_needs_a_feature_axis():
    outputs, reporter = infer_node({"kind": "split", "sizes": [1, 1]}, ())
    assert outputs is None
    only_diagnostic(reporter, "E411", "in")


def test_split_sizes_must_add_up():
    outputs, reporter = infer_node({"kind": "split", "sizes": [3, 3]}, (7, 2))
    assert outputs is None
    diagnostic = only_diagnostic(reporter, "E452", "sizes")
    assert "6" in diagnostic.message and "7" in diagnostic.message


# --- concat ----------------------------------------------------------------------------


def test_concat_ports_follow_the_input_list():
    spec = node_kinds()["concat"].model_validate({"kind": "concat", "in": ["a", "b.out1", "c"]})
    assert spec.input_ports() == ("in0", "in1", "in2")
    single = node_kinds()["concat"].model_validate({"kind": "concat", "in": "a"})
    assert single.input_ports() == ("in0",)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shapes", [[(3,), (4,)], [(1,), (2,), (3,)], [(2, 3, 3), (1, 3, 3)]])
def test_concat_round_trip_both_ways(dtype, shapes):
    spec = {"kind": "concat", "in": [f"n{i}" for i in range(len(shapes))]}
    _, layer, (out,) = make_node(spec, *shapes, dtype=dtype)
    total = sum(s[0] for s in shapes)
    assert out.shape == (total, *shapes[0][1:])
    for batch in (1, 5):
        xs = [torch.randn(batch, *s, dtype=dtype) for s in shapes]
        z, contribution = layer(*xs)
        assert z.shape == (batch, *out.shape)
        assert contribution.shape == (batch,) and torch.all(contribution == 0)
        back = layer.inverse(z)
        assert isinstance(back, tuple) and len(back) == len(shapes)
        for a, b in zip(back, xs, strict=True):
            torch.testing.assert_close(a, b)
        torch.testing.assert_close(layer(*back)[0], z)


def test_concat_logdet_is_zero_by_autograd():
    _, layer, _ = make_node({"kind": "concat", "in": ["a", "b"]}, (2,), (3,))
    x = torch.randn(3, 5, dtype=torch.float64)
    expected = autograd_logdet(lambda v: layer(*v.split([2, 3], dim=1))[0], x)
    torch.testing.assert_close(layer(*x.split([2, 3], dim=1))[1], expected)


def test_split_then_concat_is_the_identity():
    _, split, _ = make_node({"kind": "split", "sizes": [2, 3]}, (5,))
    _, concat, _ = make_node({"kind": "concat", "in": ["s.out0", "s.out1"]}, (2,), (3,))
    x = torch.randn(4, 5, dtype=torch.float64)
    parts, _ = split(x)
    torch.testing.assert_close(concat(*parts)[0], x)
    torch.testing.assert_close(split.inverse(*concat.inverse(x)), x)


@pytest.mark.parametrize(
    ("supports", "expected"),
    [
        ([Support(levels=4), Support(levels=4)], Support(levels=4)),
        # The hull, marked partial when an input does not fill it (for W501 downstream).
        ([Support(0.0, 1.0), Support(2.0, 3.0)], Support(0.0, 3.0, partial=True)),
        ([Support(0.0, 1.0), Support()], Support(partial=True)),
        ([Support(-math.inf, 0.0), Support(0.0, math.inf)], Support(partial=True)),
        (
            [Support(0.0, 1.0, closed_low=True), Support(0.0, 1.0)],
            Support(0.0, 1.0, closed_low=True),
        ),
        ([Support(), Support()], Support()),
    ],
)
def test_concat_support_is_the_union_hull(supports, expected):
    inputs = [PortInfo((2,), s) for s in supports]
    outputs, reporter = infer_ports({"kind": "concat", "in": ["a", "b"]}, *inputs)
    assert not reporter.diagnostics
    assert outputs[0].support == expected


def test_concat_needs_two_inputs():
    outputs, reporter = infer_node({"kind": "concat", "in": "a"}, (3,))
    assert outputs is None
    only_diagnostic(reporter, "E455", "in")


def test_concat_needs_a_feature_axis():
    outputs, reporter = infer_node({"kind": "concat", "in": ["a", "b"]}, (), ())
    assert outputs is None
    only_diagnostic(reporter, "E411", "in", 0)


def test_concat_ranks_must_match():
    outputs, reporter = infer_node({"kind": "concat", "in": ["a", "b", "c"]}, (2, 3), (2, 3), (6,))
    assert outputs is None
    diagnostic = only_diagnostic(reporter, "E457", "in", 2)
    assert "[2, 3]" in diagnostic.message and "[6]" in diagnostic.message


def test_concat_other_axes_must_match():
    outputs, reporter = infer_node({"kind": "concat", "in": ["a", "b"]}, (2, 4, 4), (3, 4, 5))
    assert outputs is None
    diagnostic = only_diagnostic(reporter, "E458", "in", 1)
    assert "[2, 4, 4]" in diagnostic.message and "[3, 4, 5]" in diagnostic.message


def test_concat_rejects_discrete_with_continuous():
    inputs = [PortInfo((2,), Support(levels=256)), PortInfo((2,))]
    outputs, reporter = infer_ports({"kind": "concat", "in": ["a", "b"]}, *inputs)
    assert outputs is None
    diagnostic = only_diagnostic(reporter, "E459", "in")
    assert "{0..255}" in diagnostic.message and "real" in diagnostic.message
    assert "uniform_dequantization" in diagnostic.hint


# --- reshape / flatten -----------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    ("spec", "shape", "expected"),
    [
        ({"kind": "reshape", "shape": [4, 6]}, (2, 3, 4), (4, 6)),
        ({"kind": "reshape", "shape": [1, 2, 3]}, (6,), (1, 2, 3)),
        ({"kind": "flatten"}, (2, 3, 4), (24,)),
        ({"kind": "flatten"}, (5,), (5,)),
    ],
)
def test_reshape_round_trip_both_ways(dtype, spec, shape, expected):
    support = Support(0.0, 1.0)
    _, layer, (out,) = make_node(spec, shape, support=support, dtype=dtype)
    assert out.shape == expected and out.support == support
    for batch in (1, 3):
        x = torch.rand(batch, *shape, dtype=dtype)
        z, contribution = layer(x)
        assert z.shape == (batch, *expected)
        assert contribution.shape == (batch,) and torch.all(contribution == 0)
        torch.testing.assert_close(layer.inverse(z), x)
        torch.testing.assert_close(layer(layer.inverse(z))[0], z)
        # Row-major order: the flat values are unchanged.
        torch.testing.assert_close(z.flatten(1), x.flatten(1))


@pytest.mark.parametrize("spec", [{"kind": "reshape", "shape": [3, 2]}, {"kind": "flatten"}])
def test_reshape_logdet_is_zero_by_autograd(spec):
    _, layer, _ = make_node(spec, (2, 3))
    assert_logdet_matches(layer, torch.randn(3, 2, 3, dtype=torch.float64))


def test_reshape_numel_must_match():
    outputs, reporter = infer_node({"kind": "reshape", "shape": [5, 5]}, (2, 3, 4))
    assert outputs is None
    diagnostic = only_diagnostic(reporter, "E460", "shape")
    assert "[2, 3, 4]" in diagnostic.message and "[5, 5]" in diagnostic.message
    assert "24" in diagnostic.hint


# --- common ----------------------------------------------------------------------------


def test_structural_kinds_are_parameter_free_and_pass_gradients():
    cases = [
        ({"kind": "split", "sizes": [2, 2]}, [(4,)]),
        ({"kind": "concat", "in": ["a", "b"]}, [(2,), (2,)]),
        ({"kind": "reshape", "shape": [2, 2]}, [(4,)]),
        ({"kind": "flatten"}, [(2, 2)]),
    ]
    for spec, shapes in cases:
        node, layer, _ = make_node(spec, *shapes)
        assert node.bijective and node.likelihood() is Likelihood.EXACT
        assert node.contribution == "0"
        assert list(layer.parameters()) == []
        xs = [torch.randn(3, *s, dtype=torch.float64, requires_grad=True) for s in shapes]
        out, contribution = layer(*xs)
        outs = out if isinstance(out, tuple) else (out,)
        (sum(o.pow(2).sum() for o in outs) + contribution.sum()).backward()
        for x in xs:
            torch.testing.assert_close(x.grad, 2 * x.detach())
