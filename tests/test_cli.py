"""The command line, through typer's CliRunner (plus one ``python -m flowspec`` smoke test):
exit codes 0/1/2/130, located diagnostics without tracebacks, and every verb's files."""

import builtins
import json
import re
import shutil
import subprocess
import sys

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from flowspec.cli import app
from flowspec.cli._parts import part_kinds
from flowspec.core.registry import node_kinds
from flowspec.spec.schema import json_schema
from flowspec.train.checkpoint import load_checkpoint

VERBS = [
    "validate",
    "render",
    "compile",
    "schema",
    "nodes",
    "train",
    "eval",
    "sample",
    "sweep",
    "tune",
]

MOONS = """\
flowspec: "1"
name: tiny-moons
inputs:
  x: {shape: [2]}
blocks:
  step:
    - {kind: affine_coupling, net: {hidden: [16]}}
    - {kind: affine_coupling, mask: [0, 1], net: {hidden: [16]}}
nodes:
  body: {block: step, repeat: 2, in: x}
  prior: {kind: standard_normal, in: body}
"""

BROKEN = """\
flowspec: "1"
name: broken
inputs:
  x: {shape: [2]}
nodes:
  c: {kind: affine_couplin, in: x}
  prior: {kind: standard_normal, in: c}
"""

FOUR_DIMS = MOONS.replace("shape: [2]", "shape: [4]").replace("mask: [0, 1]", "mask: alternate")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def moons(tmp_path):
    path = tmp_path / "moons.yaml"
    path.write_text(MOONS)
    return path


def no_traceback(result) -> None:
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


# --- help -------------------------------------------------------------------------------


def test_help_lists_every_verb_with_examples(runner):
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for verb in VERBS:
        assert verb in result.output
    assert "Examples" in result.output and "flowspec validate" in result.output


@pytest.mark.parametrize("verb", VERBS)
def test_every_verb_has_help_with_examples(runner, verb):
    result = runner.invoke(app, [verb, "--help"])
    assert result.exit_code == 0, result.output
    assert "Examples" in result.output and f"flowspec {verb}" in result.output


def test_python_dash_m_flowspec_runs():
    result = subprocess.run(
        [sys.executable, "-m", "flowspec", "--help"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "validate" in result.stdout


def test_version(runner):
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("flowspec ")


# --- validate ---------------------------------------------------------------------------


def test_validate_prints_the_table_and_exactness(runner, moons):
    result = runner.invoke(app, ["validate", str(moons)])
    assert result.exit_code == 0, result.output
    for node in ["x", "body_0_0", "body_0_1", "body_1_0", "body_1_1", "prior"]:
        assert node in result.stdout
    assert "affine_coupling" in result.stdout and "bijective" in result.stdout
    assert "data dims: 2" in result.stdout and "latent dims: 2" in result.stdout
    assert "log_prob is the exact log-likelihood" in result.stdout


def test_validate_json(runner, moons):
    result = runner.invoke(app, ["validate", "--json", str(moons)])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["ok"] is True and report["warnings"] == []
    book = report["bookkeeping"]
    assert book["data_dims"] == book["latent_dims"] == 2 and book["likelihood"] == "exact"
    assert [row["id"] for row in book["rows"]][-1] == "prior"


def test_validate_reports_located_diagnostics_and_exits_1(runner, tmp_path):
    spec = tmp_path / "broken.yaml"
    spec.write_text(BROKEN)
    result = runner.invoke(app, ["validate", str(spec)])
    assert result.exit_code == 1
    no_traceback(result)
    assert f"{spec}:6:7" in result.stderr
    assert "E106" in result.stderr and "hint: did you mean 'affine_coupling'?" in result.stderr
    assert "1 error found" in result.stderr
    assert result.stdout == ""


def test_validate_json_with_errors(runner, tmp_path):
    spec = tmp_path / "broken.yaml"
    spec.write_text(BROKEN)
    result = runner.invoke(app, ["validate", "--json", str(spec)])
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False and report["errors"] == 1
    [diagnostic] = report["diagnostics"]
    assert (diagnostic["code"], diagnostic["line"], diagnostic["col"]) == ("E106", 6, 7)
    assert diagnostic["node"] == "c" and diagnostic["hint"]


def test_validate_missing_file_is_a_clear_error(runner, tmp_path):
    result = runner.invoke(app, ["validate", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 1
    no_traceback(result)
    assert "cannot read spec file" in result.stderr and "nope.yaml" in result.stderr


def test_bad_option_and_missing_argument_are_usage_errors(runner, moons):
    assert runner.invoke(app, ["validate", "--bogus", str(moons)]).exit_code == 2
    assert runner.invoke(app, ["validate"]).exit_code == 2
    assert runner.invoke(app, ["frobnicate"]).exit_code == 2


# --- render -----------------------------------------------------------------------------


@pytest.mark.parametrize("suffix, marker", [(".svg", "<svg"), (".gv", "digraph")])
def test_render(runner, moons, tmp_path, suffix, marker):
    if suffix != ".gv":
        assert shutil.which("dot") is not None, (
            "Graphviz's dot is required for the test suite: apt-get install graphviz"
        )
    output = tmp_path / "out" / f"arch{suffix}"
    result = runner.invoke(app, ["render", str(moons), "-o", str(output)])
    assert result.exit_code == 0, result.output
    assert f"wrote {output}" in result.stdout
    assert marker in output.read_text()


def test_render_without_graphviz_falls_back_to_dot_and_exits_0(
    runner, moons, tmp_path, monkeypatch
):
    import flowspec.render.graphviz as drawing

    monkeypatch.setattr(drawing.shutil, "which", lambda name: None)
    output = tmp_path / "arch.png"
    result = runner.invoke(app, ["render", str(moons), "-o", str(output)])
    assert result.exit_code == 0, result.output
    assert "digraph" in output.with_suffix(".gv").read_text()
    assert "Graphviz" in result.stderr


def test_render_rejects_unknown_suffix(runner, moons, tmp_path):
    result = runner.invoke(app, ["render", str(moons), "-o", str(tmp_path / "arch.jpg")])
    assert result.exit_code == 2
    assert ".svg" in result.output and ".png" in result.output


# --- compile ----------------------------------------------------------------------------


def test_compile_writes_valid_python(runner, moons, tmp_path):
    output = tmp_path / "gen" / "model.py"
    result = runner.invoke(app, ["compile", str(moons), "-o", str(output)])
    assert result.exit_code == 0, result.output
    source = output.read_text()
    builtins.compile(source, str(output), "exec")
    assert str(output) in result.stdout and "exact" in result.stdout
    assert [p.name for p in output.parent.iterdir()] == ["model.py"]  # no temporary left


def test_compile_standalone_writes_a_torch_only_module(runner, moons, tmp_path):
    output = tmp_path / "standalone.py"
    result = runner.invoke(app, ["compile", str(moons), "--standalone", "-o", str(output)])
    assert result.exit_code == 0, result.output
    source = output.read_text()
    builtins.compile(source, str(output), "exec")
    assert "flowspec" not in "".join(
        line for line in source.splitlines() if line.startswith(("import", "from"))
    )
    assert "def build_model()" in source


def test_compile_to_stdout_keeps_stdout_pure_python(runner, moons):
    result = runner.invoke(app, ["compile", str(moons)])
    assert result.exit_code == 0
    builtins.compile(result.stdout, "<stdout>", "exec")
    assert "exact" in result.stderr


def test_compile_to_an_unwritable_path_is_a_one_line_error(runner, moons, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = runner.invoke(app, ["compile", str(moons), "-o", str(blocker / "model.py")])
    assert result.exit_code == 1
    no_traceback(result)
    assert result.stderr.startswith("error:") and len(result.stderr.strip().splitlines()) == 1


# --- schema, nodes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["compile", "{spec}", "-o", "{spec}"],
        ["compile", "{spec}", "--standalone", "-o", "{folder}/../{folder_name}/spec.yaml"],
        ["render", "{spec}", "-o", "{folder}/spec.gv"],
        ["train", "{spec}", "--data", "moons", "--steps", "1", "-o", "{spec}"],
        ["sample", "{spec}", "-o", "{spec}"],
        ["sweep", "{spec}", "--data", "moons", "--set", "body.repeat=1,2", "-o", "{folder}"],
    ],
    ids=["compile", "compile-by-another-path", "render", "train", "sample", "sweep"],
)
def test_no_command_writes_over_a_file_it_reads(runner, tmp_path, argv):
    """`flowspec compile keep.yaml -o keep.yaml` replaced the spec with generated Python
    (exit 0). Every command that writes refuses an output that is one of its inputs
    (compared as files, so another spelling of the path is caught), before writing."""
    spec = tmp_path / "spec.yaml"
    spec.write_text(MOONS)
    if argv[0] == "render":  # a spec named like the DOT source render writes
        spec = spec.rename(tmp_path / "spec.gv")
    if argv[0] == "sample":  # a checkpoint named like the array sample writes
        spec = spec.rename(tmp_path / "run.npy")
    if argv[0] == "sweep":  # a spec named like the table a study writes
        spec = spec.rename(tmp_path / "results.csv")
    before = spec.read_bytes()
    names = {"spec": spec, "folder": tmp_path, "folder_name": tmp_path.name}
    result = runner.invoke(app, [arg.format(**names) for arg in argv])
    assert result.exit_code == 2, result.output
    assert "refusing to write" in result.output and "Traceback" not in result.output
    assert spec.read_bytes() == before


def test_schema_to_stdout_and_file(runner, tmp_path):
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    assert json.loads(result.stdout) == json_schema()
    output = tmp_path / "schema.json"
    assert runner.invoke(app, ["schema", "-o", str(output)]).exit_code == 0
    assert json.loads(output.read_text()) == json_schema()


def test_nodes_lists_every_kind_by_category(runner):
    result = runner.invoke(app, ["nodes"])
    assert result.exit_code == 0
    for word in ["affine_coupling", "standard_normal", "bijective", "distribution"]:
        assert word in result.stdout


def test_nodes_kind_shows_its_settings(runner):
    result = runner.invoke(app, ["nodes", "affine_coupling"])
    assert result.exit_code == 0, result.output
    text = result.stdout
    for word in [
        "bijective",
        "arXiv",
        "log|det dz/dx|",
        "scale_bound",
        "mask",
        "net.hidden",
        "[64, 64]",
        "float (> 0, <= 80)",
        "accepts context",
    ]:
        assert word in text, word
    assert re.search(r"^\s*in\s+str \| list\[str\] \| null", text, re.MULTILINE)
    assert "in_" not in text


def test_unknown_node_kind_suggests_a_name(runner):
    result = runner.invoke(app, ["nodes", "afine_coupling"])
    assert result.exit_code == 1
    assert "did you mean 'affine_coupling'?" in result.stderr


# --- train and sample -------------------------------------------------------------------


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("train")
    spec = folder / "moons.yaml"
    spec.write_text(MOONS)
    checkpoint = folder / "moons.safetensors"
    result = CliRunner().invoke(
        app,
        [
            "train",
            str(spec),
            "--data",
            "moons",
            "--steps",
            "20",
            "--batch-size",
            "64",
            "--no-progress",
            "-o",
            str(checkpoint),
        ],
    )
    return result, checkpoint


def test_train_reports_nll_and_writes_a_checkpoint(trained):
    result, checkpoint = trained
    assert result.exit_code == 0, result.output
    assert checkpoint.is_file()
    assert "train NLL:" in result.stdout and "test NLL:" in result.stdout
    assert "nats" in result.stdout and "bits/dim" not in result.stdout
    assert "exact" in result.stdout and str(checkpoint) in result.stdout


def test_sample_writes_a_plot_and_an_array(runner, trained, tmp_path):
    _, checkpoint = trained
    plot, array = tmp_path / "s.png", tmp_path / "s.npy"
    result = runner.invoke(
        app, ["sample", str(checkpoint), "-n", "50", "-o", str(plot), "--npy", str(array)]
    )
    assert result.exit_code == 0, result.output
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    samples = np.load(array)
    assert samples.shape == (50, 2) and np.isfinite(samples).all()


def test_sample_to_npy_only_is_seeded(runner, trained, tmp_path):
    _, checkpoint = trained
    paths = [tmp_path / "a.npy", tmp_path / "b.npy"]
    for path in paths:
        result = runner.invoke(app, ["sample", str(checkpoint), "-n", "7", "-o", str(path)])
        assert result.exit_code == 0, result.output
    assert np.array_equal(np.load(paths[0]), np.load(paths[1]))
    assert not list(tmp_path.glob("*.png"))


def test_sample_errors(runner, tmp_path):
    corrupt = tmp_path / "bad.safetensors"
    corrupt.write_bytes(b"not a checkpoint")
    for checkpoint in (corrupt, tmp_path / "missing.safetensors"):
        result = runner.invoke(app, ["sample", str(checkpoint), "-o", str(tmp_path / "s.png")])
        assert result.exit_code == 1
        no_traceback(result)
        assert checkpoint.name in result.stderr
    assert (
        runner.invoke(app, ["sample", str(corrupt), "-o", str(tmp_path / "s.jpg")]).exit_code == 2
    )
    assert runner.invoke(app, ["sample", str(corrupt)]).exit_code == 2


# --- compile --format export ----------------------------------------------------------------


def test_compile_export_writes_programs_with_the_trained_weights(runner, trained, tmp_path):
    _, checkpoint = trained
    spec = checkpoint.parent / "moons.yaml"
    output = tmp_path / "moons.pt2"
    result = runner.invoke(
        app,
        [
            "compile",
            str(spec),
            "--format",
            "export",
            "-o",
            str(output),
            "--weights",
            str(checkpoint),
        ],
    )
    assert result.exit_code == 0, result.output
    log_prob = torch.export.load(tmp_path / "moons.log_prob.pt2").module()
    sample = torch.export.load(tmp_path / "moons.sample.pt2").module()
    model, _ = load_checkpoint(checkpoint)
    x = torch.randn(7, 2)
    torch.testing.assert_close(log_prob(x), model.log_prob(x))
    assert sample(torch.empty(5)).shape == (5, 2)


def test_compile_export_usage_and_mismatched_weights(runner, trained, tmp_path):
    _, checkpoint = trained
    spec = checkpoint.parent / "moons.yaml"
    assert runner.invoke(app, ["compile", str(spec), "--format", "export"]).exit_code == 2
    assert runner.invoke(app, ["compile", str(spec), "--weights", str(checkpoint)]).exit_code == 2
    other = tmp_path / "four.yaml"
    other.write_text(FOUR_DIMS)
    result = runner.invoke(
        app,
        [
            "compile",
            str(other),
            "--format",
            "export",
            "-o",
            str(tmp_path / "m.pt2"),
            "--weights",
            str(checkpoint),
        ],
    )
    assert result.exit_code == 1
    no_traceback(result)
    assert "another spec" in result.stderr


def test_compile_export_refuses_weights_trained_for_another_spec(runner, trained, tmp_path):
    _, checkpoint = trained
    other = tmp_path / "other.yaml"
    other.write_text(
        MOONS.replace("kind: affine_coupling", "kind: affine_coupling, scale_bound: 0.5", 1)
    )
    result = runner.invoke(
        app,
        [
            "compile",
            str(other),
            "--format",
            "export",
            "-o",
            str(tmp_path / "m.pt2"),
            "--weights",
            str(checkpoint),
        ],
    )
    assert result.exit_code == 1, result.output
    no_traceback(result)
    assert "another spec" in result.stderr
    assert not list(tmp_path.glob("*.pt2"))


def test_compile_export_creates_the_folder_and_rejects_standalone(runner, moons, tmp_path):
    output = tmp_path / "new" / "deeper" / "m.pt2"
    result = runner.invoke(app, ["compile", str(moons), "--format", "export", "-o", str(output)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in output.parent.iterdir()) == ["m.log_prob.pt2", "m.sample.pt2"]
    result = runner.invoke(
        app, ["compile", str(moons), "--format", "export", "--standalone", "-o", str(output)]
    )
    assert result.exit_code == 2


def test_nodes_kind_lists_the_choices_of_an_enum_setting(runner):
    """A coupling's named masks (an enum) are listed as the words a spec writes."""
    result = runner.invoke(app, ["nodes", "coupling"], env={"COLUMNS": "250"})
    (row,) = [line for line in result.stdout.splitlines() if line.startswith(" mask ")]
    assert '"half" | "alternate" | "checkerboard" | "checkerboard_flipped"' in row


def test_nodes_kind_shows_its_direction_costs_and_what_changes_them(runner):
    result = runner.invoke(app, ["nodes", "autoregressive"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    lines = {line.split("  ")[0].strip(): line for line in result.stdout.splitlines()}
    assert "one pass; D passes with direction iaf" in lines["log_prob cost"]
    sample = lines["sample cost"]
    assert "D passes" in sample and "iterative with transformer logistic_mixture, naf" in sample
    slice_text = runner.invoke(app, ["nodes", "slice"], env={"COLUMNS": "200"}).stdout
    assert re.search(r"sample cost\s+one pass\s*$", slice_text, re.MULTILINE)


@pytest.mark.parametrize("kind", sorted(node_kinds()))
def test_nodes_describes_every_kind(runner, kind):
    """Every kind is described, required settings and density parts included."""
    result = runner.invoke(app, ["nodes", kind])
    assert result.exit_code == 0, result.output
    assert "log_prob cost" in result.stdout and "sample cost" in result.stdout


PARTS = {name: cls for name, (_, cls) in part_kinds().items() if name not in node_kinds()}


@pytest.mark.parametrize("name", sorted(PARTS))
def test_nodes_describes_every_part(runner, name):
    """A transformer, conditioner or density kind (a name from the README's tables of
    parts) is described with the node fields that take it and each of its settings."""
    result = runner.invoke(app, ["nodes", name], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert "not a node kind" in text
    assert PARTS[name].summary in text and PARTS[name].reference in text
    text = result.stdout
    # the row may wrap: its continuation lines start with blanks where the label stands
    used = re.search(r"^used in\s+(.+(?:\n {5,}\S.*)*)$", text, re.MULTILINE)
    assert used, text
    listed = " ".join(used.group(1).split())
    assert re.fullmatch(r"\w+: of [\w, ]+(; \w+: of [\w, ]+)*", listed), text
    for field in PARTS[name].model_fields:
        if field != "kind":
            assert re.search(rf"^ {field}\s", text, re.MULTILINE), field


def test_nodes_lists_the_parts_and_suggests_their_names(runner):
    listing = runner.invoke(app, ["nodes"], env={"COLUMNS": "200"}).stdout
    for name in part_kinds():
        assert re.search(rf"\b{name}\b", listing.split("parts of nodes")[1]), name
    result = runner.invoke(app, ["nodes", "rq_splin"])
    assert result.exit_code == 1 and "did you mean 'rq_spline'?" in result.stderr
