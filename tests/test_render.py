"""Tests for flowspec.render: Graphviz drawings of checked flow graphs."""

from __future__ import annotations

import ast
import copy
import re
import shutil
import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import flowspec
from flowspec.graph.digraph import Digraph
from flowspec.graph.model import FlowGraph
from flowspec.render import FORMATS, PALETTE, RenderResult, render, to_dot
from flowspec.render import graphviz as render_module
from flowspec.render.text import MAX_ID

SPECS = Path(__file__).resolve().parent.parent / "specs"
#: The tallest drawing of a bundled spec, in pixels at Graphviz's default 96 dpi.
MAX_HEIGHT = 1600

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

#: A block whose repetitions widen the event: shapes differ from one repetition to the next.
GROWING = """
flowspec: "1"
name: growing
inputs:
  x: {shape: [2]}
blocks:
  widen:
    - {kind: augment, extra: 1}
nodes:
  grow: {block: widen, repeat: 3, in: x}
  prior: {kind: standard_normal, in: grow}
"""

#: One node of each kind whose settings a box shows.
SETTINGS = """
flowspec: "1"
name: settings
inputs:
  x: {shape: [4], low: 0, high: 1}
nodes:
  squeeze: {kind: elementwise, fn: logit, alpha: 0.05, in: x}
  norm: {kind: actnorm, in: squeeze}
  mixed: {kind: shuffle, in: norm}
  explicit:
    kind: affine_coupling
    mask: [1, 0, 0, 1]
    net: {kind: mlp, hidden: [32], activation: tanh}
    in: mixed
  parts: {kind: split, sizes: [2, 2], in: explicit}
  left: {kind: reverse, in: parts.out0}
  right: {kind: reverse, in: parts.out1}
  joined: {kind: concat, in: [left, right]}
  drop: {kind: slice, keep: 1, decoder: {net: {kind: mlp, hidden: [8, 8]}}, in: joined}
  prior: {kind: standard_normal, in: drop}
"""

#: A name with every character that needs escaping somewhere (DOT, HTML labels, XML).
NASTY_NAME = "a \"quoted\" <b>bold</b> & 'single' \\ back\\slash\nsecond line"


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


def png_size(path: Path) -> tuple[int, int]:
    """Width and height in pixels, from the PNG header."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def svg_texts(path: Path) -> list[str]:
    root = ET.parse(path).getroot()
    return ["".join(element.itertext()) for element in root.iter() if element.tag.endswith("text")]


# --- DOT structure ----------------------------------------------------------------------


def test_every_node_outside_blocks_is_drawn_once(simple: FlowGraph) -> None:
    source = to_dot(simple, expand=True).source
    for node_id in simple.nodes:
        assert len(re.findall(rf"^\s*{node_id} \[", source, re.M)) == 1, node_id


def test_repeated_block_is_one_cluster_with_its_chain_once(simple: FlowGraph) -> None:
    source = to_dot(simple).source
    assert "subgraph cluster_body {" in source
    assert "label=<body: block step × 3>" in source
    assert "cluster_body__" not in source and "repetition" not in source
    # One box per block position, standing for every repetition.
    drawn = set(re.findall(r"^\s*(\w+) \[label=", source, re.M))
    assert drawn == {"x", "body_0_0", "body_0_1", "prior", "_legend"}
    assert "<B>body_0_0 … body_2_0</B>" in node_line(source, "body_0_0")
    assert "<B>body_0_1 … body_2_1</B>" in node_line(source, "body_0_1")
    # Wires to and from the use meet the folded chain; none runs between repetitions.
    edges = re.findall(r"^\s*(\w+) -> (\w+)", source, re.M)
    assert edges == [("x", "body_0_0"), ("body_0_0", "body_0_1"), ("body_0_1", "prior")]


def test_unrolled_block_use_is_a_cluster_of_repetitions(simple: FlowGraph) -> None:
    source = to_dot(simple, expand=True).source
    assert "subgraph cluster_body {" in source
    assert "label=<body: block step × 3>" in source
    for repetition in range(3):
        assert f"subgraph cluster_body__{repetition} {{" in source
        assert f"label=<repetition {repetition}>" in source
    # Each repetition cluster holds exactly its own nodes.
    cluster = source.split("subgraph cluster_body__1 {")[1].split("subgraph cluster_body__2")[0]
    assert "body_1_0 [" in cluster and "body_1_1 [" in cluster
    assert "body_0_0 [" not in cluster and "prior [" not in cluster
    assert "body_0_1 -> body_1_0" in source and "body_2_1 -> prior" in source
    assert "<B>body_1_0</B>" in node_line(source, "body_1_0")


def test_unrolled_drawing_is_taller(tmp_path: Path) -> None:
    require_dot()
    graph = flowspec.check(SPECS / "realnvp_moons.yaml").graph
    folded = png_size(render(graph, tmp_path / "folded.png").written)
    unrolled = png_size(render(graph, tmp_path / "unrolled.png", expand=True).written)
    assert unrolled[1] > 3 * folded[1]


def test_block_use_once_is_not_marked_repeated() -> None:
    graph = graph_of(SIMPLE.replace("repeat: 3", "repeat: 1"))
    source = to_dot(graph).source
    assert "label=<body: block step>" in source and "×" not in source


def test_shapes_that_change_between_repetitions_are_given_as_a_range() -> None:
    graph = graph_of(GROWING)
    line = node_line(to_dot(graph).source, "grow_0_0")
    assert "→ [3] … [5]" in line and "extra: 1" in line


def test_nodes_not_in_blocks_are_outside_clusters(simple: FlowGraph) -> None:
    source = to_dot(simple).source
    top = source.split("subgraph cluster_body {")[0]
    assert "x [" in top and "prior [" in top


def test_labels_show_id_kind_and_shapes(simple: FlowGraph) -> None:
    source = to_dot(simple).source
    line = node_line(source, "body_0_0")
    assert "<I>affine_coupling</I>" in line and "→ [2]" in line
    assert "[2]" in node_line(source, "x")


def test_labels_show_the_settings_that_matter(rich: FlowGraph) -> None:
    source = to_dot(rich).source
    assert "fn: tanh" in node_line(source, "squash")
    assert "sizes: [4, 6]" in node_line(source, "halves")
    assert "extra: 2" in node_line(source, "aug")
    coupling = node_line(source, "body_0_0")
    assert "net: mlp [64, 64] relu" in coupling
    assert "mask: half = 1111100000" in coupling
    assert "<I>conditional_normal</I>" in node_line(source, "p1")


def test_settings_of_each_kind(tmp_path: Path) -> None:
    source = to_dot(graph_of(SETTINGS)).source
    assert "fn: logit" in node_line(source, "squeeze") and "alpha: 0.05" in node_line(
        source, "squeeze"
    )
    assert "mask: 1001" in node_line(source, "explicit")
    assert "net: mlp [32] tanh" in node_line(source, "explicit")
    drop = node_line(source, "drop")
    assert "keep: 1 of 4, drops 3" in drop and "decoder: gaussian mlp [8, 8] relu" in drop


def test_defaults_the_user_did_not_write_stay_in_the_tooltip() -> None:
    source = to_dot(graph_of(SETTINGS)).source
    norm = node_line(source, "norm")
    assert "eps" not in norm.split("tooltip=")[0] and "eps: 1e-06" in norm
    mixed = node_line(source, "mixed")
    assert "seed" not in mixed.split("tooltip=")[0] and "seed: 0" in mixed


def test_long_ids_are_shortened_with_the_whole_id_in_the_tooltip() -> None:
    long_id = "a_very_long_node_identifier_that_would_stretch_the_box"
    graph = graph_of(SIMPLE.replace("prior:", f"{long_id}:"))
    line = node_line(to_dot(graph).source, long_id)
    bold = re.search(r"<B>(.*?)</B>", line).group(1)
    assert len(bold) <= MAX_ID and "…" in bold and bold.endswith("box")
    assert f'tooltip="{long_id}' in line


def test_edges_carry_port_and_shape_where_not_obvious(rich: FlowGraph) -> None:
    source = to_dot(rich).source
    assert "halves -> squash [label=<out0 [4]>]" in source
    assert "halves -> p1 [label=<out1 [6]>]" in source
    # A single output's shape is in its box already.
    assert re.search(r"^\s*aug -> body_0_0$", source, re.M)
    assert re.search(r"^\s*x -> aug$", source, re.M)


def test_edges_into_several_inputs_name_the_slot() -> None:
    source = to_dot(graph_of(SETTINGS)).source
    assert "left -> joined [label=<[2] → in0>]" in source
    assert "right -> joined [label=<[2] → in1>]" in source


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


def legend_of(source: str) -> str:
    return source.split("subgraph cluster__legend {")[1]


def test_palette_is_distinct() -> None:
    assert len(set(PALETTE.values())) == len(PALETTE)
    assert set(PALETTE) == {"input", "bijective", "surjective", "stochastic", "distribution"}


def test_legend_shows_only_the_categories_present(simple: FlowGraph, rich: FlowGraph) -> None:
    legend = legend_of(to_dot(simple).source)
    for category in ("input", "bijective", "distribution"):
        assert f'<TD BGCOLOR="{PALETTE[category]}">{category}</TD>' in legend
    assert "surjective" not in legend and "stochastic" not in legend
    assert "dashed edge" not in legend and "× N" in legend
    rich_legend = legend_of(to_dot(rich).source)
    category = rich.nodes["aug"].spec.category().value
    assert f'<TD BGCOLOR="{PALETTE[category]}">{category}</TD>' in rich_legend
    assert "dashed edge: context" in rich_legend


def test_title_names_the_spec_and_its_likelihood_class(simple: FlowGraph, rich: FlowGraph) -> None:
    assert simple.likelihood.label == "exact" and rich.likelihood.label == "lower bound"
    simple_title = to_dot(simple).source.splitlines()[1]
    assert "realnvp-moons" in simple_title and "log_prob is exact" in simple_title
    assert "lower bound" in to_dot(rich).source.splitlines()[1]


def test_layout_runs_top_to_bottom(simple: FlowGraph) -> None:
    assert "rankdir=TB" in to_dot(simple).source


def test_unknown_shapes_draw_as_question_marks(simple: FlowGraph) -> None:
    graph = copy.deepcopy(simple)
    for node in graph.nodes.values():
        node.input_info = node.output_info = None
    source = to_dot(graph).source
    assert "→ ?" in node_line(source, "body_0_0")
    assert "mask: half<" in node_line(source, "body_0_0")


# --- files ------------------------------------------------------------------------------


def test_svg_is_xml_with_every_node(simple: FlowGraph, tmp_path: Path) -> None:
    require_dot()
    result = render(simple, tmp_path / "flow.svg", expand=True)
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
        if rich.nodes[node_id].repetition in (None, 0):
            assert node_id in texts


@pytest.mark.parametrize("spec", sorted(SPECS.glob("*.yaml")), ids=lambda path: path.stem)
def test_bundled_spec_drawing_fits_a_screen(spec: Path, tmp_path: Path) -> None:
    require_dot()
    graph = flowspec.check(spec).graph
    width, height = png_size(render(graph, tmp_path / f"{spec.stem}.png").written)
    assert height <= MAX_HEIGHT, f"{spec.name} draws {width}x{height} px"


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


#: Ids a hand-built graph may hold (a spec's ids are identifiers): every DOT, HTML and
#: escString special character, a backslash before a quote, and a trailing backslash.
HOSTILE_IDS = {
    "x": 'x "in" <b>&amp;\nnext',
    "body_0_1": 'back\\"slash',
    "prior": "prior\\",
}


def relabelled(graph: FlowGraph, mapping: dict[str, str]) -> FlowGraph:
    graph = copy.deepcopy(graph)
    for old, node in graph.nodes.items():
        node.id = mapping.get(old, old)
    graph.nodes = {node.id: node for node in graph.nodes.values()}
    edges = Digraph(mapping.get(n, n) for n in graph.edges.nodes)
    for source, target, data in graph.edges.edges(data=True):
        edges.add_edge(mapping.get(source, source), mapping.get(target, target), **data)
    graph.edges = edges
    graph.inference_order = [mapping.get(i, i) for i in graph.inference_order]
    return graph


def test_hostile_ids_are_escaped_everywhere(simple: FlowGraph, tmp_path: Path) -> None:
    require_dot()
    graph = relabelled(simple, HOSTILE_IDS)
    source = to_dot(graph).source
    # In a quoted tooltip only quotes and backslashes are special.
    assert 'tooltip="x \\"in\\" <b>&amp;amp;\\nnext' in source
    assert 'tooltip="back\\\\\\"slash' in source
    assert "<B>x &quot;in&quot; &lt;b&gt;&amp;amp; next</B>" in source
    root = ET.parse(render(graph, tmp_path / "hostile.svg", expand=True).written).getroot()
    texts = svg_texts(tmp_path / "hostile.svg")
    tooltips = [
        value
        for element in root.iter()
        for key, value in element.attrib.items()
        if key.endswith("title")
    ]
    for hostile in HOSTILE_IDS.values():
        assert hostile.replace("\n", " ") in texts
        assert any(tip.startswith(f"{hostile}\n") for tip in tooltips), hostile
    # The chain is still wired: seven edges between eight boxes.
    assert len([e for e in root.iter() if e.get("class") == "edge"]) == 7


def test_cli_unroll_draws_every_repetition(tmp_path: Path) -> None:
    from flowspec.cli.render import render as render_command

    spec = tmp_path / "flow.yaml"
    spec.write_text(SIMPLE)
    for unroll, expected in ((False, 2), (True, 6)):
        output = tmp_path / f"flow{unroll}.gv"
        render_command(spec, output, unroll=unroll)
        assert len(re.findall(r"^\s*body_\d_\d \[", output.read_text(), re.M)) == expected


def test_readme_picture_is_current(tmp_path: Path) -> None:
    require_dot()
    readme = (SPECS.parent / "README.md").read_text(encoding="utf-8")
    picture = SPECS.parent / "examples" / "slice_multiscale.svg"
    assert f"]({picture.parent.name}/{picture.name})" in readme
    graph = flowspec.check(SPECS / "slice_multiscale.yaml").graph
    fresh = render(graph, tmp_path / "fresh.svg").written
    assert svg_texts(picture) == svg_texts(fresh), (
        "regenerate it: flowspec render specs/slice_multiscale.yaml -o examples/slice_multiscale.svg"
    )


#: What the drawing modules may import from flowspec: the torch-free spec layer only.
SPEC_LAYER = ("flowspec.core", "flowspec.graph", "flowspec.spec", "flowspec.render")


@pytest.mark.parametrize(
    "module", sorted((SPECS.parent / "flowspec" / "render").glob("*.py")), ids=lambda p: p.stem
)
def test_drawing_modules_import_no_torch(module: Path) -> None:
    tree = ast.parse(module.read_text(encoding="utf-8"))
    names = [
        alias.name for node in tree.body if isinstance(node, ast.Import) for alias in node.names
    ]
    names += [node.module or "" for node in tree.body if isinstance(node, ast.ImportFrom)]
    for name in names:
        top = name.split(".")[0]
        assert top not in {"torch", "numpy", "sklearn"}, f"{module.name} imports {name}"
        assert top != "flowspec" or name.startswith(SPEC_LAYER), f"{module.name} imports {name}"


def test_context_of_a_folded_block_use_is_one_dashed_edge() -> None:
    text = SIMPLE.replace(
        "  x: {shape: [2]}", "  x: {shape: [2]}\n  y: {shape: [3], context: true}"
    ).replace("repeat: 3, in: x}", "repeat: 3, in: x, context: y}")
    graph = graph_of(text)
    assert sum(data["kind"] == "context" for *_, data in graph.edges.edges(data=True)) == 6
    source = to_dot(graph).source
    context = [
        line.strip() for line in source.splitlines() if "style=dashed" in line and "->" in line
    ]
    assert context == [
        "y -> body_0_0 [label=<context> style=dashed]",
        "y -> body_0_1 [label=<context> style=dashed]",
    ]
    assert "dashed box: context input" in legend_of(source)
    assert "<I>context input</I> [3]" in node_line(source, "y")


def test_long_settings_are_shortened_in_the_box() -> None:
    widths = ", ".join(["1024"] * 6)
    graph = graph_of(SIMPLE.replace("hidden: [8]", f"hidden: [{widths}], activation: leaky_relu"))
    label = node_line(to_dot(graph).source, "body_0_0").split("tooltip=")[0]
    # Two lines broken between words, every number whole (not 'mlp [10…24]').
    first, second = re.findall(r'<FONT POINT-SIZE="9">([^<]*)</FONT>', label)[-2:]
    assert first == "net: mlp [1024, 1024, 1024, 1024, 1024, 1024]" and second == "leaky_relu"
    widths = ", ".join(["1024"] * 40)  # too long for two lines: the second is cut in the middle
    graph = graph_of(SIMPLE.replace("hidden: [8]", f"hidden: [{widths}], activation: leaky_relu"))
    label = node_line(to_dot(graph).source, "body_0_0").split("tooltip=")[0]
    first, second = re.findall(r'<FONT POINT-SIZE="9">([^<]*)</FONT>', label)[-2:]
    assert first.startswith("net: mlp [1024, 1024,") and "…" not in first
    assert len(first) <= render_module.MAX_SETTING and len(second) <= render_module.MAX_SETTING
    assert "…" in second and second.endswith("leaky_relu")
