"""One table of diagnostic codes (flowspec/codes.py), kept honest: every code the package
reports is in it, every code in it is reported somewhere, and every code has a long
explanation with examples (``flowspec explain``)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flowspec.cli.app import app
from flowspec.codes import CODES

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
