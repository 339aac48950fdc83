"""One table of diagnostic codes (flowspec/codes.py), kept honest: every code the package
reports is in it, every code in it is reported somewhere, and every code has a long
explanation with examples (``flowspec explain``) that run: the wrong one raises exactly its
code, the right one nothing."""

from __future__ import annotations

import ast
import re
import shlex
import textwrap
from pathlib import Path

import pytest
import yaml
from oracles import run_checks
from typer.testing import CliRunner

import flowspec
from flowspec.cli.app import app
from flowspec.codes import CODES, Code
from flowspec.core.node import NodeCheck
from flowspec.core.ports import PortInfo
from flowspec.core.registry import node_kinds
from flowspec.diagnostics import Reporter, SpecError
from flowspec.spec.loader import load_spec_text

PACKAGE = Path(__file__).resolve().parent.parent / "flowspec"
CODE = re.compile(r"[EW]\d{3}")


def codes_in_source() -> dict[str, set[str]]:
    """Every string constant that is exactly a code, with the files it appears in
    (the tables themselves left out)."""
    found: dict[str, set[str]] = {}
    for path in PACKAGE.rglob("*.py"):
        if path.name == "codes.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if CODE.fullmatch(node.value):
                    found.setdefault(node.value, set()).add(str(path.relative_to(PACKAGE)))
    return found


def test_every_code_reported_is_in_the_table() -> None:
    missing = sorted(set(codes_in_source()) - set(CODES))
    assert not missing, f"add these to flowspec/codes.py with a one-line meaning: {missing}"


def test_every_code_in_the_table_is_reported() -> None:
    unused = sorted(set(CODES) - set(codes_in_source()))
    assert not unused, f"codes in flowspec/codes.py that nothing reports: {unused}"


def test_codes_are_well_formed_and_mean_one_thing_each() -> None:
    assert all(CODE.fullmatch(code) for code in CODES)
    meanings = [entry.meaning.strip().lower() for entry in CODES.values()]
    assert all(meanings) and len(set(meanings)) == len(meanings)


def test_every_code_has_an_explanation_with_examples() -> None:
    for code, entry in CODES.items():
        assert entry.text and entry.wrong.strip() and entry.right.strip(), code
        assert entry.wrong != entry.right, code


@pytest.mark.parametrize("typed", ["E209", "e209", " W501 "])
def test_explain_prints_meaning_text_and_both_examples(typed: str) -> None:
    result = CliRunner().invoke(app, ["explain", typed])
    assert result.exit_code == 0, result.output
    code = typed.strip().upper()
    assert result.output.startswith(f"{code}: {CODES[code].meaning}")
    assert "Wrong:" in result.output and "Right:" in result.output
    assert CODES[code].right.splitlines()[0] in result.output


def test_explain_of_an_unknown_code_exits_2_with_a_suggestion() -> None:
    result = CliRunner().invoke(app, ["explain", "E2099"])
    assert result.exit_code == 2
    assert "unknown diagnostic code 'E2099'" in result.output and "did you mean" in result.output


# --- every record's examples, run through the real pipeline --------------------------------


def _spec_codes(text: str) -> tuple[set[str], set[str]]:
    """Error and warning codes of a spec text, checked as ``flowspec validate`` checks it."""
    try:
        checked = flowspec.check(load_spec_text(text))
    except SpecError as error:
        found = error.diagnostics
    else:
        found = checked.warnings
    errors = {d.code for d in found if d.severity == "error"}
    return errors, {d.code for d in found if d.severity != "error"}


def _node_codes(text: str) -> tuple[set[str], set[str]]:
    """Codes of one node's own checks (``node:``) on inputs of the given event shapes."""
    example = yaml.safe_load(text)
    spec = node_kinds()[example["node"]["kind"]].model_validate(example["node"])
    inputs = tuple(PortInfo(tuple(shape)) for shape in example["inputs"])
    reporter = Reporter()
    run_checks(spec, inputs, None, NodeCheck(reporter, "node", ("nodes", "node")))
    errors = {d.code for d in reporter.diagnostics if d.severity == "error"}
    return errors, {d.code for d in reporter.warnings}


def _command_codes(text: str, files: tuple[tuple[str, str], ...]) -> tuple[set[str], set[str]]:
    """Codes printed by a ``$ flowspec ...`` line run in the working folder (a fresh one:
    see the tests) holding ``files``."""
    words = shlex.split(text.removeprefix("$").split("#")[0])
    assert words[0] == "flowspec", text
    for name, content in files:
        Path(name).write_text(content, encoding="utf-8")
    result = CliRunner().invoke(app, words[1:])
    assert result.exit_code in (0, 1), result.output  # a located diagnostic, not a crash
    errors = set(re.findall(r"error\[([EW]\d{3})\]", result.output))
    assert (result.exit_code == 1) == bool(errors), result.output
    return errors, set(re.findall(r"warning\[([EW]\d{3})\]", result.output))


def example_codes(entry: Code, text: str) -> tuple[set[str], set[str]]:
    if entry.runner == "command":
        return _command_codes(text, entry.files)
    if entry.runner == "node":
        return _node_codes(text)
    return _spec_codes(text)


@pytest.mark.parametrize("code", sorted(CODES))
def test_wrong_example_raises_exactly_its_code(code: str, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    entry = CODES[code]
    errors, warnings = example_codes(entry, entry.wrong)
    if code.startswith("E"):
        assert errors == {code}, (errors, warnings)
        assert warnings <= set(entry.inherent), warnings
    else:
        assert not errors and code in warnings, (errors, warnings)
        assert warnings <= {code, *entry.inherent}, warnings


@pytest.mark.parametrize("code", sorted(CODES))
def test_right_example_raises_nothing(code: str, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    entry = CODES[code]
    errors, warnings = example_codes(entry, entry.right)
    assert not errors and warnings <= set(entry.inherent), (errors, warnings)


def test_explain_shows_the_whole_example() -> None:
    """The printed examples are the records' text, whole, so they can be copied."""
    for code in ("W501", "E001", "E411"):
        output = CliRunner().invoke(app, ["explain", code]).output
        for text in (CODES[code].wrong, CODES[code].right):
            assert textwrap.indent(text, "    ") in output, code
