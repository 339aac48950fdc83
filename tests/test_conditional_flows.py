"""Conditional flows: a context input reaches every conditioner and conditional base that
asks for it, and conditional samples follow the context (specs/conditional_moons.yaml)."""

import pytest
import torch
from bundled import SPECS
from oracles import randomize_

import flowspec
from flowspec.train.data import load_dataset
from flowspec.train.loop import fit


@pytest.fixture(scope="module")
def trained():
    torch.manual_seed(0)
    model = flowspec.compile(SPECS / "conditional_moons.yaml")
    data = load_dataset("moons", n_train=2000, n_test=500)
    fit(model, data, steps=150, batch_size=256, lr=3e-3, seed=0, progress=False)
    return model, data


def test_the_context_reaches_every_conditioner_and_the_base():
    checked = flowspec.check(SPECS / "conditional_moons.yaml")
    conditioned = {node.id for node in checked.graph.layers if node.context is not None}
    couplings = {node.id for node in checked.graph.layers if node.kind == "coupling"}
    assert couplings and couplings | {"prior"} <= conditioned


def test_the_label_changes_the_density(trained):
    model, data = trained
    test = data.split("test")
    right = model.log_prob(test.x, label=test.context)
    wrong = model.log_prob(test.x, label=1.0 - test.context)
    assert right.mean() > wrong.mean() + 3.0


@pytest.mark.parametrize("label", [0.0, 1.0])
def test_conditional_samples_land_on_their_moon(trained, label):
    """Each sample's nearest training point carries the label it was drawn with."""
    model, data = trained
    train = data.split("train")
    with torch.no_grad():
        samples = model.sample(400, label=torch.full((400, 1), label))
    nearest = torch.cdist(samples, train.x).argmin(dim=1)
    agree = (train.context[nearest, 0] == label).float().mean()
    assert agree > 0.9


def test_gradients_reach_every_parameter_and_save_load_round_trips(tmp_path):
    model = flowspec.compile(SPECS / "conditional_moons.yaml")
    randomize_(model, scale=0.1)  # zero-initialised last layers would stop the gradients
    data = load_dataset("moons", n_train=64, n_test=64)
    test = data.split("test")
    model.log_prob(test.x, label=test.context).mean().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())
    path = tmp_path / "weights.pt"
    torch.save(model.state_dict(), path)
    again = flowspec.compile(SPECS / "conditional_moons.yaml")
    again.load_state_dict(torch.load(path, weights_only=True))
    torch.testing.assert_close(
        again.log_prob(test.x, label=test.context), model.log_prob(test.x, label=test.context)
    )
