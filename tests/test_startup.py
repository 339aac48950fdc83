"""The instant checks stay instant: ``load``, ``validate``, ``schema``, ``nodes``,
``render`` and ``--help`` import neither torch nor numpy nor scikit-learn (torch alone
takes seconds to import). The verbs run in one fresh interpreter, since this test process
imported torch long ago; after each, the test looks at what is loaded."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "numpy", "sklearn")

BAD_SPEC = """flowspec: "1"
name: bad
inputs:
  x: {shape: [2]}
nodes:
  c: {kind: affine_coupling, in: x}
"""

VERBS = {
    "help": ["--help"],
    "validate": ["validate", "specs/realnvp_moons.yaml"],
    "validate-json": ["validate", "--json", "specs/slice_multiscale.yaml"],
    "validate-error": ["validate", "{tmp}/bad.yaml"],
    "schema": ["schema"],
    "nodes": ["nodes", "affine_coupling"],
    "render": ["render", "specs/vflow_moons.yaml", "-o", "{tmp}/graph.gv"],
    "explain": ["explain", "E207"],
}

PROGRAM = """
import json, sys
from typer.testing import CliRunner
from flowspec.cli.app import app
reports = {}
for name, argv in VERBS.items():
    result = CliRunner().invoke(app, argv)
    reports[name] = {"exit": result.exit_code, "output": result.output[-600:],
                     "loaded": [m for m in HEAVY if m in sys.modules]}
print(json.dumps(reports))
"""


def run_fresh(code: str, **names: object) -> str:
    """The last line ``code`` prints in a fresh interpreter, given ``names`` as globals."""
    prelude = "".join(f"{key} = {value!r}\n" for key, value in names.items())
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", prelude + code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict]:
    tmp = tmp_path_factory.mktemp("startup")
    (tmp / "bad.yaml").write_text(BAD_SPEC, encoding="utf-8")
    verbs = {name: [arg.format(tmp=tmp) for arg in argv] for name, argv in VERBS.items()}
    return json.loads(run_fresh(PROGRAM, VERBS=verbs, HEAVY=HEAVY))


@pytest.mark.parametrize("verb", list(VERBS))
def test_instant_verbs_import_no_torch_numpy_or_sklearn(reports: dict, verb: str) -> None:
    report = reports[verb]
    assert report["exit"] == (1 if verb == "validate-error" else 0), report["output"]
    assert report["loaded"] == []


def test_a_spec_error_is_still_located(reports: dict) -> None:
    assert "bad.yaml:5:1: error[E206]" in reports["validate-error"]["output"]


def test_load_and_check_from_python_import_no_torch() -> None:
    code = (
        "import sys, flowspec\n"
        "checked = flowspec.check('specs/digits_dequant.yaml')\n"
        "flowspec.load('specs/nice_moons.yaml')\n"
        "print([m for m in HEAVY if m in sys.modules])\n"
    )
    assert run_fresh(code, HEAVY=HEAVY) == "[]"


def test_validate_imports_no_torch_for_any_bundled_spec() -> None:
    """Every spec under specs/ (and its subfolders) validates without torch: in one fresh
    interpreter, the first spec after which a heavy module is loaded is the one to blame."""
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from typer.testing import CliRunner\n"
        "from flowspec.cli.app import app\n"
        "for spec in sorted(Path('specs').rglob('*.yaml')):\n"
        "    result = CliRunner().invoke(app, ['validate', str(spec)])\n"
        "    loaded = [m for m in HEAVY if m in sys.modules]\n"
        "    if result.exit_code != 0 or loaded:\n"
        "        print(spec, result.exit_code, loaded)\n"
        "        break\n"
        "else:\n"
        "    print('none')\n"
    )
    assert run_fresh(code, HEAVY=HEAVY) == "none"
