"""A study's search space: --set/--search parsing, where values land in the spec, and
every configuration checked before any trial with errors located in the user's spec file
(torch-free and fast)."""

from __future__ import annotations

import builtins

import pytest
import yaml
from typer.testing import CliRunner

import flowspec
from flowspec.cli import app
from flowspec.diagnostics import SpecError
from flowspec.study.configs import Space
from flowspec.study.space import SpaceError, parse_search, parse_set

BLOCKS = """\
flowspec: "1"
name: sweepable
inputs:
  x: {shape: [2]}
blocks:
  step:
    - {kind: affine_coupling, net: {hidden: [16]}}
    - {kind: reverse}
nodes:
  first: {kind: affine_coupling, in: x, net: {hidden: [8]}}
  body: {block: step, repeat: 2, in: first}
  prior: {kind: standard_normal, in: body}
"""


@pytest.fixture
def spec(tmp_path):
    path = tmp_path / "blocks.yaml"
    path.write_text(BLOCKS)
    return flowspec.load(path)


def space(loaded, *sets: str, searches: tuple[str, ...] = ()) -> Space:
    return Space.of(loaded, [parse_set(s) for s in sets] + [parse_search(s) for s in searches])


def test_set_splits_values_outside_brackets_and_search_reads_ranges():
    axis = parse_set("net.hidden=[32],[64, 64],[]")
    assert axis.path == ("net", "hidden") and axis.choices == ([32], [64, 64], [])
    assert parse_set("train.lr=1e-3,3e-3").choices == (0.001, 0.003)
    lr = parse_search("lr=log:1e-4:1e-2")
    assert (lr.kind, lr.low, lr.high, lr.log, lr.integer) == ("log", 1e-4, 1e-2, True, False)
    repeat = parse_search("body.repeat=int:2:16")
    assert repeat.representatives() == (2, 16) and repeat.integer
    assert parse_search("step.net.activation=relu,tanh").choices == ("relu", "tanh")
    for bad in ("net.hidden", "=3", "a..b=1", "body.repeat=4,", "x=[1", "x=1,1"):
        with pytest.raises(SpaceError):
            parse_set(bad)
    for bad in ("lr=log:0:1", "lr=log:1e-2", "n=int:2.5:4", "lr=float:3:1", "lr=float:0:inf"):
        with pytest.raises(SpaceError):
            parse_search(bad)


def test_values_land_on_nodes_blocks_fields_and_train_settings(spec):
    everywhere = space(spec, "net.hidden=[4]").data({"net.hidden": [4]})
    assert everywhere["nodes"]["first"]["net"]["hidden"] == [4]
    assert everywhere["blocks"]["step"][0]["net"]["hidden"] == [4]
    one_node = space(spec, "first.net.hidden=[4]").data({"first.net.hidden": [4]})
    assert one_node["nodes"]["first"]["net"]["hidden"] == [4]
    assert one_node["blocks"]["step"][0]["net"]["hidden"] == [16]
    block = space(spec, "step.net.hidden=[4]").data({"step.net.hidden": [4]})
    assert block["blocks"]["step"][0]["net"]["hidden"] == [4]
    assert block["nodes"]["first"]["net"]["hidden"] == [8]
    repeat = space(spec, "body.repeat=3").data({"body.repeat": 3})
    assert repeat["nodes"]["body"]["repeat"] == 3 and spec.data["nodes"]["body"]["repeat"] == 2
    added = space(spec, "step.net.activation=tanh")  # a field the spec leaves out: added
    assert added.data({"step.net.activation": "tanh"})["blocks"]["step"][0]["net"] == {
        "hidden": [16],
        "activation": "tanh",
    }
    for path in ("train.lr", "lr"):  # a bare training setting lands in train
        lr = space(spec, f"{path}=0.1")
        assert lr.data({path: 0.1})["train"] == {"lr": 0.1}
        assert lr.training({path: 0.1}) == {"lr": 0.1}


def test_grid_and_corners_and_the_trial_spec_text(spec):
    grid = space(spec, "net.hidden=[4],[8]", "body.repeat=1,3")
    assert grid.grid() == [
        {"net.hidden": [4], "body.repeat": 1},
        {"net.hidden": [4], "body.repeat": 3},
        {"net.hidden": [8], "body.repeat": 1},
        {"net.hidden": [8], "body.repeat": 3},
    ]
    sizes = [
        sum(p.numel() for p in flowspec.compile(grid.spec_text(values)).parameters())
        for values in grid.grid()
    ]
    assert sizes[0] < sizes[1] and sizes[0] < sizes[2] < sizes[3]
    search = space(spec, "net.hidden=[4],[8]", searches=("lr=log:1e-4:1e-2",))
    assert search.corners() == [
        {"net.hidden": [4], "lr": 1e-4},
        {"net.hidden": [8], "lr": 1e-4},
        {"net.hidden": [4], "lr": 1e-2},
    ]
    assert yaml.safe_load(search.spec_text({"net.hidden": [8], "lr": 1e-2}))["train"] == {
        "lr": 1e-2
    }


def errors(loaded, *sets: str, searches: tuple[str, ...] = ()) -> list[str]:
    with pytest.raises(SpecError) as caught:
        checked = space(loaded, *sets, searches=searches)
        checked.check(checked.grid())
    return [d.format() for d in caught.value.diagnostics]


def test_a_bad_path_is_located_in_the_users_spec_with_a_hint(spec):
    file = spec.source.file
    (typo,) = errors(spec, "net.hiden=[32]")
    assert typo.startswith(f"{file}:10:41: error[E940]: --set net.hiden")  # first's net:
    assert "did you mean 'hidden'?" in typo
    (unknown,) = errors(spec, "widht=3")
    assert unknown.startswith(f"{file}:9:1: error[E940]") and "'widht'" in unknown  # nodes:
    (block_use,) = errors(spec, "body.net.hidden=[3]")
    assert block_use.startswith(f"{file}:11:3: error[E940]") and "set step.net.hidden" in block_use
    (setting,) = errors(spec, searches=("train.lrr=log:1e-4:1e-2",))
    assert "error[E940]: --search train.lrr" in setting and "did you mean 'lr'?" in setting
    (seed,) = errors(spec, "train.seed=0,1")
    assert "error[E941]" in seed and "--seeds" in seed
    both = errors(spec, "net.hiden=[3]", "widht=3")  # every bad path at once
    assert len(both) == 2


def test_a_bad_value_is_located_where_the_field_is_in_the_users_file(spec):
    """Not in a generated spec: the line and column of ``repeat: 2`` in the 12-line file."""
    assert len(BLOCKS.splitlines()) == 12
    file = spec.source.file
    (repeat,) = errors(spec, "body.repeat=0,2", "net.hidden=[4],[8]")  # once, not per combination
    assert repeat.startswith(f"{file}:11:23: error[E104]: node 'body'")
    assert repeat.count("(with --set body.repeat=0)") == 1
    (activation,) = errors(spec, searches=("step.net.activation=tanh,bogus",))
    assert activation.startswith(f"{file}:7:31: error[E104]")  # the net: that gets the field
    assert "(with --search step.net.activation=bogus)" in activation
    (rate,) = errors(spec, searches=("lr=log:1e-3:20",))  # a range's end is checked too
    assert "error[E901]" in rate and "lr=20.0" in rate


def test_the_commands_refuse_a_bad_space_before_any_trial(tmp_path, monkeypatch):
    path = tmp_path / "blocks.yaml"
    path.write_text(BLOCKS)
    runner, folder = CliRunner(), tmp_path / "out"
    base = ["-d", "moons", "-o", str(folder)]
    result = runner.invoke(app, ["sweep", str(path), *base, "--set", "net.hiden=[4]"])
    assert result.exit_code == 1 and f"{path}:10:41: error[E940]" in result.stderr
    assert "Traceback" not in result.output and not folder.exists()  # nothing started
    result = runner.invoke(app, ["sweep", str(path), *base, "--set", "body.repeat=0,1"])
    assert result.exit_code == 1 and f"{path}:11:23: error[E104]" in result.stderr
    result = runner.invoke(app, ["tune", str(path), *base, "--search", "lr=log:1e-3"])
    assert result.exit_code == 2 and "KIND:LOW:HIGH" in result.stderr
    result = runner.invoke(app, ["sweep", str(path), *base])
    assert result.exit_code == 2 and "nothing to vary" in result.stderr
    real_import = builtins.__import__

    def without_optuna(name, *args, **kwargs):
        if name == "optuna" or name.startswith("optuna."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_optuna)
    result = runner.invoke(app, ["sweep", str(path), *base, "--set", "body.repeat=1,2"])
    assert result.exit_code == 1 and "pip install 'flowspec[studies]'" in result.stderr
