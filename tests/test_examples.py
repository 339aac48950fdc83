"""The example scripts run as a researcher would run them."""

import subprocess
import sys
from pathlib import Path

EXAMPLES = Path(__file__).parent.parent / "examples"


def run(script: str, *args: str, cwd: Path) -> str:
    result = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result.stdout


def test_fit_moons(tmp_path):
    out = run("fit_moons.py", "--steps", "60", "--out", str(tmp_path / "m.png"), cwd=tmp_path)
    assert "final nll" in out and "exact" in out
    assert (tmp_path / "m.png").stat().st_size > 1000


def test_inspect_bound(tmp_path):
    out = run("inspect_bound.py", cwd=tmp_path)
    assert "a lower bound" in out and "IWBO k=100" in out


def test_inline_spec(tmp_path):
    out = run("inline_spec.py", cwd=tmp_path)
    assert "4 problems found" in out
    assert "did you mean 'affine_coupling'?" in out and "leaky_relu" in out
