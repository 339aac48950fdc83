"""The README stays true: its error example prints what it shows, its catalogues list every
spec, node kind, transformer, conditioner, density and data set (the specs with the
likelihood class ``validate`` gives), and its links point at files that exist. Torch-free
and fast: specs are only checked."""

from __future__ import annotations

import re
import shlex
import textwrap
from pathlib import Path

import pytest
from bundled import SPECS
from typer.testing import CliRunner

import flowspec
from flowspec.cli import app
from flowspec.core.registry import (
    conditioner_kinds,
    density_kinds,
    node_kinds,
    transformer_kinds,
)
from flowspec.spec.training import BUNDLED_DATA

ROOT = SPECS.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def section(title: str) -> str:
    """The README's text under ``title`` (a heading line), up to the next heading."""
    start = README.index(f"{title}\n")
    following = re.search(r"^#{2,3} ", README[start + len(title) + 1 :], re.MULTILINE)
    return README[
        start : start + len(title) + 1 + (following.start() if following else len(README))
    ]


def first_column(text: str) -> list[str]:
    """The backquoted names in the first column of every table row of ``text``."""
    names = []
    for line in text.splitlines():
        if line.startswith("| `"):
            names += re.findall(r"`([a-z_0-9]+)`", line.split("|")[1])
    return names


def test_error_example_prints_what_the_readme_shows(tmp_path: Path, monkeypatch) -> None:
    part = section("## A spec")
    spec = re.search(r"With this\s+`bad.yaml`:\n\n```yaml\n(.*?)```", part, re.DOTALL).group(1)
    shown = re.search(r"```\n\$ flowspec validate bad.yaml\n(.*?)```", part, re.DOTALL).group(1)
    (tmp_path / "bad.yaml").write_text(spec)
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["validate", "bad.yaml"])
    assert result.exit_code == 1
    assert result.stderr == shown


def test_study_errors_print_what_the_readme_shows(monkeypatch) -> None:
    studies = section("## Studies: sweep and tune")
    block = re.search(r"```\n( *\$ flowspec sweep .*?\n) *```", studies, re.DOTALL)
    examples = re.split(r"^\$ ", textwrap.dedent(block.group(1)), flags=re.MULTILINE)[1:]
    assert len(examples) == 2
    monkeypatch.chdir(ROOT)
    for example in examples:
        command, _, shown = example.partition("\n")
        result = CliRunner().invoke(app, shlex.split(command)[1:])
        assert result.exit_code == 1
        assert result.stderr == shown


def test_spec_catalogue_lists_every_spec_with_its_likelihood_class() -> None:
    rows = {}
    for line in section("## Bundled specs").splitlines():
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if cells[0].startswith("`") and cells[0].endswith(".yaml`"):
            rows[cells[0].strip("`")] = cells[-1]
    assert sorted(rows) == sorted(path.name for path in SPECS.glob("*.yaml"))
    words = {
        "exact": "exact",
        "lower bound": "bound",
        "unbiased estimate": "unbiased estimate",
        "exact to a tolerance": "exact to a tolerance",
        "biased estimate": "biased estimate",
    }
    for name, cell in rows.items():
        label = flowspec.check(SPECS / name).graph.likelihood.label
        assert cell.startswith(words[label]), (
            f"{name}: the README says {cell!r}, validate {label!r}"
        )


def test_node_catalogue_lists_every_node_kind() -> None:
    listed = first_column(section("## Node catalogue"))
    assert sorted(listed) == sorted(node_kinds())


def test_part_tables_list_every_transformer_and_conditioner() -> None:
    transformers = first_column(
        section(
            "### Transformers (the `transformer:` of `coupling`, "
            "`autoregressive` and `elementwise`)"
        )
    )
    assert sorted(set(transformers) & set(transformer_kinds())) == sorted(transformer_kinds())
    coupling = set(first_column(section("### Parts: transformer x conditioner")))
    autoregressive = first_column(
        section("### Autoregressive conditioners (the `conditioner:` of `autoregressive`)")
    )
    for name, cls in conditioner_kinds().items():
        if "autoregressive" in cls.roles:
            assert name in autoregressive, name
        else:
            assert name in coupling, name
    assert coupling <= set(conditioner_kinds()) and not coupling & set(autoregressive)


def test_densities_and_data_sets_are_all_named() -> None:
    parts = section("### Parts: transformer x conditioner")
    for name in density_kinds():
        assert f"`{name}`" in parts, name
    data = section("## Train your first flow")
    for name in BUNDLED_DATA:
        assert f"`{name}`" in data, name


@pytest.mark.parametrize(
    "target", sorted(set(re.findall(r"\]\(((?!https?:)[^)#]+)\)", README))), ids=str
)
def test_links_point_at_files(target: str) -> None:
    assert (ROOT / target).exists(), target


def test_set_up_is_two_commands_and_ci_runs_the_readme_test_command() -> None:
    """The set-up is one command that installs and trains and one that runs the tests, and
    ``.ci/run`` ends with exactly that test command after installing what the first does."""
    commands = re.findall(r"```bash\n(.*?)\n```", section("## Set-up"), re.DOTALL)
    install, test, *_ = commands
    assert "\n" not in install and "\n" not in test
    assert "flowspec train specs/" in install and test.startswith("python -m pytest")
    ci_lines = [
        line
        for line in (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert ci_lines[-1] == test
    for step in ("apt-get install -y graphviz", "pip install torch==2.13.0", '".[test]"'):
        assert step in install and any(step in line for line in ci_lines[:-1]), step
