"""``flowspec compile --standalone``: a module that needs only torch, equal to the in-memory
model with the same weights (checked in a fresh interpreter where flowspec cannot be
imported)."""

import subprocess
import sys

import pytest
import torch
from bundled import DATA, SPECS
from declared import example_specs
from oracles import randomize_, values_in

import flowspec
from flowspec.core.properties import Cost
from flowspec.train.data import load_dataset

RUNNER = """
import sys

class BlockFlowspec:
    def find_spec(self, name, path=None, target=None):
        if name == "flowspec" or name.startswith("flowspec."):
            raise ImportError("flowspec must not be needed")

sys.meta_path.insert(0, BlockFlowspec())
import importlib.util
import torch

# One thread, as the test process (conftest.py): some kernels (softmax over a leading axis)
# round differently when split across threads.
torch.set_num_threads(1)
spec = importlib.util.spec_from_file_location("standalone_model", sys.argv[1])
module = importlib.util.module_from_spec(spec)
sys.modules["standalone_model"] = module
spec.loader.exec_module(module)
model = module.build_model()
model.load_state_dict(torch.load(sys.argv[2]))
model.eval()
batch = torch.load(sys.argv[3])
with torch.no_grad():
    torch.manual_seed(123)
    log_prob = model.log_prob(*batch["data"], **batch["context"])
    torch.manual_seed(321)
    samples = model.sample(64, **batch["context"])
torch.save({"log_prob": log_prob, "samples": samples}, sys.argv[4])
"""


#: Every kind's declared examples side by side (tests/declared.py), where log_prob is
#: available (a generation-only node has none to compare).
EXAMPLES = example_specs(lambda node: node.terminal or node.costs().inference != Cost.UNAVAILABLE)
CASES = [pytest.param(SPECS / f"{name}.yaml", data, id=name) for name, data in DATA.items()]
CASES += [pytest.param(text, None, id=name) for name, text in EXAMPLES.items()]

# The data's standardisation: its statistics are buffers, loaded with the weights.
STANDARDIZED = """
flowspec: "1"
name: standardized
inputs:
  x: {shape: [2]}
nodes:
  pre: {kind: standardize, in: x}
  flow: {kind: affine_coupling, in: pre, net: {hidden: [8]}}
  prior: {kind: standard_normal, in: flow}
"""
CASES.append(pytest.param(STANDARDIZED, "spirals", id="standardized"))


def batch_of(checked: flowspec.CheckedSpec, data: str | None) -> dict:
    """The data inputs (in order) and the context inputs (by name) of 64 examples: the
    bundled set a spec trains on, or values drawn in each input's declared support."""
    graph = checked.graph
    if data is not None:
        return {"data": [load_dataset(data, n_train=64, n_test=64).test], "context": {}}
    generator = torch.Generator().manual_seed(0)

    def draw(name: str) -> torch.Tensor:
        return values_in(graph.nodes[name].output_info[0], 64, generator, torch.float32)

    return {
        "data": [draw(name) for name in graph.data_inputs],
        "context": {name: draw(name) for name in graph.context_inputs},
    }


@pytest.mark.parametrize(("source", "data"), CASES)
def test_standalone_module_matches_in_memory_model(source, data, tmp_path):
    torch.manual_seed(0)
    checked = flowspec.check(source)
    model = checked.build_model()
    batch = batch_of(checked, data)
    model.initialize(*batch["data"], **batch["context"])  # layers set from data
    randomize_(model, scale=0.05)
    model.eval()
    (tmp_path / "model.py").write_text(checked.standalone_source())
    torch.save(model.state_dict(), tmp_path / "weights.pt")
    torch.save(batch, tmp_path / "x.pt")
    (tmp_path / "runner.py").write_text(RUNNER)
    result = subprocess.run(
        [sys.executable, "runner.py", "model.py", "weights.pt", "x.pt", "out.pt"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    out = torch.load(tmp_path / "out.pt")
    with torch.no_grad():
        torch.manual_seed(123)
        expected = model.log_prob(*batch["data"], **batch["context"])
        torch.manual_seed(321)
        samples = model.sample(64, **batch["context"])
    torch.testing.assert_close(out["log_prob"], expected, atol=1e-6, rtol=0)
    # A base on the real line under a bounded map (W501) draws values it cannot invert:
    # both modules give NaN there, and must agree on where.
    torch.testing.assert_close(out["samples"], samples, atol=1e-6, rtol=0, equal_nan=True)


def test_standalone_source_names_no_flowspec_import():
    source = flowspec.check(SPECS / "vflow_moons.yaml").standalone_source()
    assert "import flowspec" not in source and "from flowspec" not in source
    assert "pydantic" not in source
