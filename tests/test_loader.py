"""Tests for flowspec.spec.loader: safe, located YAML loading."""

from __future__ import annotations

import math
import time
from pathlib import Path

import pytest

import flowspec.spec.loader as loader_module
from flowspec.diagnostics import Diagnostic, Location, SpecError
from flowspec.spec.loader import (
    MAX_DEPTH,
    LoadedSpec,
    SourceMap,
    load_spec_file,
    load_spec_text,
)


def errors_of(text: str, file: str = "spec.yaml") -> list[Diagnostic]:
    with pytest.raises(SpecError) as caught:
        load_spec_text(text, file)
    return caught.value.diagnostics


def only_error(text: str) -> Diagnostic:
    diagnostics = errors_of(text)
    assert len(diagnostics) == 1, [str(d) for d in diagnostics]
    return diagnostics[0]


def at(line: int, col: int, file: str = "spec.yaml") -> Location:
    return Location(file, line, col)


# --- E001: unreadable files -------------------------------------------------------------


def test_missing_file_is_e001(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    with pytest.raises(SpecError) as caught:
        load_spec_file(path)
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == "E001"
    assert str(path) in diagnostic.message
    assert "No such file" in diagnostic.message
    assert diagnostic.location is None  # there is no file to point into


def test_directory_is_e001(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as caught:
        load_spec_file(tmp_path)
    assert [d.code for d in caught.value.diagnostics] == ["E001"]


def test_non_utf8_file_is_e001_located_at_the_bad_byte(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("a: 1\nname: café\n".encode("latin-1"))
    with pytest.raises(SpecError) as caught:
        load_spec_file(path)
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == "E001"
    assert "UTF-8" in diagnostic.message
    assert diagnostic.location == Location(str(path), 2, 10)


def test_load_spec_file_reads_utf8_with_bom(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_bytes("\ufeffname: café\n".encode("utf-8"))
    for spec_path in (path, str(path)):
        spec = load_spec_file(spec_path)
        assert isinstance(spec, LoadedSpec)
        assert spec.data == {"name": "café"}
        assert spec.source.file == str(path)
        assert spec.source.locate(("name",)) == Location(str(path), 1, 1)


# --- E002: tags --------------------------------------------------------------------------


def test_python_tag_is_rejected_and_never_executed(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = f'ok: 1\nrun: !!python/object/apply:os.system ["touch {marker}"]\n'
    path = tmp_path / "evil.yaml"
    path.write_text(text)
    with pytest.raises(SpecError) as caught:
        load_spec_file(path)
    (diagnostic,) = caught.value.diagnostics
    assert diagnostic.code == "E002"
    assert "!!python/object/apply:os.system" in diagnostic.message
    assert diagnostic.location == Location(str(path), 2, 6)
    assert diagnostic.path == ("run",)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("text", "line", "col", "words"),
    [
        ("a: !!python/name:os.system\n", 1, 4, "!!python/name:os.system"),
        ("a: 1\nb: !custom 3\n", 2, 4, "'!custom'"),
        ("a: !!set {x, y}\n", 1, 4, "'!!set'"),
        ("a: !!binary aGVsbG8=\n", 1, 4, "'!!binary'"),
        ("a: !!map [1, 2]\n", 1, 4, "'!!map' is not allowed on a sequence"),
        ("a:\n  - !!int abc\n", 2, 5, "'abc' is not a valid !!int"),
        ("a: !!bool yes\n", 1, 4, "'yes' is not a valid !!bool"),
        ("!!python/name:os.system : 1\n", 1, 1, "!!python/name:os.system"),
    ],
)
def test_unknown_or_misused_tags_are_e002(text: str, line: int, col: int, words: str) -> None:
    diagnostic = only_error(text)
    assert diagnostic.code == "E002"
    assert words in diagnostic.message
    assert diagnostic.location == at(line, col)


def test_allowed_explicit_tags() -> None:
    text = (
        "a: !!int '12'\nb: !!str 12\nc: !!float 3\nd: !!bool true\ne: !!null ~\n"
        "f: !!seq [1]\ng: !!map {x: 1}\n"
    )
    assert load_spec_text(text).data == {
        "a": 12,
        "b": "12",
        "c": 3.0,
        "d": True,
        "e": None,
        "f": [1],
        "g": {"x": 1},
    }


# --- E003: syntax ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "col", "problem"),
    [
        ("a: [1, 2\nb: 3\n", 2, 2, "expected ',' or ']', but got ':'"),
        ("a: b: c\n", 1, 5, "mapping values are not allowed here"),
        ("a: 1\n\tb: 2\n", 2, 1, "found character '\\t' that cannot start any token"),
        ("a: 1\nb: *nowhere\n", 2, 4, "found undefined alias 'nowhere'"),
        ("a: 1\n---\nb: 2\n", 2, 1, "but found another document"),
        ("a: 1\nb: x\x07\n", 2, 5, "unacceptable character #x0007"),
    ],
)
def test_syntax_errors_are_e003(text: str, line: int, col: int, problem: str) -> None:
    diagnostic = only_error(text)
    assert diagnostic.code == "E003"
    assert problem in diagnostic.message
    assert diagnostic.location == at(line, col)


def test_syntax_error_hint_gives_context() -> None:
    diagnostic = only_error("a: {b: 1\n")
    assert diagnostic.hint == "while parsing a flow mapping at line 1, column 4"


# --- E004 / E005: top level -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line", "col"),
    [("", 1, 1), ("# only\n# comments\n", 1, 1), ("null\n", 1, 1), ("~\n", 1, 1), ("---\n", 2, 1)],
)
def test_empty_spec_is_e004(text: str, line: int, col: int) -> None:
    diagnostic = only_error(text)
    assert (diagnostic.code, diagnostic.message) == ("E004", "spec is empty")
    assert diagnostic.location == at(line, col)


@pytest.mark.parametrize(
    ("text", "line", "found"),
    [
        ("- a\n- b\n", 1, "a list"),
        ("# header\njust text\n", 2, "a string"),
        ("3.5\n", 1, "a number"),
        ("true\n", 1, "a boolean"),
    ],
)
def test_non_mapping_top_level_is_e005(text: str, line: int, found: str) -> None:
    diagnostic = only_error(text)
    assert diagnostic.code == "E005"
    assert diagnostic.message.endswith(f"found {found}")
    assert diagnostic.location == at(line, 1)


# --- E006: duplicate keys ----------------------------------------------------------------


def test_every_duplicate_key_is_e006_at_its_second_occurrence() -> None:
    text = "a: 1\nb:\n  c: 1\n  d: 2\n  c: 3\na: 4\ne: {x: 1, x: 2}\n"
    diagnostics = errors_of(text)
    assert [(d.code, d.message, d.path, d.location) for d in diagnostics] == [
        ("E006", "duplicate key 'c'", ("b", "c"), at(5, 3)),
        ("E006", "duplicate key 'a'", ("a",), at(6, 1)),
        ("E006", "duplicate key 'x'", ("e", "x"), at(7, 11)),
    ]
    assert [d.hint for d in diagnostics] == [
        "first defined at line 3, column 3; remove one of the two",
        "first defined at line 1, column 1; remove one of the two",
        "first defined at line 7, column 5; remove one of the two",
    ]


def test_duplicate_inside_an_aliased_mapping_is_reported_once() -> None:
    diagnostics = errors_of("d: &d {x: 1, x: 2}\ne: [*d, *d]\n")
    assert [(d.code, d.location) for d in diagnostics] == [("E006", at(1, 14))]


def test_all_kinds_of_problems_are_reported_together() -> None:
    text = "a: 1\na: 2\nb: !!python/name:os.system\nc: {[1]: 2}\n"
    assert [(d.code, d.location) for d in errors_of(text)] == [
        ("E006", at(2, 1)),
        ("E002", at(3, 4)),
        ("E008", at(4, 5)),
    ]


# --- E007: aliases -----------------------------------------------------------------------


def test_aliases_build_fresh_copies() -> None:
    spec = load_spec_text("base: &b {hidden: [64, 64]}\nx: *b\ny: *b\n")
    assert spec.data["x"] == spec.data["y"] == {"hidden": [64, 64]}
    spec.data["x"]["hidden"].append(1)
    assert spec.data["y"]["hidden"] == [64, 64]
    assert spec.data["base"]["hidden"] == [64, 64]
    # the alias itself is located at `*b`, what it expands to at the anchored definition
    assert spec.source.values[("y",)] == (3, 4)
    assert spec.source.locate(("y", "hidden")) == Location("<string>", 1, 11)
    assert spec.source.locate(("y", "hidden", 1)) == Location("<string>", 1, 24)


@pytest.mark.parametrize(
    ("text", "line", "col"),
    [("a: &x [*x]\n", 1, 8), ("a: 1\nb: &x\n  c: [1, {d: *x}]\n", 3, 14)],
)
def test_recursive_alias_is_e007(text: str, line: int, col: int) -> None:
    diagnostic = only_error(text)
    assert diagnostic.code == "E007"
    assert "recursive alias" in diagnostic.message
    assert diagnostic.location == at(line, col)


def test_billion_laughs_is_e007_without_expanding() -> None:
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    start = time.process_time()
    diagnostic = only_error("\n".join(lines) + "\n")
    # Expanding the 9**9 values would take minutes of CPU and gigabytes; a generous CPU-time
    # guard (not a speed target: the machine may be loaded) tells the two apart.
    assert time.process_time() - start < 20.0
    assert diagnostic.code == "E007"
    assert "more than 100000 values" in diagnostic.message
    # pointed at the outermost alias whose expansion crossed the limit
    assert diagnostic.location is not None and diagnostic.location.line in range(2, 10)
    assert diagnostic.location.col == 8


def test_too_deep_nesting_is_e007() -> None:
    depth = MAX_DEPTH + 5
    diagnostic = only_error("a: " + "[" * depth + "]" * depth + "\n")
    assert diagnostic.code == "E007"
    assert diagnostic.location == at(1, 4 + MAX_DEPTH)


def test_nesting_too_deep_for_the_composer_is_e007() -> None:
    diagnostic = only_error("a: " + "[" * 2000 + "]" * 2000 + "\n")
    assert diagnostic.code == "E007"
    assert diagnostic.location is not None and diagnostic.location.line == 1


# --- scalars: YAML 1.2 core schema -------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1e-3", 0.001),
        ("1E5", 100000.0),
        ("-2.5", -2.5),
        (".5", 0.5),
        ("1.", 1.0),
        ("+12", 12),
        ("012", 12),
        ("0x1F", 31),
        ("0o17", 15),
        ("yes", "yes"),
        ("no", "no"),
        ("on", "on"),
        ("off", "off"),
        ("y", "y"),
        ("n", "n"),
        ("true", True),
        ("True", True),
        ("TRUE", True),
        ("false", False),
        ("False", False),
        ("FALSE", False),
        ("null", None),
        ("Null", None),
        ("~", None),
        ("", None),
        ("1_000", "1_000"),
        ("0b101", "0b101"),
        ("2001-12-14", "2001-12-14"),
        ("12:30", "12:30"),
        ("'1e-3'", "1e-3"),
        ('"true"', "true"),
        ("'null'", "null"),
        ("''", ""),
        ("'<<'", "<<"),
        ("<<", "<<"),
    ],
)
def test_scalars_resolve_with_the_core_schema(raw: str, expected: object) -> None:
    value = load_spec_text(f"v: {raw}\n").data["v"]
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(("raw", "sign"), [(".inf", 1), ("+.inf", 1), ("-.inf", -1), (".Inf", 1)])
def test_infinities(raw: str, sign: int) -> None:
    assert load_spec_text(f"v: {raw}\n").data["v"] == sign * math.inf


def test_nan() -> None:
    assert math.isnan(load_spec_text("v: .nan\n").data["v"])


def test_huge_integer_is_e002_not_a_crash() -> None:
    diagnostic = only_error("v: " + "9" * 5000 + "\n")
    assert diagnostic.code == "E002"
    assert diagnostic.location == at(1, 4)
    assert len(diagnostic.message) < 80


# --- keys and E008 -----------------------------------------------------------------------


def test_scalar_keys_keep_their_type() -> None:
    spec = load_spec_text("1: one\n'2': two\nname: x\n2.5: f\nfalse: no\n")
    assert spec.data == {1: "one", "2": "two", "name": "x", 2.5: "f", False: "no"}
    assert spec.source.locate_key((1,)) == Location("<string>", 1, 1)


@pytest.mark.parametrize(
    ("text", "line", "col", "kind"),
    [
        ("a: 1\n? [x, y]\n: 2\n", 2, 3, "a sequence"),
        ("a: {{b: 1}: 2}\n", 1, 5, "a mapping"),
        ("k: &k [1]\nm: {*k : 1}\n", 2, 5, "a sequence"),
    ],
)
def test_collection_keys_are_e008(text: str, line: int, col: int, kind: str) -> None:
    diagnostic = only_error(text)
    assert diagnostic.code == "E008"
    assert diagnostic.message == f"{kind} cannot be used as a mapping key"
    assert diagnostic.location == at(line, col)


def test_merge_keys_are_e008() -> None:
    diagnostic = only_error("base: &b {x: 1}\nnet:\n  <<: *b\n  y: 2\n")
    assert diagnostic.code == "E008"
    assert "'<<'" in diagnostic.message
    assert diagnostic.location == at(3, 3)
    assert diagnostic.hint is not None and "alias" in diagnostic.hint


def test_quoted_merge_key_is_an_ordinary_key() -> None:
    assert load_spec_text("'<<': 1\n").data == {"<<": 1}


# --- positions ---------------------------------------------------------------------------

SPEC = """\
# a flow
nodes:
  body:
    net:
      hidden: [64,
               128]
      layers:
        - kind: linear
          size: 3
"""


def test_positions_of_keys_and_values() -> None:
    spec = load_spec_text(SPEC, "flow.yaml")
    source = spec.source
    assert spec.text == SPEC
    assert spec.data["nodes"]["body"]["net"]["hidden"] == [64, 128]
    hidden = ("nodes", "body", "net", "hidden")
    assert source.locate(hidden) == Location("flow.yaml", 5, 7)  # the key `hidden:`
    assert source.locate_key(hidden) == Location("flow.yaml", 5, 7)
    assert source.values[hidden] == (5, 15)
    assert source.locate((*hidden, 1)) == Location("flow.yaml", 6, 16)
    assert source.locate_key((*hidden, 1)) is None
    assert source.locate(("nodes", "body", "net", "layers", 0)) == Location("flow.yaml", 8, 11)
    layer_size = ("nodes", "body", "net", "layers", 0, "size")
    assert source.locate(layer_size) == Location("flow.yaml", 9, 11)
    assert source.values[layer_size] == (9, 17)


def test_missing_path_falls_back_to_nearest_ancestor() -> None:
    source = load_spec_text(SPEC, "flow.yaml").source
    net = Location("flow.yaml", 4, 5)
    assert source.locate(("nodes", "body", "net", "activation")) == net
    assert source.locate(("nodes", "body", "net", "hidden", 7, "x")) == Location("flow.yaml", 5, 7)
    assert source.locate_key(("nodes", "body", "net", "activation")) is None
    assert source.locate(("nothing", "here")) == Location("flow.yaml", 2, 1)  # document start
    assert source.locate(()) == Location("flow.yaml", 2, 1)


def test_source_map_is_a_locator_for_reporter() -> None:
    from flowspec.diagnostics import Reporter

    spec = load_spec_text("nodes:\n  a: {kind: flow}\n", "f.yaml")
    reporter = Reporter(spec.source)
    reporter.error("E100", "unknown kind", ("nodes", "a", "kind"))
    assert str(reporter.diagnostics[0].location) == "f.yaml:2:7"


def test_empty_source_map_locates_nothing() -> None:
    assert SourceMap("x.yaml").locate(("a",)) is None


# --- libyaml composes what it can, with the same result ----------------------------------

ROOT = Path(__file__).resolve().parent.parent


def _loaded_both_ways(text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[object, object]:
    """What loading gives with libyaml's composer and with PyYAML's Python composer:
    the data and every position, or the diagnostics."""

    def outcome() -> object:
        try:
            loaded = load_spec_text(text, "spec.yaml")
        except SpecError as error:
            return [str(d) for d in error.diagnostics]
        source = loaded.source
        maps = (source.values, source.keys, source.value_ends, source.key_ends)
        return loaded.data, *(dict(m) for m in maps)

    fast = outcome()
    with monkeypatch.context() as patch:
        patch.setattr(loader_module, "_libyaml_tree", lambda text: False)
        slow = outcome()
    return fast, slow


AGREEING = [
    *sorted((ROOT / "specs").glob("*.yaml")),
    *sorted((ROOT / "tests" / "bad_specs").glob("*.yaml")),
]


@pytest.mark.parametrize("path", AGREEING, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_libyaml_and_python_composers_agree_on_every_spec(path, monkeypatch) -> None:
    text = path.read_text(encoding="utf-8", errors="replace")
    fast, slow = _loaded_both_ways(text, monkeypatch)
    assert fast == slow
    if path.parent.name == "specs" and "!" not in text:  # a '!' anywhere goes to PyYAML
        assert loader_module._libyaml_tree(text) is not False, "the comparison compared nothing"


@pytest.mark.parametrize(
    "text",
    [
        "name: 'é🌙'\nx: [1, {a: b}]\n\"k ü\": [ü, 'ö']\n",  # columns count code points
        "a: |\n  multi\n  line\nb: >\n  folded\n",
        "a: 1\r\nb: [2,\r\n 3]\r\n",
        "a: 1\rb: 2\x85c: 3\u2028d: [4]\u2029",  # every line break PyYAML knows
        "\ufeffa: 1\n",
        "\ufeff{a: [1]}",
        "a: {x: '\ufeff', b: 1}\n",  # libyaml counts a byte order mark as a column
        "a: b\n---\nc: d\n",  # two documents: E003 from PyYAML's wording
        "a: [1, 2\n",
        "- a\n- b\n",
        "a: {in: }\n",  # an empty value in a flow collection: libyaml marks the next token
        "a: [b: , c]\n",
        "a: {: x}\n",
        "a:\n  -\n  - \nb:\n",  # empty block values agree
        "a:\n  b:\n    - c",  # no final line break: where block collections end
        "a:\n  b: 1\n# done",
        "\ufeffa:\n  b: 1",
        "a:\r\n  b: [1]  ",
        "a: !!python/object/apply:os.system ['true']\n",  # tags never reach libyaml
        "%TAG !p! tag:yaml.org,2002:python/\n---\na: !p!object/apply:os.system ['true']\n",
        "a: \udc80\n",  # a lone surrogate (from an editor's JSON): libyaml cannot encode it
        "a: " + "[" * 500 + "]" * 500 + "\n",  # the Python composer may run out of stack
        "a: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "\n",
    ],
)
def test_libyaml_and_python_composers_agree_on_odd_text(text, monkeypatch) -> None:
    fast, slow = _loaded_both_ways(text, monkeypatch)
    assert fast == slow


@pytest.mark.parametrize("name", ["realnvp_moons", "nice_moons"])
def test_libyaml_and_python_composers_agree_while_a_spec_is_typed(name, monkeypatch) -> None:
    """Every few characters of a spec typed from the top, and the spec with that character
    deleted: the unsaved texts an editor sends the language server."""
    text = (ROOT / "specs" / f"{name}.yaml").read_text(encoding="utf-8")
    for end in range(0, len(text) + 1, 5):
        for typed in (text[:end], text[:end] + text[end + 1 :]):
            fast, slow = _loaded_both_ways(typed, monkeypatch)
            assert fast == slow, repr(typed[-60:])


def test_big_specs_are_composed_by_libyaml_and_odd_ones_by_python() -> None:
    big = "nodes:\n" + "".join(f"  n{k}: {{kind: reverse, in: n{k - 1}}}\n" for k in range(3000))
    assert loader_module._libyaml_tree(big) is not False
    assert loader_module._libyaml_tree(big.rstrip("\n")) is not False  # end marks moved
    deep = "a: " + "[" * loader_module.MAX_FAST_DEPTH + "]" * loader_module.MAX_FAST_DEPTH
    assert loader_module._libyaml_tree(deep) is False  # C recursion has no limit
    assert loader_module._libyaml_tree("a: &x [1]\nb: *x\n") is False  # aliases keep positions
    assert loader_module._libyaml_tree("a: {in: }\n") is False
    assert loader_module._libyaml_tree("a: !!str 1\n") is False  # tags: PyYAML's checks
