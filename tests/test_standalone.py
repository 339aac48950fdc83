"""``flowspec compile --standalone``: a module that needs only torch, equal to the in-memory
model with the same weights (checked in a fresh interpreter where flowspec cannot be
imported)."""

import subprocess
import sys

import pytest
import torch
from bundled import DATA, SPECS
from oracles import randomize_

import flowspec
from flowspec.train.data import load_dataset

# The elementwise maps the bundled specs do not use.
MORE_MAPS = """
flowspec: "1"
name: more maps
inputs:
  x: {shape: [3]}
nodes:
  a: {kind: elementwise, fn: softplus, in: x}
  b: {kind: elementwise, fn: log, in: a}
  c: {kind: elementwise, fn: tanh, in: b}
  d: {kind: elementwise, fn: scale_shift, scale: 0.5, shift: 0.5, in: c}
  e: {kind: elementwise, fn: logit, in: d}
  prior: {kind: standard_normal, in: e}
"""

# The image parts glow_digits leaves out: unsqueeze, checkerboard masks, the conv conditioner.
IMAGE_PARTS = """
flowspec: "1"
name: image parts
inputs:
  x: {shape: [4, 2, 2]}
nodes:
  fine: {kind: unsqueeze, in: x}
  board: {kind: coupling, mask: checkerboard, in: fine, conditioner: {kind: conv, channels: 4}}
  prior: {kind: standard_normal, in: board}
"""

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
x = torch.load(sys.argv[3])
with torch.no_grad():
    torch.manual_seed(123)
    log_prob = model.log_prob(x)
    torch.manual_seed(321)
    samples = model.sample(50)
torch.save({"log_prob": log_prob, "samples": samples}, sys.argv[4])
"""


CASES = [pytest.param(SPECS / f"{name}.yaml", data, id=name) for name, data in DATA.items()]
CASES.append(pytest.param(MORE_MAPS, None, id="more_maps"))
CASES.append(pytest.param(IMAGE_PARTS, None, id="image_parts"))
# The transformers inverted by bisection (the error buffer and the warning come along), and
# a conditioner with dropout.
BISECTION = """
flowspec: "1"
name: bisection
inputs:
  x: {shape: [3]}
nodes:
  mixture: {kind: coupling, transformer: {kind: logistic_mixture}, conditioner: {hidden: [8], dropout: 0.1}, in: x}
  naf: {kind: autoregressive, transformer: {kind: naf, layers: 2}, conditioner: {hidden: [8]}, in: mixture}
  prior: {kind: standard_normal, in: naf}
"""
CASES.append(pytest.param(BISECTION, None, id="bisection"))
AR_CONDITIONERS = """
flowspec: "1"
name: ar-conditioners
inputs:
  x: {shape: [3]}
nodes:
  pixel: {kind: reshape, shape: [3, 1, 1], in: x}
  conv: {kind: autoregressive, conditioner: {kind: masked_conv, hidden: 6, layers: 2}, in: pixel}
  flat: {kind: flatten, in: conv}
  gru: {kind: autoregressive, direction: iaf, conditioner: {kind: rnn, hidden: 4}, in: flat}
  attend: {kind: autoregressive, conditioner: {kind: causal_transformer, dim: 4, heads: 2, layers: 1}, in: gru}
  sequence: {kind: reshape, shape: [1, 3], in: attend}
  dilated: {kind: autoregressive, conditioner: {kind: wavenet, hidden: 4, layers: 2}, in: sequence}
  out: {kind: flatten, in: dilated}
  prior: {kind: standard_normal, in: out}
"""
CASES.append(pytest.param(AR_CONDITIONERS, None, id="ar_conditioners"))
# Transformers applied elementwise with free per-feature parameters, a chain of linear ones
# the optimizer composes, and a fixed map given as a transformer.
LEARNED_ELEMENTWISE = """
flowspec: "1"
name: learned-elementwise
inputs:
  x: {shape: [3]}
nodes:
  spline: {kind: elementwise, transformer: {kind: rq_spline, bins: 4, bound: 3.0}, in: x}
  scale: {kind: elementwise, transformer: {kind: affine}, in: spline}
  fixed: {kind: elementwise, fn: scale_shift, scale: 0.5, learnable: true, in: scale}
  mono: {kind: elementwise, transformer: {kind: naf, hidden: 3}, in: fixed}
  positive: {kind: elementwise, transformer: {kind: softplus}, in: mono}
  back: {kind: elementwise, fn: log, in: positive}
  prior: {kind: standard_normal, in: back}
"""
CASES.append(pytest.param(LEARNED_ELEMENTWISE, None, id="learned_elementwise"))
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


@pytest.mark.parametrize(("source", "data"), CASES)
def test_standalone_module_matches_in_memory_model(source, data, tmp_path):
    torch.manual_seed(0)
    checked = flowspec.check(source)
    model = checked.build_model()
    shape = checked.graph.nodes["x"].output_info[0].shape
    x = load_dataset(data, n_train=64, n_test=64).test if data else torch.randn(64, *shape)
    model.initialize(x)  # data-dependent initialisation
    randomize_(model, scale=0.05)
    model.eval()
    (tmp_path / "model.py").write_text(checked.standalone_source())
    torch.save(model.state_dict(), tmp_path / "weights.pt")
    torch.save(x, tmp_path / "x.pt")
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
        expected = model.log_prob(x)
        torch.manual_seed(321)
        samples = model.sample(50)
    torch.testing.assert_close(out["log_prob"], expected, atol=1e-6, rtol=0)
    torch.testing.assert_close(out["samples"], samples, atol=1e-6, rtol=0)


def test_standalone_source_names_no_flowspec_import():
    source = flowspec.check(SPECS / "vflow_moons.yaml").standalone_source()
    assert "import flowspec" not in source and "from flowspec" not in source
    assert "pydantic" not in source
