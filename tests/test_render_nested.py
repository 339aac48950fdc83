"""Drawings of blocks that use blocks: a nested block use is a cluster inside its parent's
cluster (issue 6: "a scale of Glow is a block of blocks"), folded or unrolled, and every
node is drawn exactly once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import flowspec
from flowspec.render import render, to_dot

SPECS = Path(__file__).resolve().parent.parent / "specs"

#: Two levels of nesting, a repeat at every level: body (level × 2) > stage × 2 > step × 2.
NESTED = """
flowspec: "1"
name: nested
inputs:
  x: {shape: [2]}
blocks:
  step:
    - {kind: affine_coupling, net: {hidden: [8]}}
    - {kind: reverse}
  stage:
    - {kind: elementwise, fn: scale_shift, learnable: true}
    - {block: step, repeat: 2}
  level:
    - {block: stage, repeat: 2}
    - {kind: reverse}
nodes:
  body: {block: level, repeat: 2, in: x}
  prior: {kind: standard_normal, in: body}
"""


def layout(source: str) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """From DOT text: each subgraph's enclosing subgraphs (outermost first), and each node
    statement's enclosing subgraphs, as lists per occurrence (so doubles show up)."""
    stack: list[str] = []
    subgraphs: dict[str, list[str]] = {}
    nodes: dict[str, list[str]] = {}
    for line in source.splitlines()[1:]:
        opened = re.fullmatch(r"\s*subgraph (\w+) \{", line)
        if opened:
            assert opened[1] not in subgraphs, f"subgraph {opened[1]} drawn twice"
            subgraphs[opened[1]] = list(stack)
            stack.append(opened[1])
        elif line.strip() == "}":
            if stack:
                stack.pop()
        else:
            node = re.match(r"\s*(\w+) \[", line)
            if node and node[1] not in ("node", "edge", "graph"):  # not default attributes
                nodes.setdefault(node[1], []).append("/".join(stack))
    return subgraphs, nodes


def graph_of(text: str):
    return flowspec.check(text).graph


def test_glow_scale_draws_its_steps_inside_it() -> None:
    graph = flowspec.check(SPECS / "glow_digits.yaml").graph
    source = to_dot(graph).source
    subgraphs, nodes = layout(source)
    for scale in ("scale1", "scale2"):
        assert subgraphs[f"cluster_{scale}_0_1"] == [f"cluster_{scale}"]
        assert nodes[f"{scale}_0_0"] == [f"cluster_{scale}"]  # the squeeze
        for position in range(3):  # actnorm, 1x1 convolution, coupling: once for both steps
            assert nodes[f"{scale}_0_1_0_{position}"] == [f"cluster_{scale}/cluster_{scale}_0_1"]
    assert re.search(r"label=<scale1_0_1: block step × 2 · [\d,]+ parameters>", source)
    assert all(len(places) == 1 for places in nodes.values())
    drawn = {name for name in nodes if name != "_legend"}
    assert len(drawn) == len(graph.nodes) - 2 * 3  # each step box stands for 2 repetitions


def test_two_levels_of_nesting_fold_into_nested_clusters() -> None:
    graph = graph_of(NESTED)
    source = to_dot(graph).source
    subgraphs, nodes = layout(source)
    assert subgraphs["cluster_body_0_0"] == ["cluster_body"]
    assert subgraphs["cluster_body_0_0_0_1"] == ["cluster_body", "cluster_body_0_0"]
    assert not any(re.search(r"__\d+$", name) for name in subgraphs)  # folded: no repetitions
    assert re.search(r"label=<body: block level × 2 · [\d,]+ parameters>", source)
    # the stage uses of both level repetitions are one cluster, likewise the step uses
    assert re.search(r"label=<body_0_0 … body_1_0: block stage × 2 · [\d,]+ parameters>", source)
    assert re.search(
        r"label=<body_0_0_0_1 … body_1_0_1_1: block step × 2 · [\d,]+ parameters>", source
    )
    inner = "cluster_body/cluster_body_0_0/cluster_body_0_0_0_1"
    assert nodes == {
        "x": [""],
        "prior": [""],
        "_legend": ["cluster__legend"],
        "body_0_1": ["cluster_body"],  # the level's reverse
        "body_0_0_0_0": ["cluster_body/cluster_body_0_0"],  # the stage's scale_shift
        "body_0_0_0_1_0_0": [inner],
        "body_0_0_0_1_0_1": [inner],  # the step
    }
    assert "<B>body_0_0_0_1_0_0 … body_1_0_1_1_1_0</B>" in source  # 2 x 2 x 2 couplings
    edges = re.findall(r"^\s*(\w+) -> (\w+)", source, re.M)
    assert edges == [
        ("x", "body_0_0_0_0"),
        ("body_0_0_0_0", "body_0_0_0_1_0_0"),
        ("body_0_0_0_1_0_0", "body_0_0_0_1_0_1"),
        ("body_0_0_0_1_0_1", "body_0_1"),
        ("body_0_1", "prior"),
    ]


def test_two_levels_of_nesting_unroll_into_nested_repetitions() -> None:
    graph = graph_of(NESTED)
    subgraphs, nodes = layout(to_dot(graph, expand=True).source)
    assert set(nodes) == set(graph.nodes) | {"_legend"}
    assert all(len(places) == 1 for places in nodes.values())
    for node in graph.nodes.values():
        path = []
        for scope in node.scopes:  # use cluster, then the repetition inside it
            path += [f"cluster_{scope.group}", f"cluster_{scope.group}__{scope.repetition}"]
        assert nodes[node.id] == ["/".join(path)], node.id
    assert subgraphs["cluster_body_1_0_1_1"] == [
        "cluster_body",
        "cluster_body__1",
        "cluster_body_1_0",
        "cluster_body_1_0__1",
    ]


@pytest.mark.parametrize("expand", [False, True])
def test_nested_drawing_renders(tmp_path: Path, expand: bool) -> None:
    path = render(graph_of(NESTED), tmp_path / "nested.svg", expand=expand).written
    text = path.read_text(encoding="utf-8")
    assert text.count('class="cluster"') == (3 if not expand else 1 + 2 + 2 + 4 + 4 + 8) + 1
