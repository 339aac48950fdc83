"""What every registered kind declares about itself, checked without torch: examples (so
the contract suites cover it), ``has_parameters`` stated, a summary and a paper, a
docstring example that validates, valid declared examples, and parameter counts that need
no torch (``tests/declared.py``; the torch side is ``test_contract_nodes.py`` and
``test_contract_parts.py``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from declared import (
    CATEGORIES,
    Case,
    cases,
    docstring_examples,
    example_errors,
    fragment_mappings,
    registry,
)

ROOT = Path(__file__).resolve().parent.parent
KINDS = [
    pytest.param(category, kind, id=f"{category}-{kind}")
    for category in CATEGORIES
    for kind in registry(category)
]
CASES = [
    pytest.param(case, id=f"{case.category}-{case.id}") for c in CATEGORIES for case in cases(c)
]


@pytest.mark.parametrize(("category", "kind"), KINDS)
def test_every_kind_declares_examples_a_summary_and_a_reference(category: str, kind: str) -> None:
    cls = registry(category)[kind]
    assert cls.examples, f"{category} '{kind}' declares no example: the contract cannot run"
    assert cls.summary.strip() and cls.reference.strip()


@pytest.mark.parametrize("kind", sorted(registry("node")))
def test_every_node_kind_states_whether_it_has_parameters(kind: str) -> None:
    cls = registry("node")[kind]
    assert isinstance(getattr(cls, "has_parameters", None), bool), (
        f"'{kind}' does not state has_parameters"
    )


@pytest.mark.parametrize("case", CASES)
def test_declared_examples_are_valid(case: Case) -> None:
    """Each example passes the compiler's checks for its kind: settings, shapes and
    domains for nodes, domain for transformers, role for conditioners, event for
    densities."""
    settings = dict(case.example.settings)
    assert example_errors(case.category, case.kind, settings, case.example) == []


@pytest.mark.parametrize(("category", "kind"), KINDS)
def test_docstring_example_validates(category: str, kind: str) -> None:
    """The kind's docstring shows at least one use of it (what ``flowspec nodes KIND``
    prints), and each use validates against one of the kind's declared examples (their
    inputs, context and role stand in for the wiring a fragment leaves out)."""
    cls = registry(category)[kind]
    fragments = [
        mapping
        for text in docstring_examples(cls)
        for what, mapping in fragment_mappings(text)
        if what == category and mapping["kind"] == kind
    ]
    assert fragments, f"the docstring of {category} '{kind}' shows no example of it"
    for mapping in fragments:
        settings = {k: v for k, v in mapping.items() if k not in ("kind", "in", "context")}
        outcomes = [example_errors(category, kind, settings, ex) for ex in cls.examples]
        assert [] in outcomes, f"{mapping} fails: {outcomes}"


COUNT_EVERY_KIND = """
import json, sys
sys.path.insert(0, "tests")
from declared import CATEGORIES, cases, node_cases, parameter_count, run_node_checks
counts = {}
for category in CATEGORIES[1:]:
    counts.update({f"{category}-{case.id}": parameter_count(case) for case in cases(category)})
for case in node_cases():
    node = case.spec()
    run_node_checks(node, case.inputs, case.context)
    counts[case.id] = node.parameter_count(case.inputs, case.context)
heavy = [name for name in ("torch", "numpy", "sklearn") if name in sys.modules]
print(json.dumps({"counts": len(counts), "heavy": heavy}))
"""


def test_parameter_counts_need_no_torch() -> None:
    """Every kind counts its parameters in plain Python, for every example (nodes, parts
    in their hosts, parts alone): in a fresh interpreter, torch is never imported."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", COUNT_EVERY_KIND],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["counts"] > 0 and report["heavy"] == []
