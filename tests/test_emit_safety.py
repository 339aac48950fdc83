"""Nothing from a spec can inject code into emitted source: ids must be identifiers, and
every other string (names, file paths, the spec text) is escaped."""

import ast

import pytest

import flowspec

HOSTILE_STRINGS = [
    'x"""; import os; os.system("touch PWNED"); """',
    "x'''\nimport os\nos.system('touch PWNED')\n'''",
    "a\nimport os  # newline in a name",
    "\\\"); __import__('os').system('touch PWNED'); (\"",
    "}{}</script>&\x00\u202e",
]

TEMPLATE = """
flowspec: "1"
name: {name}
inputs:
  x: {{shape: [2]}}
nodes:
  a: {{kind: affine_coupling, in: x}}
  prior: {{kind: standard_normal, in: a}}
"""


def yaml_quoted(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return '"' + escaped.replace("\x00", "\\0").replace("\u202e", "\\u202e") + '"'


def assert_no_injected_code(source: str) -> None:
    """The only calls at module level of the emitted file are ours; no import of os."""
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [alias.name for alias in node.names]
            assert "os" not in names and getattr(node, "module", None) != "os", names
        if isinstance(node, ast.Attribute):
            assert node.attr != "system"
        if isinstance(node, ast.Name):
            assert node.id not in ("__import__", "os", "exec", "eval")


@pytest.mark.parametrize("name", HOSTILE_STRINGS)
def test_hostile_spec_names_are_escaped(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = TEMPLATE.format(name=yaml_quoted(name))
    checked = flowspec.check(text)
    assert checked.graph.header.name == name
    for source in (checked.source(), checked.standalone_source()):
        assert_no_injected_code(source)
    model = checked.build_model()  # executes the generated source
    assert model.SPEC_NAME == name
    assert not (tmp_path / "PWNED").exists()


def test_hostile_file_names_are_escaped(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "a'b\"c\nimport os"
    folder.mkdir()
    path = folder / "spec\n__import__('os').system('touch PWNED').yaml"
    path.write_text(TEMPLATE.format(name="ok"))
    checked = flowspec.check(path)
    for source in (checked.source(), checked.standalone_source()):
        assert_no_injected_code(source)
    checked.build_model()
    assert not (tmp_path / "PWNED").exists()


@pytest.mark.parametrize(
    "node_id",
    [
        "a; import os",
        "__import__",
        "x\ny",
        "a\n",
        "a.b",
        "1a",
        "class",
        "self",
        "a__b",
        "nodes",
        "é",
    ],
)
def test_hostile_node_ids_are_rejected(node_id):
    text = TEMPLATE.format(name="ok").replace("  a: {kind", f"  {yaml_quoted(node_id)}: {{kind")
    text = text.replace("in: a}", f"in: {yaml_quoted(node_id)}}}")
    with pytest.raises(flowspec.SpecError) as error:
        flowspec.check(text)
    assert "E107" in [d.code for d in error.value.diagnostics]


@pytest.mark.parametrize("input_name", ["import os", "x y", "def"])
def test_hostile_input_names_are_rejected(input_name):
    text = TEMPLATE.format(name="ok").replace(
        "  x: {shape", f"  {yaml_quoted(input_name)}: {{shape"
    )
    text = text.replace("in: x}", f"in: {yaml_quoted(input_name)}}}")
    with pytest.raises(flowspec.SpecError) as error:
        flowspec.check(text)
    assert "E107" in [d.code for d in error.value.diagnostics]
