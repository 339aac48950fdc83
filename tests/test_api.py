"""The Python API: inputs are checked against the spec, names cannot collide with what
generated code uses, and paths are told apart from YAML text."""

import subprocess
import sys

import pytest
import torch

import flowspec
from bundled import SPECS

TINY = """
flowspec: "1"
name: {name}
inputs:
  x: {{shape: [2]}}
nodes:
  {node}: {{kind: affine_coupling, in: x}}
  prior: {{kind: standard_normal, in: {node}}}
"""


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (torch.randn(4, 3), ValueError),
        (torch.randn(4), ValueError),
        (torch.randn(0, 2), ValueError),
        (torch.randn(4, 2, 1), ValueError),
        ([[0.0, 1.0]], TypeError),
    ],
)
def test_wrong_inputs_are_rejected_with_the_expected_shape(bad, error):
    model = flowspec.compile(SPECS / "realnvp_moons.yaml")
    for call in (model.log_prob, model.trace, model.iwbo):
        with pytest.raises(error, match="'x'"):
            call(bad)


def test_unknown_keyword_inputs_are_rejected():
    model = flowspec.compile(SPECS / "realnvp_moons.yaml")
    assert model.log_prob(x=torch.randn(3, 2)).shape == (3,)
    with pytest.raises(TypeError, match="takes x"):
        model.log_prob(torch.randn(3, 2), y=torch.randn(3, 2))


@pytest.mark.parametrize("node", ["sum", "len", "print", "range", "dict", "super"])
def test_node_ids_that_name_builtins_do_not_break_generated_code(node):
    model = flowspec.compile(TINY.format(name="tiny", node=node))
    x = torch.randn(5, 2)
    trace = model.trace(x)
    torch.testing.assert_close(trace.log_prob, model.log_prob(x))
    assert set(trace.contributions) == {node, "prior"}


@pytest.mark.parametrize(
    "name", ["flow-model", "affine-coupling", "standard normal", "trace", "build model", "MLP"]
)
def test_spec_names_that_match_emitted_classes(name, tmp_path):
    checked = flowspec.check(TINY.format(name=f'"{name}"', node="a"))
    x = torch.randn(4, 2)
    model = checked.build_model()
    assert model.trace(x).log_prob.shape == (4,)
    path = tmp_path / "standalone.py"
    path.write_text(checked.standalone_source())
    script = (
        "import importlib.util, sys, torch\n"
        f"spec = importlib.util.spec_from_file_location('m', {str(path)!r})\n"
        "m = importlib.util.module_from_spec(spec); sys.modules['m'] = m\n"
        "spec.loader.exec_module(m)\n"
        "model = m.build_model()\n"
        "print(model.trace(torch.randn(3, 2)).log_prob.shape, model.sample(2).shape)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "torch.Size([3]) torch.Size([2, 2])" in result.stdout


def test_a_path_with_a_colon_is_a_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "run:1.yaml").write_text(TINY.format(name="tiny", node="a"))
    assert flowspec.check("run:1.yaml").graph.header.name == "tiny"
    with pytest.raises(flowspec.SpecError) as error:
        flowspec.check("missing:file.yaml")
    assert error.value.diagnostics[0].code == "E001"
