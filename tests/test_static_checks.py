"""Checks of a node's settings alone (``NodeSpec.check_static``): reported whatever the rest
of the graph looks like, once per spec entry (once per block element, however often the
block is repeated), and never again by the shape rule."""

from __future__ import annotations

import pytest
from oracles import run_checks

import flowspec
from flowspec.core.node import NodeCheck
from flowspec.core.ports import PortInfo, Support
from flowspec.core.registry import node_kinds
from flowspec.diagnostics import Diagnostic, Reporter, SpecError

RELU_AFTER = """\
flowspec: "1"
name: static
inputs:
  x: {shape: [4]}
nodes:
  a: {A}
  b: {kind: elementwise, fn: relu, in: a}
  prior: {kind: standard_normal, in: b}
"""

#: Mistakes in node ``a`` (line 6) of every stage: a name, a setting, a shape.
UPSTREAM: dict[str, tuple[str, str]] = {
    "typo in a's input": ("{kind: reverse, in: xx}", "E201"),
    "typo in a's fn": ("{kind: elementwise, fn: tahn, in: x}", "E420"),
    "a's mask keeps everything": ("{kind: affine_coupling, mask: [1, 1, 1, 1], in: x}", "E404"),
    "a's shape rule fails": ("{kind: reshape, shape: [3], in: x}", "E460"),
    "a's domain check fails": ("{kind: elementwise, fn: log, in: x}", "E422"),
}


def diagnostics_of(text: str) -> list[Diagnostic]:
    with pytest.raises(SpecError) as caught:
        flowspec.check(text)
    return caught.value.diagnostics


def summary(diagnostics: list[Diagnostic]) -> list[tuple[str, str | None, int]]:
    return [(d.code, d.node, d.location.line if d.location else 0) for d in diagnostics]


@pytest.mark.parametrize("case", list(UPSTREAM))
def test_a_static_mistake_is_reported_despite_an_upstream_error(case: str) -> None:
    node_a, code = UPSTREAM[case]
    diagnostics = diagnostics_of(RELU_AFTER.replace("{A}", node_a))
    assert summary(diagnostics) == [(code, "a", 6), ("E421", "b", 7)], [str(d) for d in diagnostics]


BLOCKS = """\
flowspec: "1"
name: blocks
inputs:
  x: {shape: [4]}
blocks:
  step:
    - {kind: elementwise, fn: relu}
    - {kind: affine_coupling, mask: [0, 0, 0, 0]}
    - {kind: elementwise, fn: tanh, alpha: 0.1}
nodes:
  body: {block: step, repeat: 3, in: x}
  more: {block: step, repeat: 2, in: body}
  prior: {kind: standard_normal, in: more}
"""


def test_block_elements_are_checked_once() -> None:
    diagnostics = diagnostics_of(BLOCKS)
    found = [(d.code, d.node, d.path, d.severity) for d in diagnostics]
    assert found == [
        ("E421", "step", ("blocks", "step", 0, "fn"), "error"),
        ("E405", "step", ("blocks", "step", 1, "mask"), "error"),
        ("W420", "step", ("blocks", "step", 2, "alpha"), "warning"),
    ], [str(d) for d in diagnostics]


def test_a_valid_block_warns_once() -> None:
    text = (
        BLOCKS.replace("{kind: elementwise, fn: relu}", "{kind: reverse}")
        .replace("mask: [0, 0, 0, 0]", "mask: [0, 1, 0, 1]")
        .replace("fn: tanh", "fn: leaky_relu")
    )
    checked = flowspec.check(text)
    warnings = [(d.code, d.path) for d in checked.warnings]
    assert warnings == [("W420", ("blocks", "step", 2, "alpha"))]


@pytest.mark.parametrize(
    ("node", "code", "field"),
    [
        ("{kind: elementwise, fn: relu, in: x}", "E421", "fn"),
        ("{kind: elementwise, fn: sine, in: x}", "E420", "fn"),
        ("{kind: elementwise, fn: scale_shift, scale: 0.0, in: x}", "E423", "scale"),
        ("{kind: elementwise, fn: leaky_relu, negative_slope: 0, in: x}", "E424", "negative_slope"),
        ("{kind: elementwise, fn: logit, alpha: 0.5, in: x}", "E425", "alpha"),
        ("{kind: split, sizes: [4], in: x}", "E450", "sizes"),
        ("{kind: concat, in: x}", "E455", "in"),
        ("{kind: concat, in: [x]}", "E455", "in"),
        ("{kind: affine_coupling, mask: [1, 1, 1, 1], in: x}", "E404", "mask"),
        ("{kind: additive_coupling, mask: [0, 0, 0, 0], in: x}", "E405", "mask"),
    ],
)
def test_each_static_mistake_is_reported_exactly_once(node: str, code: str, field: str) -> None:
    """Through the whole compiler: the static pass reports it, the shape rule does not."""
    text = RELU_AFTER.replace("{A}", node).replace("fn: relu, in: a", "fn: tanh, in: a")
    diagnostics = diagnostics_of(text)
    assert [(d.code, d.path) for d in diagnostics] == [(code, ("nodes", "a", field))], [
        str(d) for d in diagnostics
    ]


def test_conditional_normal_needs_a_context_even_with_a_broken_input() -> None:
    text = """\
flowspec: "1"
name: static
inputs:
  x: {shape: [4]}
nodes:
  prior: {kind: conditional_normal, in: xx}
"""
    assert summary(diagnostics_of(text)) == [("E510", "prior", 6), ("E201", "prior", 6)]


def test_a_broken_context_reference_is_reported_once() -> None:
    text = """\
flowspec: "1"
name: static
inputs:
  x: {shape: [4]}
nodes:
  parts: {kind: split, sizes: [2, 2], in: x}
  p0: {kind: standard_normal, in: parts.out0}
  p1: {kind: conditional_normal, in: parts.out1, context: parts.ou0}
"""
    assert [d.code for d in diagnostics_of(text)] == ["E202"]


def test_concat_cannot_be_a_block_element() -> None:
    text = BLOCKS.replace("{kind: elementwise, fn: relu}", "{kind: concat}")
    codes = [(d.code, d.path[:3]) for d in diagnostics_of(text)]
    assert ("E110", ("blocks", "step", 0)) in codes and "E455" not in [c for c, _ in codes]


def infer_alone(spec: dict, x: PortInfo):
    node = node_kinds()[spec["kind"]].model_validate(spec)
    reporter = Reporter()
    return run_checks(node, (x,), None, NodeCheck(reporter, "node", ("nodes", "node"))), reporter


def test_settings_errors_stop_before_the_shape_rule() -> None:
    outputs, reporter = infer_alone({"kind": "elementwise", "fn": "relu"}, PortInfo((3,)))
    assert outputs is None and [d.code for d in reporter.diagnostics] == ["E421"]


def test_settings_warnings_do_not_stop_the_shape_rule() -> None:
    outputs, reporter = infer_alone(
        {"kind": "elementwise", "fn": "tanh", "alpha": 0.1}, PortInfo((3,))
    )
    assert outputs is not None and [d.code for d in reporter.diagnostics] == ["W420"]


@pytest.mark.parametrize("kind", ["affine_coupling", "additive_coupling"])
def test_couplings_reject_discrete_inputs(kind: str) -> None:
    outputs, reporter = infer_alone({"kind": kind}, PortInfo((4,), Support(0, 255, levels=256)))
    assert outputs is None
    assert [(d.code, d.path) for d in reporter.diagnostics] == [("E410", ("nodes", "node", "in"))]
    assert "uniform_dequantization" in reporter.diagnostics[0].hint
