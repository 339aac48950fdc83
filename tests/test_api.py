"""The Python API: inputs are checked against the spec, names cannot collide with what
generated code uses, and paths are told apart from YAML text."""

import subprocess
import sys

import pytest
import torch
from bundled import SPECS

import flowspec

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


CONDITIONAL = """
flowspec: "1"
name: conditional
inputs:
  x: {shape: [2]}
  c: {shape: [3], context: true}
nodes:
  a: {kind: affine_coupling, in: x, context: c}
  prior: {kind: conditional_normal, in: a, context: c}
"""


def test_inputs_given_twice_or_with_different_batches_are_rejected():
    model = flowspec.compile(CONDITIONAL)
    x, c = torch.randn(4, 2), torch.randn(4, 3)
    assert model.log_prob(x, c).shape == model.log_prob(x=x, c=c).shape == (4,)
    with pytest.raises(TypeError, match="'x' is given twice"):
        model.log_prob(c, x=x)
    with pytest.raises(ValueError, match="one batch size"):
        model.log_prob(x, torch.randn(5, 3))
    with pytest.raises(TypeError, match="2 inputs"):
        model.log_prob(x, c, c)


def test_sample_and_iwbo_arguments_are_checked():
    model = flowspec.compile(CONDITIONAL)
    c = torch.randn(6, 3)
    assert model.sample(6, c=c).shape == (6, 2)
    for bad in (-1, 2.5, True):
        with pytest.raises(ValueError, match="n must be"):
            model.sample(bad, c=c)
    with pytest.raises(ValueError, match="context rows"):
        model.sample(5, c=c)
    with pytest.raises(TypeError, match="'c' must be a tensor"):
        model.sample(6)
    bound = flowspec.compile(SPECS / "vflow_moons.yaml")
    for bad in (0, -1, 1.5):
        with pytest.raises(ValueError, match="k must be"):
            bound.iwbo(torch.randn(3, 2), k=bad)
    assert flowspec.compile(SPECS / "realnvp_moons.yaml").sample(0).shape == (0, 2)


def test_flowspec_emit_is_the_package_and_source_the_function() -> None:
    """``flowspec.emit.export.NOT_FULLGRAPH`` (as the README writes it) resolves, in a
    fresh interpreter too, and ``flowspec.source`` returns the generated code."""
    code = (
        "import flowspec, types\n"
        "assert isinstance(flowspec.emit, types.ModuleType)\n"
        "print(type(flowspec.emit.export.NOT_FULLGRAPH).__name__)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    source = flowspec.source(TINY.format(name="tiny", node="c"))
    assert "class Tiny(FlowModel)" in source and "def _log_prob" in source
    assert not callable(flowspec.emit)
    with pytest.raises(AttributeError, match="no attribute 'nonexistent'"):
        flowspec.nonexistent  # noqa: B018


def test_the_checked_graph_is_available_to_networkx():
    """Researchers analyse the checked graph with networkx (paths, exports)."""
    import networkx

    graph = flowspec.check("specs/slice_multiscale.yaml").graph.to_networkx()
    assert networkx.is_directed_acyclic_graph(graph)
    assert graph.nodes["x"]["category"] == "input"
    assert graph.nodes["drop"]["kind"] == "slice" and graph.nodes["drop"]["shapes"] == [[1]]
    assert graph.nodes["early"]["category"] == "distribution"
    assert networkx.has_path(graph, "x", "prior") and networkx.has_path(graph, "x", "early")
    kinds = {data["kind"] for _, _, data in graph.edges(data=True)}
    assert kinds == {"data", "context"}


def test_node_ids_may_be_names_of_module_attributes(tmp_path):
    """'half', 'to', 'keys' are nn.Module/ModuleDict attributes, and fine node ids."""
    spec = """
flowspec: "1"
name: attribute-ids
inputs:
  x: {shape: [4]}
nodes:
  half: {kind: affine_coupling, in: x, net: {hidden: [8]}}
  to: {kind: reverse, in: half}
  keys: {kind: actnorm, in: to}
  type: {kind: diagonal_normal, in: keys}
"""
    model = flowspec.compile(spec)
    x = torch.randn(16, 4)
    logp = model.log_prob(x)
    assert logp.shape == (16,) and model.sample(3).shape == (3, 4)
    again = flowspec.compile(spec)
    again.load_state_dict(model.state_dict())
    torch.testing.assert_close(again.log_prob(x), logp)
    assert any(key.startswith("nodes.half.") for key in model.state_dict())
    namespace: dict = {}
    exec(compile(flowspec.check(spec).standalone_source(), "standalone", "exec"), namespace)
    standalone = namespace["build_model"]()
    standalone.load_state_dict(model.state_dict())
    torch.testing.assert_close(standalone.log_prob(x), logp)
