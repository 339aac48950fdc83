"""The compiler's error reporting, end to end: one bad spec per mistake under
``tests/bad_specs/``, each checked for its code, node, ``line:col``, message and hint.

Each bad spec makes exactly one mistake, so each must produce exactly one diagnostic: a
second one would be a consequence reported as if it were a mistake of its own.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

import flowspec
from flowspec.diagnostics import Diagnostic, SpecError

BAD_SPECS = Path(__file__).parent / "bad_specs"


def diagnostics_of(source: str | Path) -> list[Diagnostic]:
    """The diagnostics of a spec that must fail to check."""
    with pytest.raises(SpecError) as caught:
        flowspec.check(source)
    return caught.value.diagnostics


def only_diagnostic(name: str) -> Diagnostic:
    diagnostics = diagnostics_of(BAD_SPECS / f"{name}.yaml")
    assert len(diagnostics) == 1, "\n".join(str(d) for d in diagnostics)
    return diagnostics[0]


@dataclass(frozen=True)
class Expected:
    """What the one diagnostic of a bad spec must say, and where."""

    code: str
    node: str | None
    line: int
    col: int
    #: Fragments of the message: what was expected and what was found.
    says: tuple[str, ...]
    #: A fragment of the hint, or None when the diagnostic has no hint.
    hint: str | None = None


CASES: dict[str, Expected] = {
    # --- reading the file ---------------------------------------------------------------
    "yaml_syntax_error": Expected(
        "E003",
        None,
        5,
        1,
        ("invalid YAML", "expected ',' or '}'"),
        "flow mapping at line 4, column 6",
    ),
    "empty_file": Expected("E004", None, 1, 1, ("spec is empty",)),
    "duplicate_key": Expected(
        "E006", None, 6, 62, ("duplicate key 'scale_bound'",), "first defined at line 6, column 44"
    ),
    "duplicate_node_id": Expected(
        "E006", None, 8, 3, ("duplicate key 'layer'",), "first defined at line 6, column 3"
    ),
    "recursive_alias": Expected("E007", None, 4, 32, ("recursive alias",), "anchor"),
    # --- names ----------------------------------------------------------------------------
    "node_id_not_identifier": Expected(
        "E107", "my-node", 6, 3, ("'my-node' is not a valid name",), "single underscores"
    ),
    "node_id_reserved": Expected("E107", "self", 6, 3, ("'self' is not a valid name",), "self"),
    "node_id_double_underscore": Expected(
        "E107", "coupling__1", 6, 3, ("'coupling__1' is not a valid name",), "single underscores"
    ),
    "input_named_like_node": Expected(
        "E108", "x", 7, 3, ("'x' names both an input and a node",), "rename"
    ),
    "block_id_collision": Expected(
        "E210", "body", 11, 3, ("block use 'body'", "'body_0_0'", "already"), "rename 'body_0_0'"
    ),
    # --- fields and values ----------------------------------------------------------------
    "unknown_kind": Expected(
        "E106",
        "coupling",
        6,
        14,
        ("unknown node kind 'afine_coupling'",),
        "did you mean 'affine_coupling'?",
    ),
    "relu_kind": Expected("E106", "act", 6, 9, ("unknown node kind 'relu'",), "leaky_relu"),
    "unknown_node_field": Expected(
        "E102", "coupling", 9, 5, ("unknown field 'scale_bond'",), "did you mean 'scale_bound'?"
    ),
    "unknown_net_field": Expected(
        "E102", "coupling", 9, 22, ("unknown field 'hiden'",), "did you mean 'hidden'?"
    ),
    "unknown_top_level_field": Expected(
        "E102",
        None,
        3,
        1,
        ("unknown top-level field 'descripton'",),
        "did you mean 'description'?",
    ),
    "wrong_type_hidden": Expected(
        "E104", "coupling", 9, 31, ("invalid value 'a'", "net.hidden[0]", "integer")
    ),
    "wrong_type_scale_bound": Expected(
        "E104", "coupling", 6, 44, ("invalid value 'big'", "'scale_bound'", "number")
    ),
    "wrong_type_shape": Expected(
        "E104", None, 4, 7, ("invalid value 2", "'shape'", "list"), "e.g. [2]"
    ),
    "missing_input_shape": Expected(
        "E103", None, 4, 3, ("missing required field 'shape'",), "shape"
    ),
    "input_shape_too_large": Expected(
        "E104", None, 4, 15, ("invalid value 100000000000", "expected at most 16777216")
    ),
    # --- blocks ---------------------------------------------------------------------------
    "block_element_with_in": Expected(
        "E109",
        "step",
        8,
        23,
        ("inside a block takes its input from the node before it",),
        "remove 'in'",
    ),
    "unknown_block": Expected(
        "E111", "body", 10, 10, ("unknown block 'stpe'",), "did you mean 'step'?"
    ),
    # --- references and port usage --------------------------------------------------------
    "unknown_reference": Expected(
        "E201", "prior", 7, 34, ("unknown reference 'bdy'",), "did you mean 'body'?"
    ),
    "unknown_port": Expected(
        "E202", "second", 8, 35, ("no output port 'out7'", "out0, out1"), "did you mean"
    ),
    "ambiguous_port": Expected(
        "E202", "second", 8, 35, ("'s' has 2 outputs (out0, out1)",), "'s.out0'"
    ),
    "dangling_output": Expected(
        "E203", "s", 6, 3, ("output 's.out1' is never used",), "in: s.out1"
    ),
    "unused_data_input": Expected("E203", "y", 5, 3, ("data input 'y' is never used",), "in: y"),
    "port_used_twice": Expected(
        "E205", "again", 8, 34, ("'body.z' is used twice", "first by 'prior'"), "split"
    ),
    "no_distribution": Expected("E206", None, 5, 1, ("no distribution",), "standard_normal"),
    # --- shapes, invertibility and domains (the node kinds' own checks) -----------------------
    "coupling_mask_length": Expected(
        "E403", "coupling", 6, 44, ("mask has 3 entries", "4 features")
    ),
    "elementwise_relu": Expected(
        "E421", "act", 6, 28, ("fn 'relu' is not strictly monotone",), "leaky_relu"
    ),
    # Found by fuzzing: float32 (the model's dtype) held these as 0, a relu-like map.
    "scale_underflows_float32": Expected(
        "E423",
        "shrink",
        6,
        48,
        ("nonzero scale whose inverse float32 can hold", "got 1e-46"),
        "nonzero scale",
    ),
    "leaky_relu_slope_underflows_float32": Expected(
        "E424", "bend", 6, 61, ("negative_slope > 0 whose inverse float32", "got 1e-40"), "0.01"
    ),
    "logit_of_real_values": Expected(
        "E422", "squash", 6, 42, ("fn 'logit' needs inputs in", "lives in real"), "sigmoid"
    ),
    "split_sizes_sum": Expected(
        "E452",
        "parts",
        6,
        31,
        ("sizes [2, 3] add up to 5", "[6] has 6 features"),
        "add up to 6",
    ),
    "concat_shape_mismatch": Expected(
        "E458", "joined", 7, 34, ("input 0 is [2, 3]", "input 1 is [2, 4]"), "first entry"
    ),
    "slice_keeps_too_many": Expected(
        "E466", "kept", 6, 30, ("4 features", "keep: 6"), "between 1 and 3"
    ),
    "squeeze_odd_size": Expected(
        "E651", "coarse", 6, 34, ("divisible by 2", "H = 7"), "divides both sizes"
    ),
    "affine_coupling_discrete_input": Expected(
        "E410",
        "coupling",
        6,
        37,
        ("map of continuous values", "discrete {0..255}"),
        "uniform_dequantization",
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_spec_reports_its_mistake(name: str) -> None:
    expected = CASES[name]
    diagnostic = only_diagnostic(name)
    assert diagnostic.code == expected.code, str(diagnostic)
    assert diagnostic.severity == "error"
    assert diagnostic.node == expected.node, str(diagnostic)
    assert diagnostic.location is not None, str(diagnostic)
    assert diagnostic.location.file == str(BAD_SPECS / f"{name}.yaml")
    assert (diagnostic.location.line, diagnostic.location.col) == (expected.line, expected.col), (
        str(diagnostic)
    )
    for fragment in expected.says:
        assert fragment in diagnostic.message, str(diagnostic)
    if expected.hint is None:
        assert diagnostic.hint is None, str(diagnostic)
    else:
        assert diagnostic.hint is not None and expected.hint in diagnostic.hint, str(diagnostic)


def test_formatted_error_shows_location_code_node_and_hint() -> None:
    path = BAD_SPECS / "unknown_kind.yaml"
    with pytest.raises(SpecError) as caught:
        flowspec.check(path)
    text = caught.value.format()
    assert f"{path}:6:14: error[E106]: node 'coupling': unknown node kind" in text
    assert "at nodes.coupling.kind" in text
    assert "hint: did you mean 'affine_coupling'?" in text
    assert text.endswith("1 error found")


@pytest.mark.parametrize(
    ("fields", "path", "typo", "meant"),
    [
        ("kind: affine_coupling, net: {hiden: [8]}", "net", "hiden", "hidden"),
        ("kind: coupling, conditioner: {hiden: [8]}", "conditioner", "hiden", "hidden"),
        ("kind: autoregressive, conditioner: {hiden: [8]}", "conditioner", "hiden", "hidden"),
        ("kind: slice, keep: 1, decoder: {net: {hiden: [8]}}", "decoder.net", "hiden", "hidden"),
        ("kind: augment, extra: 1, encoder: {nett: {hidden: [8]}}", "encoder", "nett", "net"),
    ],
)
def test_typo_in_a_part_without_kind_gets_a_did_you_mean(
    fields: str, path: str, typo: str, meant: str
) -> None:
    """A conditioner or density written without ``kind`` is its field's default kind, and
    a misspelt field in it is matched against that kind's fields (not an empty list)."""
    (diagnostic,) = diagnostics_of(
        spec(f"{{a: {{{fields}, in: x}}, p: {{kind: standard_normal, in: a}}}}")
    )
    assert diagnostic.code == "E102", str(diagnostic)
    assert diagnostic.path == ("nodes", "a", *path.split("."), typo), str(diagnostic)
    assert diagnostic.hint == f"did you mean '{meant}'?", str(diagnostic)


def test_cycle_is_printed_as_a_path() -> None:
    diagnostic = only_diagnostic("cycle")
    assert diagnostic.code == "E207"
    match = re.search(r"cycle: (\w+) -> (\w+) -> (\w+)$", diagnostic.message)
    assert match, diagnostic.message
    start, middle, end = match.groups()
    assert start == end and {start, middle} == {"a", "b"}
    lines = {"a": 6, "b": 7}
    assert diagnostic.node == start
    assert diagnostic.location is not None and diagnostic.location.line == lines[start]
    assert diagnostic.hint is not None and "acyclic" in diagnostic.hint


def test_all_mistakes_of_a_spec_are_reported_at_once() -> None:
    diagnostics = diagnostics_of(BAD_SPECS / "several_mistakes.yaml")
    assert len(diagnostics) == 4, "\n".join(str(d) for d in diagnostics)
    found = {d.node: (d.code, d.location.line if d.location else None) for d in diagnostics}
    assert found == {
        "a": ("E106", 9),
        "b": ("E466", 11),
        "c": ("E421", 13),
        "d": ("E201", 15),
    }
    assert next(d for d in diagnostics if d.node == "d").hint == "did you mean 'w'?"


def test_warnings_alone_do_not_stop_compilation() -> None:
    checked = flowspec.check(BAD_SPECS / "sigmoid_into_standard_normal.yaml")
    (warning,) = checked.warnings
    assert warning.code == "W501" and warning.severity == "warning"
    assert warning.node == "prior"
    assert warning.location is not None and warning.location.line == 7
    assert "(0, 1)" in warning.message
    assert warning.hint is not None and "logit" in warning.hint
    assert [node.id for node in checked.graph.terminals] == ["prior"]


# --- untrusted YAML -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tag",
    [
        "!!python/object/apply:os.system",
        "!!python/object/new:os.system",
        "!!python/object:os.system",
        "!!python/name:os.system",
    ],
)
def test_python_tags_are_rejected_without_running_anything(tmp_path: Path, tag: str) -> None:
    marker = tmp_path / "pwned"
    spec = tmp_path / "python_tag.yaml"
    spec.write_text(
        'flowspec: "1"\n'
        "name: python-tag\n"
        "inputs:\n"
        "  x: {shape: [2]}\n"
        "nodes:\n"
        f'  prior: {tag} ["touch {marker}"]\n'
    )
    diagnostics = diagnostics_of(spec)
    assert not marker.exists()
    assert [d.code for d in diagnostics] == ["E002"]
    (diagnostic,) = diagnostics
    assert tag in diagnostic.message
    assert diagnostic.location is not None
    assert (diagnostic.location.line, diagnostic.location.col) == (6, 10)
    assert diagnostic.hint is not None and "plain data" in diagnostic.hint


@pytest.mark.parametrize("name", ["billion_laughs", "recursive_alias"])
def test_alias_bombs_are_rejected_without_expanding(name: str) -> None:
    start = time.process_time()
    diagnostics = diagnostics_of(BAD_SPECS / f"{name}.yaml")
    elapsed = time.process_time() - start
    # A guard against expansion (minutes of CPU), not a speed target: CPU time, generous.
    assert elapsed < 20.0, f"took {elapsed:.2f} CPU s"
    assert [d.code for d in diagnostics] == ["E007"]


def test_billion_laughs_is_located_at_the_expanding_alias() -> None:
    diagnostic = only_diagnostic("billion_laughs")
    assert "more than" in diagnostic.message
    assert diagnostic.location is not None and 3 <= diagnostic.location.line <= 11
    assert diagnostic.hint is not None and "alias" in diagnostic.hint


# --- weird input never crashes the checker ----------------------------------------------------

HEAD = 'flowspec: "1"\nname: weird\n'
X = "{x: {shape: [2]}}"
CX = "{x: {shape: [2]}, c: {shape: [2], context: true}}"
STEP = "{step: [{kind: reverse}]}"
PRIOR = "prior: {kind: standard_normal, in: x}"


def spec(nodes: str, inputs: str = X, blocks: str | None = None, head: str = HEAD) -> str:
    """A spec from flow-style YAML for its sections."""
    text = f"{head}inputs: {inputs}\n"
    if blocks is not None:
        text += f"blocks: {blocks}\n"
    return text + f"nodes: {nodes}\n"


def prior_of(node: str, source: str = "x", **node_fields: str) -> str:
    """Nodes ``{node: {<fields>, in: source}, p: standard_normal of node}``, flow-style."""
    fields = "".join(f"{key}: {value}, " for key, value in node_fields.items())
    return f"{{{node}: {{{fields}in: {source}}}, p: {{kind: standard_normal, in: {node}}}}}"


WEIRD: dict[str, str] = {
    "nodes is a list": spec("[1, 2]"),
    "nodes is null": spec(""),
    "nodes is empty": spec("{}"),
    "inputs is a list": spec(f"{{{PRIOR}}}", inputs="[x]"),
    "inputs is empty": spec(f"{{{PRIOR}}}", inputs="{}"),
    "input is a number": spec(f"{{{PRIOR}}}", inputs="{x: 5}"),
    "input is null": spec(f"{{{PRIOR}}}", inputs="{x: }"),
    "input name is a number": spec(
        "{p: {kind: standard_normal, in: 1}}", inputs="{1: {shape: [2]}}"
    ),
    "shape is empty": spec(f"{{{PRIOR}}}", inputs="{x: {shape: []}}"),
    "shape is negative": spec(f"{{{PRIOR}}}", inputs="{x: {shape: [-2]}}"),
    "low is nan": spec(f"{{{PRIOR}}}", inputs="{x: {shape: [2], low: .nan}}"),
    "low equals high": spec(f"{{{PRIOR}}}", inputs="{x: {shape: [2], low: 1.5, high: 1.5}}"),
    "low is inf": spec(f"{{{PRIOR}}}", inputs="{x: {shape: [2], low: -.inf}}"),
    "in is nested": spec("{prior: {kind: standard_normal, in: [[x]]}}"),
    "in is a number": spec("{prior: {kind: standard_normal, in: 3}}"),
    "in is empty": spec("{prior: {kind: standard_normal, in: ''}}"),
    "in is an empty list": spec(prior_of("j", kind="concat", source="[]")),
    "in holds null": spec("{prior: {kind: standard_normal, in: [null]}}"),
    "in names a port of an input": spec("{prior: {kind: standard_normal, in: x.z}}"),
    "in names a distribution": spec(f"{{{PRIOR}, q: {{kind: standard_normal, in: prior}}}}"),
    "context is a number": spec("{prior: {kind: standard_normal, in: x, context: 5}}"),
    "context on a kind without one": spec(
        prior_of("r", kind="reverse", context="c", source="x"), inputs=CX
    ),
    "context is a data input": spec(
        prior_of("a", kind="affine_coupling", context="c", source="x"),
        inputs="{x: {shape: [2]}, c: {shape: [2]}}",
    ),
    "context input used as data": spec(
        "{p: {kind: conditional_normal, in: c, context: c}}",
        inputs="{c: {shape: [2], context: true}}",
    ),
    "node is a string": spec("{prior: standard_normal}"),
    "node is null": spec("{prior: }"),
    "node is a list": spec("{prior: [standard_normal, x]}"),
    "node id is a number": spec("{1: {kind: standard_normal, in: x}}"),
    "node id is a keyword": spec("{class: {kind: standard_normal, in: x}}"),
    "kind is a list": spec("{prior: {kind: [standard_normal], in: x}}"),
    "kind is null": spec("{prior: {kind: null, in: x}}"),
    "kind and block": spec(prior_of("b", kind="reverse", block="step", source="x"), blocks=STEP),
    "missing in": spec(f"{{r: {{kind: reverse}}, {PRIOR}}}"),
    "node reads itself": spec(f"{{r: {{kind: reverse, in: r}}, {PRIOR}}}"),
    "net is a string": spec(prior_of("a", kind="affine_coupling", net="mlp", source="x")),
    "mask of strings": spec(prior_of("a", kind="affine_coupling", mask="[a, b]", source="x")),
    "fn is a number": spec(prior_of("e", kind="elementwise", fn="3", source="x")),
    "repeat is 0": spec(prior_of("b", block="step", repeat="0", source="x"), blocks=STEP),
    "repeat is huge": spec(
        prior_of("b", block="step", repeat="100000000", source="x"), blocks=STEP
    ),
    "block use with two inputs": spec(prior_of("b", block="step", source="[x, x]"), blocks=STEP),
    "block use with no input": spec(prior_of("b", block="step", source="[]"), blocks=STEP),
    "block use of a number": spec(prior_of("b", block="1", source="x"), blocks=STEP),
    "block use reads itself": spec(f"{{b: {{block: step, in: b}}, {PRIOR}}}", blocks=STEP),
    "blocks is a list": spec(f"{{{PRIOR}}}", blocks="[1]"),
    "block is empty": spec(prior_of("b", block="step", source="x"), blocks="{step: []}"),
    "block element is a string": spec(
        prior_of("b", block="step", source="x"), blocks="{step: [reverse]}"
    ),
    "block using itself": spec(
        prior_of("b", block="step", source="x"), blocks="{step: [{block: step}]}"
    ),
    "distribution in a block": spec(
        "{b: {block: step, in: x}}", blocks="{step: [{kind: standard_normal}]}"
    ),
    "version is a number": spec(f"{{{PRIOR}}}", head="flowspec: 2\nname: weird\n"),
    "version is a float": spec(f"{{{PRIOR}}}", head="flowspec: 1.0\nname: weird\n"),
    "name is a number": spec(f"{{{PRIOR}}}", head='flowspec: "1"\nname: 5\n'),
    "only a version": 'flowspec: "1"\n',
    "top level is a list": "- 1\n- 2\n",
    "top level is a string": "just text\n",
    "unclosed bracket": "name: [\n",
    "tab indentation": HEAD + "inputs:\n\tx: {shape: [2]}\n",
    "merge key": HEAD + f"base: &b {{shape: [2]}}\ninputs: {{x: {{<<: *b}}}}\nnodes: {{{PRIOR}}}\n",
    "mapping as a key": spec("{{a: 1}: {kind: standard_normal, in: x}}"),
}


#: Expected code of each weird input (the first diagnostic's).
WEIRD_CODES: dict[str, str] = {
    "nodes is a list": "E104",
    "nodes is null": "E103",
    "nodes is empty": "E103",
    "inputs is a list": "E104",
    "inputs is empty": "E103",
    "input is a number": "E104",
    "input is null": "E104",
    "input name is a number": "E107",
    "shape is empty": "E104",
    "shape is negative": "E104",
    "low is nan": "E104",
    "low equals high": "E112",
    "low is inf": "E104",
    "in is nested": "E104",
    "in is a number": "E104",
    "in is empty": "E211",
    "in is an empty list": "E211",
    "in holds null": "E104",
    "in names a port of an input": "E202",
    "in names a distribution": "E201",
    "context is a number": "E104",
    "context on a kind without one": "E213",
    "context is a data input": "E204",
    "context input used as data": "E204",
    "node is a string": "E101",
    "node is null": "E101",
    "node is a list": "E101",
    "node id is a number": "E107",
    "node id is a keyword": "E107",
    "kind is a list": "E104",
    "kind is null": "E105",
    "kind and block": "E101",
    "missing in": "E211",
    "node reads itself": "E207",
    "net is a string": "E104",
    "mask of strings": "E104",
    "fn is a number": "E104",
    "repeat is 0": "E104",
    "repeat is huge": "E214",
    "block use with two inputs": "E212",
    "block use with no input": "E212",
    "block use of a number": "E104",
    "block use reads itself": "E207",
    "blocks is a list": "E104",
    "block is empty": "E104",
    "block element is a string": "E101",
    "block using itself": "E658",
    "distribution in a block": "E110",
    "version is a number": "E104",
    "version is a float": "E104",
    "name is a number": "E104",
    "only a version": "E103",
    "top level is a list": "E005",
    "top level is a string": "E005",
    "unclosed bracket": "E003",
    "tab indentation": "E003",
    "merge key": "E008",
    "mapping as a key": "E008",
}


@pytest.mark.parametrize("case", list(WEIRD))
def test_weird_input_raises_spec_error_only(case: str) -> None:
    try:
        flowspec.check(WEIRD[case])
    except SpecError as error:
        diagnostics = error.diagnostics
    else:
        pytest.fail("the spec was accepted")
    assert diagnostics and any(d.severity == "error" for d in diagnostics)
    assert diagnostics[0].code == WEIRD_CODES[case], "\n".join(map(str, diagnostics))
    for diagnostic in diagnostics:
        assert re.fullmatch(r"[EW]\d{3}", diagnostic.code), diagnostic
        assert diagnostic.message
        assert diagnostic.format()


# --- the bad specs and this file stay in step ---------------------------------------------------

COVERED_ELSEWHERE = {"cycle", "several_mistakes", "sigmoid_into_standard_normal", "billion_laughs"}


def test_every_bad_spec_is_tested() -> None:
    files = {path.stem for path in BAD_SPECS.glob("*.yaml")}
    assert files == set(CASES) | COVERED_ELSEWHERE
