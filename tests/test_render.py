"""Tests for flowspec.render: Graphviz drawings of checked flow graphs."""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import flowspec
from flowspec.graph.model import FlowGraph
from flowspec.render import FORMATS, PALETTE, RenderResult, render, to_dot
from flowspec.render import graphviz as render_module

DOT_REQUIRED = "Graphviz's dot is required for the test suite: apt-get install graphviz"


def require_dot() -> None:
    """Fail the calling test when Graphviz's ``dot`` is missing: CI installs it."""
    assert shutil.which("dot") is not None, DOT_REQUIRED


SIMPLE = """
flowspec: "1"
name: realnvp-moons
inputs:
  x: {shape: [2]}
blocks:
  step:
    - {kind: affine_coupling, net: {kind: mlp, hidden: [8]}}
    - {kind: affine_coupling, mask: [0, 1]}
nodes:
  body: {block: step, repeat: 3, in: x}
  prior: {kind: standard_normal, in: body}
"""

#: Uses more kinds: a surjection, a split with two ports, a context edge.
RICH = """
flowspec: "1"
name: rich
inputs:
  x: {shape: [8]}
blocks:
  step:
    - {kind: affine_coupling}
    - {kind: reverse}
nodes:
  aug: {kind: augment, extra: 2, in: x}
  body: {block: step, repeat: 2, in: aug}
  halves: {kind: split, in: body, sizes: [4, 6]}
  squash: {kind: elementwise, fn: tanh, in: halves.out0}
  p0: {kind: diagonal_normal, in: squash}
  p1: {kind: conditional_normal, in: halves.out1, context: halves.out0}
"""

#: A name with every character that needs escaping somewhere (DOT, HTML labels, XML).
NASTY_NAME = 'a "quoted" <b>bold</b> & \'single\' \\ back\\slash\nsecond line'


def graph_of(text: str) -> FlowGraph:
    return flowspec.check(text).graph


@pytest.fixture(scope="module")
def simple() -> FlowGraph:
    return graph_of(SIMPLE)


@pytest.fixture(scope="module")
def rich() -> FlowGraph:
    return graph_of(RICH)


def node_line(source: str, node_id: str) -> str:
    """The DOT statement that declares ``node_id`` (attribute values may span lines)."""
    match = re.search(rf"^\s*{node_id} \[label=.*?\]$", source, re.M | re.S)
    assert match, f"no node statement for {node_id}"
    return match.group(0)


def svg_texts(path: Path) -> list[str]:
    root = ET.parse(path).getroot()
    return ["".join(element.itertext()) for element in root.iter() if element.tag.endswith("text")]


# --- DOT structure ----------------------------------------------------------------------


def test_every_node_is_drawn_once(simple: FlowGraph) -> None:
    source = to_dot(simple).source
    for node_id in simple.nodes:
        assert len(re.findall(rf"^\s*{node_id} \[", source, re.M)) == 1, node_id


def test_block_use_is_a_cluster_of_repetitions(simple: FlowGraph) -> None:
    source = to_dot(simple).source
    assert "subgraph cluster_body {" in source
    for repetition in range(3):
        assert f"subgraph cluster_body__{repetition} {{" in source
        assert f"label=<repetition {repetition}>" in source
    assert "body (block step) ×3" in source
    # Each repetition cluster holds exactly its own nodes.
    cluster = source.split("subgraph cluster_body__1 {")[1].split("subgraph cluster_body__2")[0]
    assert "body_1_0 [" in cluster and "body_1_1 [" in cluster
    assert "body_0_0 [" not in cluster and "prior [" not in cluster


def test_nodes_not_in_blocks_are_outside_clusters(simple: FlowGraph) -> None:
    source = to_dot(simple).source
    top = source.split("subgraph cluster_body {")[0]
    assert "x [" in top and "prior [" in top


def test_labels_show_id_kind_and_shapes(simple: FlowGraph) -> None:
    source = to_dot(simple).source
    line = node_line(source, "body_0_0")
    assert "<B>body_0_0</B>" in line and "<I>affine_coupling</I>" in line and "z: [2]" in line
    assert "[2]" in node_line(source, "x")


def test_edges_carry_port_and_shape(rich: FlowGraph) -> None:
    source = to_dot(rich).source
    assert "halves -> squash [label=<out0 [4]>]" in source
    assert "halves -> p1 [label=<out1 [6]>]" in source
    assert "aug -> body_0_0 [label=<z [10]>]" in source
    assert "x -> aug [label=<[8]>]" in source


def test_context_edges_are_dashed(rich: FlowGraph) -> None:
    source = to_dot(rich).source
    assert "log p(z | context)" in node_line(source, "p1")
    assert "log p(z)" in node_line(source, "p0")
    (context,) = [line for line in source.splitlines() if "context:" in line and "->" in line]
    assert context.strip().startswith("halves -> p1")
    assert "style=dashed" in context and "out0 [4]" in context
    data = [line for line in source.splitlines() if "->" in line and "context:" not in line]
    assert data and all("dashed" not in line for line in data)


def test_fill_colour_follows_category(rich: FlowGraph) -> None:
    source = to_dot(rich).source
    expected = {
        "x": "input",
        "aug": rich.nodes["aug"].spec.category().value,
        "body_0_0": "bijective",
        "halves": "bijective",
        "p0": "distribution",
        "p1": "distribution",
    }
    for node_id, category in expected.items():
        assert f'fillcolor="{PALETTE[category]}"' in node_line(source, node_id), node_id


def test_palette_is_distinct_and_in_legend(simple: FlowGraph) -> None:
    assert len(set(PALETTE.values())) == len(PALETTE)
    assert set(PALETTE) == {"input", "bijective", "surjective", "stochastic", "distribution"}
    source = to_dot(simple).source
    legend = source.split("subgraph cluster__legend {")[1]
    for category, colour in PALETTE.items():
        assert f'<TD BGCOLOR="{colour}">{category}</TD>' in legend


def test_title_names_the_spec_and_exactness(simple: FlowGraph, rich: FlowGraph) -> None:
    assert simple.exact and not rich.exact
    simple_title = to_dot(simple).source.splitlines()[1]
    assert "realnvp-moons" in simple_title and "log_prob is exact" in simple_title
    assert "lower bound" in to_dot(rich).source.splitlines()[1]


def test_layout_runs_top_to_bottom(simple: FlowGraph) -> None:
    assert "rankdir=TB" in to_dot(simple).source


# --- files ------------------------------------------------------------------------------


def test_svg_is_xml_with_every_node(simple: FlowGraph, tmp_path: Path) -> None:
    require_dot()
    result = render(simple, tmp_path / "flow.svg")
    assert result == RenderResult(tmp_path / "flow.svg", fallback=False, message=None)
    root = ET.parse(result.written).getroot()
    titles = {"".join(t.itertext()) for t in root.iter() if t.tag.endswith("title")}
    assert set(simple.nodes) <= titles
    assert {"cluster_body", "cluster_body__0", "cluster_body__2"} <= titles


def test_rich_svg_is_xml_with_every_node(rich: FlowGraph, tmp_path: Path) -> None:
    require_dot()
    path = render(rich, tmp_path / "rich.svg").written
    texts = " ".join(svg_texts(path))
    for node_id in rich.nodes:
        assert node_id in texts


@pytest.mark.parametrize(("suffix", "magic"), [(".png", b"\x89PNG\r\n\x1a\n"), (".pdf", b"%PDF-")])
def test_binary_formats(simple: FlowGraph, tmp_path: Path, suffix: str, magic: bytes) -> None:
    require_dot()
    result = render(simple, tmp_path / "out" / f"flow{suffix}")
    assert not result.fallback
    assert result.written.read_bytes().startswith(magic)


@pytest.mark.parametrize("suffix", [".gv", ".dot"])
def test_dot_source_formats(simple: FlowGraph, tmp_path: Path, suffix: str) -> None:
    result = render(simple, tmp_path / f"flow{suffix}")
    assert result == RenderResult(tmp_path / f"flow{suffix}", fallback=False, message=None)
    assert result.written.read_text(encoding="utf-8") == to_dot(simple).source


@pytest.mark.parametrize("name", ["flow.jpg", "flow", "flow.svg.txt"])
def test_bad_suffix_is_a_value_error(simple: FlowGraph, tmp_path: Path, name: str) -> None:
    with pytest.raises(ValueError, match=r"\.svg, \.png, \.pdf, \.gv, \.dot"):
        render(simple, tmp_path / name)
    assert list(tmp_path.iterdir()) == []


def test_formats_are_the_documented_ones() -> None:
    assert set(FORMATS) == {".svg", ".png", ".pdf", ".gv", ".dot"}


# --- without Graphviz -------------------------------------------------------------------


def _assert_fallback(result: RenderResult, requested: Path, graph: FlowGraph) -> None:
    assert result.fallback
    assert result.written == requested.with_suffix(".gv")
    assert result.written.read_text(encoding="utf-8") == to_dot(graph).source
    assert not requested.exists()
    assert result.message is not None
    hints = ("apt-get install graphviz", "brew install graphviz", "https://graphviz.org/download/")
    for hint in hints:
        assert hint in result.message
    assert str(result.written) in result.message


def test_fallback_when_dot_is_not_on_path(
    simple: FlowGraph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    requested = tmp_path / "flow.png"
    _assert_fallback(render(simple, requested), requested, simple)


def test_fallback_when_graphviz_cannot_start_dot(
    simple: FlowGraph, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `which` claims dot exists, but running it fails: graphviz.ExecutableNotFound.
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.setattr(render_module.shutil, "which", lambda name: "/nowhere/dot")
    requested = tmp_path / "flow.svg"
    _assert_fallback(render(simple, requested), requested, simple)


# --- escaping ---------------------------------------------------------------------------


def _nasty_spec() -> str:
    quoted = NASTY_NAME.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return SIMPLE.replace("name: realnvp-moons", f'name: "{quoted}"')


def test_escaping_in_dot_source() -> None:
    graph = graph_of(_nasty_spec())
    assert graph.header.name == NASTY_NAME
    title = to_dot(graph).source.splitlines()[1]
    assert "&quot;quoted&quot; &lt;b&gt;bold&lt;/b&gt; &amp; &#x27;single&#x27;" in title
    assert "<b>" not in title and "\n" not in title


def test_escaping_renders_valid_xml(tmp_path: Path) -> None:
    require_dot()
    graph = graph_of(_nasty_spec())
    path = render(graph, tmp_path / "nasty.svg").written
    texts = svg_texts(path)
    first, second = NASTY_NAME.split("\n")
    assert first in texts and second in texts
