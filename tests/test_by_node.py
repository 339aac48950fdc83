"""``flowspec eval --by-node``: every node's term of log p(x), summing per example to the
model's log_prob (same draws) for every bundled spec, and the stochastic nodes' -log q parts
against the proposals' own densities."""

import json

import pytest
import torch
from bundled import CONDITIONAL, DATA, SPECS
from oracles import randomize_
from typer.testing import CliRunner

import flowspec
from flowspec.cli import app
from flowspec.render.shading import Shading
from flowspec.train.by_node import by_node, per_example
from flowspec.train.data import Split, load_dataset
from flowspec.train.evaluate import evaluate
from flowspec.train.state import seeded

BUNDLED = {**DATA, **CONDITIONAL}


def _model_and_test(name: str, n_test: int = 24) -> tuple[flowspec.FlowModel, Split]:
    torch.manual_seed(0)
    model = flowspec.compile(SPECS / f"{name}.yaml").double()
    data = load_dataset(BUNDLED[name], n_train=64, n_test=n_test, n_val=8, seed=0)
    train = data.split("train").to(dtype=torch.float64)
    model.initialize(*(train.inputs() if model.CONTEXT_INPUTS else (train.x,)))
    randomize_(model, scale=0.05)
    return model.eval(), data.split("test").to(dtype=torch.float64)


@pytest.mark.parametrize("name", sorted(BUNDLED))
def test_node_terms_sum_to_log_prob_per_example(name):
    model, split = _model_and_test(name)
    inputs = split.inputs() if model.CONTEXT_INPUTS else (split.x,)
    with seeded(3), torch.no_grad():
        expected = model.log_prob(*inputs).double()
    values = per_example(model, split, seed=3)
    summed = torch.stack(list(values.contributions.values())).sum(0)
    assert torch.isfinite(expected).all()
    assert (summed - expected).abs().max() < 1e-6
    assert list(values.contributions) == [n.id for n in model.checked.graph.layers]
    stochastic = {n.id for n in model.checked.graph.layers if n.node_spec.stochastic_forward}
    assert set(values.proposals) == stochastic


def test_means_and_total_are_the_printed_figure_with_two_draws():
    model, split = _model_and_test("vflow_moons")
    terms = by_node(model, split, draws=2, seed=5)
    scores = evaluate(model, split, discrete=False, draws=2, seed=5)
    assert terms.figure == scores.figure == "-ELBO"
    assert abs(terms.total + scores.nll) < 1e-9
    assert abs(sum(row.mean for row in terms.rows) - terms.total) < 1e-9
    assert abs(terms.stderr - scores.stderr) < 1e-9


def test_augment_pays_its_encoders_log_density():
    """vflow's pad draws e ~ q(e | x): its -log q part is -log q of the draw it made,
    scored again by the encoder, and that is its whole term."""
    model, split = _model_and_test("vflow_moons")
    with seeded(7), torch.no_grad():
        trace = model.trace(split.x)
    values = per_example(model, split, seed=7)
    pad = model.nodes["pad"]
    drawn = trace.values["pad"][:, split.x.shape[1] :]
    with torch.no_grad():
        log_q = pad.encoder.log_prob(drawn, split.x).double()
    torch.testing.assert_close(values.proposals["pad"], -log_q)
    torch.testing.assert_close(values.proposals["pad"], values.contributions["pad"])


def test_rounding_term_is_its_proposal_and_the_rescaling():
    """A variational dequantizer's term is -log q(u | x) - D log K: the rest of its term
    after the -log q part is that constant."""
    model, split = _model_and_test("vardeq_digits")
    values = per_example(model, split)
    name = next(n for n, layer in model.nodes.items() if type(layer).__name__ == "Rounding")
    rest = values.contributions[name] - values.proposals[name]
    layer = model.nodes[name]
    torch.testing.assert_close(rest, torch.full_like(rest, -layer.log_scale))
    assert values.proposals[name].std() > 0  # a learned proposal: it varies by example


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """vflow_moons with moved weights, saved as training saves it (data: moons)."""
    from flowspec.train.checkpoint import save_checkpoint

    torch.manual_seed(0)
    model = flowspec.compile(SPECS / "vflow_moons.yaml")
    model.initialize(load_dataset("moons", n_test=8).train)
    randomize_(model, scale=0.05)
    return save_checkpoint(
        tmp_path_factory.mktemp("by_node") / "v.safetensors", model, meta={"data": "moons"}
    )


def test_eval_by_node_prints_every_term_summing_to_the_figure(checkpoint):
    runner = CliRunner()
    shown = runner.invoke(app, ["eval", str(checkpoint), "--by-node", "--k", "4"])
    assert shown.exit_code == 0, shown.output
    found = json.loads(
        runner.invoke(app, ["eval", str(checkpoint), "--by-node", "--k", "4", "--json"]).output
    )
    table = found["by_node"]
    assert abs(table["total_log_prob"] + found["nll"]) < 1e-9
    summed = sum(row["nats"] for row in table["nodes"])  # float32 terms, summed in float64
    assert abs(summed - table["total_log_prob"]) < 1e-5
    assert [row["node"] for row in table["proposals"]] == ["pad"]
    for row in table["nodes"]:
        if row["node"].endswith("_1") or row["node"] in ("pad", "prior"):
            assert f"{row['nats']:+.4f}" in shown.output  # each shown term, in nats
    assert "nats per example; bits/dim = nats / (D ln 2) with D = 2" in shown.output
    assert (
        "total: log p(x) as scored (ELBO, lower bound; 1 draw per example, evaluation seed 0)"
        in shown.output
    )
    assert "-log q(e | x)" in shown.output and "at least -ELBO minus -IWBO" in shown.output


def test_render_with_weights_fills_each_node_by_its_term(checkpoint, tmp_path):
    runner = CliRunner()
    found = json.loads(runner.invoke(app, ["eval", str(checkpoint), "--by-node", "--json"]).output)
    terms = {row["node"]: row["nats"] for row in found["by_node"]["nodes"]}
    out = tmp_path / "v.gv"
    drawn = runner.invoke(
        app,
        ["render", str(SPECS / "vflow_moons.yaml"), "--weights", str(checkpoint), "-o", str(out)],
    )
    assert drawn.exit_code == 0, drawn.output
    source = out.read_text()
    shade = Shading(terms, dims=2)
    folded = [n for n in terms if n.startswith("body_") and n.endswith("_2")]
    for box, nodes in (("pad", ["pad"]), ("prior", ["prior"]), ("body_0_2", folded)):
        line = next(line for line in source.splitlines() if line.strip().startswith(box + " "))
        assert f'fillcolor="{shade.fill(nodes)}"' in line
        assert shade.text(nodes) in line
    assert "fill: mean term of log p(x), nats per example" in source
    assert source.count("bits/dim</FONT>") == 5  # the colour scale's swatches
    wrong = runner.invoke(
        app,
        ["render", str(SPECS / "realnvp_moons.yaml"), "--weights", str(checkpoint), "-o", str(out)],
    )
    assert wrong.exit_code == 1 and "nodes differ" in wrong.output
