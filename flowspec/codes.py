"""Every diagnostic code flowspec reports, with its one-line meaning.

One record per code: its one-line meaning, why the check exists, a complete spec that
raises it and one that raises nothing (what ``flowspec explain CODE`` prints). Checked by
tests: every code the package reports is listed here, no code stands for two conditions,
and every example runs through the real pipeline with the outcome it claims.

Ranges: E0xx loading and structure, E1xx fields, E2xx graph, E4xx bijective kinds, E5xx
distributions and surjections, E6xx couplings and autoregressive layers (E600-E649), images
(E650-E699), elementwise transformers and their conditioners (E700-E749), determinant,
residual and continuous-time flows (E750-E799); E8xx SurVAE and discrete nodes; E900-E949
training settings (E940-E949 the --set and --search paths of studies); E950-E999
optimization passes. Warnings take a W and the same ranges.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["CODES", "Code", "Runner"]


#: How a record's examples run (each through the real pipeline, in ``tests/test_codes.py``):
#: ``spec``, each is a complete spec file, checked as ``flowspec validate`` checks it;
#: ``command``, each is a ``$ flowspec ...`` line run in a folder holding ``files``;
#: ``node``, each is one node's settings (``node:``) and the event shapes of its inputs
#: (``inputs:``), run through the kind's own checks, for what no spec can reach but a node
#: kind from a plugin can.
Runner = Literal["spec", "command", "node"]


@dataclass(frozen=True)
class Code:
    """A diagnostic code: its one-line meaning, why the check exists (``text``), an example
    that raises it and no other error (``wrong``) and one that raises no diagnostic at all
    (``right``), run by ``runner``. ``inherent`` lists warnings the examples may also give
    because of the kinds they need (a Sylvester flow has no inference direction: W752)."""

    meaning: str
    text: str
    wrong: str
    right: str
    runner: Runner = "spec"
    files: tuple[tuple[str, str], ...] = ()
    inherent: tuple[str, ...] = ()


def _spec(nodes: str, inputs: str = "  x: {shape: [2]}", blocks: str = "", train: str = "") -> str:
    """A complete spec around ``nodes`` (and ``blocks``, a ``train:`` section)."""
    parts = ['flowspec: "1"', "name: example", "inputs:", inputs]
    parts += ["blocks:", blocks] if blocks else []
    parts += ["nodes:", nodes]
    parts += [train] if train else []
    return "\n".join(parts)


def _prior(value: str, name: str = "prior") -> str:
    return f"  {name}: {{kind: standard_normal, in: {value}}}"


_STEP = "  step:\n    - {kind: affine_coupling}\n    - {kind: reverse}"
_TOY = _spec(_prior("x"))
_X4 = "  x: {shape: [4]}"
_XY = "  x: {shape: [2]}\n  y: {shape: [1], context: true}"
_UNIT = "  x: {shape: [2], low: 0, high: 1}"
_UNIT_OPEN = "  x: {shape: [2], low: 0, high: 1, bounds: open}"
_IMG = "  x: {shape: [1, 8, 8]}"
_HALVES = "  halves: {kind: split, in: x, sizes: [1, 1]}\n" + _prior("halves.out0", "p0")
_DISC = "  x: {shape: [2], levels: 17}"
_AB = "  a: {shape: [2]}\n  b: {shape: [2]}"
_FI = "  flat: {shape: [2]}\n  image: {shape: [1, 2, 2]}"
_CR = "  counts: {shape: [2], levels: 17}\n  reals: {shape: [2]}"
_X64 = "  x: {shape: [64]}"
_X3 = "  x: {shape: [3]}"
_C4 = "  x: {shape: [4, 4, 4]}"
_X784 = "  x: {shape: [784]}"
_B4 = "  x: {shape: [4], levels: 2}"
_L5 = "  x: {shape: [4], levels: 5}"
_L17 = "  x: {shape: [4], levels: 17}"
_LEVELS_4_2 = "  a: {shape: [4], levels: 4}\n  flags: {shape: [2], levels: 2}"
_X32 = "  x: {shape: [32]}"
_AUG = (
    "  pad: {kind: augment, in: x, extra: 2, encoder: {kind: flow, layers: [LAYERS]}}\n"
    + _prior("pad")
)

#: A spec with a repeated block and a net, for the study examples (E940, E941).
_STUDY_SPEC = _spec(
    "  flow: {block: step, repeat: 2, in: x}\n" + _prior("flow"),
    blocks="  step:\n    - {kind: affine_coupling, net: {hidden: [16]}}\n    - {kind: reverse}",
)

CODES: dict[str, Code] = {
    # --- loading, structure, fields, graph (E0xx-E3xx) -----------------------------------
    "E001": Code(
        meaning="the spec file cannot be read (missing, unreadable, or not UTF-8)",
        text="flowspec could not read the file: it does not exist, is a directory, cannot be opened, or is not UTF-8 text.",
        wrong="$ flowspec validate spec.yml      # the file is spec.yaml",
        right="$ flowspec validate spec.yaml",
        runner="command",
        files=(("spec.yaml", _TOY),),
    ),
    "E002": Code(
        meaning="a YAML tag, or a value its tag does not allow (flowspec specs are plain data)",
        text="Specs are plain data. YAML tags (!!python/object, !custom) could construct arbitrary objects, so none is accepted; an explicit standard tag must match its value.",
        wrong=_spec(_prior("x"), inputs="  x: !!python/object:os.system {shape: [2]}"),
        right=_TOY,
    ),
    "E003": Code(
        meaning="the text is not valid YAML",
        text="The text is not YAML: an unclosed bracket or quote, a bad indentation, a tab used for indentation (YAML allows spaces only), or a character YAML does not accept.",
        wrong=_spec(_prior("x"), inputs="\tx: {shape: [2]}        # a tab"),
        right=_TOY,
    ),
    "E004": Code(
        meaning="the spec is empty",
        text="The file holds no spec at all (empty, or only comments).",
        wrong="# nothing yet",
        right=_TOY,
    ),
    "E005": Code(
        meaning="the top level of the spec is not a mapping",
        text="A spec is a mapping with the fields flowspec, name, inputs, nodes (and optionally blocks, description).",
        wrong="- flowspec: '1'\n- name: example",
        right=_TOY,
    ),
    "E006": Code(
        meaning="a key appears twice in one mapping",
        text="A key given twice in one mapping would silently keep only the last value (plain YAML loaders do); flowspec reports it instead.",
        wrong=_spec(
            "  flow: {kind: actnorm, in: x}\n  flow: {kind: reverse, in: x}\n" + _prior("flow")
        ),
        right=_spec(
            "  norm: {kind: actnorm, in: x}\n  flow: {kind: reverse, in: norm}\n" + _prior("flow")
        ),
    ),
    "E007": Code(
        meaning="the spec exceeds a size limit: too many values, too deeply nested, or a recursive alias",
        text="Limits keep a check from being asked for absurd memory or time: a spec may hold a bounded number of values (aliases count every expansion, as in 'billion laughs'), nest a bounded depth, and no alias may contain itself.",
        wrong='flowspec: "1"\nname: &name [*name]\ninputs:\n  x: {shape: [2]}\nnodes:\n'
        + _prior("x"),
        right=_spec(
            "  a: {kind: affine_coupling, in: x, net: &net {hidden: [16, 16]}}\n  b: {kind: affine_coupling, in: a, net: *net}\n"
            + _prior("b")
        ),
    ),
    "E008": Code(
        meaning="a mapping key that is not a plain scalar, or a merge key ('<<')",
        text="Keys must be plain scalars (names); a list or mapping as a key, or YAML's merge key '<<', has no meaning in a spec.",
        wrong=_spec(
            "  a: &coupling {kind: affine_coupling, in: x}\n  b:\n    <<: *coupling\n    in: a\n"
            + _prior("b")
        ),
        right=_spec(
            "  a: {kind: affine_coupling, in: x}\n  b: {kind: affine_coupling, in: a}\n"
            + _prior("b")
        ),
    ),
    "E101": Code(
        meaning="a node entry is malformed: not a mapping, or with both 'kind' and 'block'",
        text="Each entry under nodes is a mapping: a node ({kind: ...}) or a block use ({block: ...}), never both, never a bare value.",
        wrong=_spec(
            "  flow: {kind: affine_coupling, block: step, in: x}\n" + _prior("flow"), blocks=_STEP
        ),
        right=_spec("  flow: {block: step, in: x}\n" + _prior("flow"), blocks=_STEP),
    ),
    "E102": Code(
        meaning="an unknown field",
        text="The field is not one the node kind (or section) has: a typo, a field of another kind, or a key glued to its value (in:x, with no space after the colon, is one key). `flowspec nodes KIND` lists the fields.",
        wrong=_spec("  flow: {kind: affine_coupling, in: x, scale_bonud: 2.0}\n" + _prior("flow")),
        right=_spec("  flow: {kind: affine_coupling, in: x, scale_bound: 2.0}\n" + _prior("flow")),
    ),
    "E103": Code(
        meaning="a required field or section is missing or empty",
        text="A field without a default, or a section (inputs, nodes), is missing or empty.",
        wrong=_spec("  drop: {kind: slice, in: x}\n" + _prior("drop"), inputs=_X4),
        right=_spec("  drop: {kind: slice, in: x, keep: 2}\n" + _prior("drop"), inputs=_X4),
    ),
    "E104": Code(
        meaning="a field has a value of the wrong type or out of range",
        text='The value has the wrong type or is out of range. Numbers are strict: "8" is a string, not the integer 8, and true is not 1.',
        wrong=_spec('  body: {block: step, in: x, repeat: "8"}\n' + _prior("body"), blocks=_STEP),
        right=_spec("  body: {block: step, in: x, repeat: 8}\n" + _prior("body"), blocks=_STEP),
    ),
    "E105": Code(
        meaning="a node has no 'kind' (nor 'block')",
        text="Every node names its kind. When the file seems to have one, look for a missing space: 'kind:reverse' is read as one key, not kind = reverse.",
        wrong=_spec("  r: {kind:reverse, in: x}\n" + _prior("r")),
        right=_spec("  r: {kind: reverse, in: x}\n" + _prior("r")),
    ),
    "E106": Code(
        meaning="an unknown node kind",
        text="There is no node kind of that name; `flowspec nodes` lists them. Maps that are not invertible (relu, abs) are not kinds.",
        wrong=_spec("  act: {kind: relu, in: x}\n" + _prior("act")),
        right=_spec("  act: {kind: elementwise, fn: leaky_relu, in: x}\n" + _prior("act")),
    ),
    "E107": Code(
        meaning="a name is not a valid identifier, or is reserved",
        text="Input, node and block names become Python identifiers in generated code: letters, digits and _, not starting with a digit, no Python keyword, no '__'.",
        wrong=_spec("  2nd-layer: {kind: actnorm, in: x}\n" + _prior("2nd-layer")),
        right=_spec("  second_layer: {kind: actnorm, in: x}\n" + _prior("second_layer")),
    ),
    "E108": Code(
        meaning="one name is used for an input and for a node",
        text="A reference must mean one thing: a name cannot be an input and a node.",
        wrong=_spec("  x: {kind: actnorm, in: x}\n" + _prior("x")),
        right=_spec("  norm: {kind: actnorm, in: x}\n" + _prior("norm")),
    ),
    "E109": Code(
        meaning="a node inside a block names its input ('in'): it reads the node before it",
        text="A block is a chain: each node reads the node before it, and the block use gives the first one's input.",
        wrong=_spec(
            "  body: {block: step, in: x}\n" + _prior("body"),
            blocks="  step:\n    - {kind: actnorm, in: x}",
        ),
        right=_spec(
            "  body: {block: step, in: x}\n" + _prior("body"),
            blocks="  step:\n    - {kind: actnorm}",
        ),
    ),
    "E110": Code(
        meaning="a node kind, or a block use, that cannot be part of a block",
        text="Blocks hold chains of one-input, one-output nodes: no distributions, splits, concats, nor other blocks.",
        wrong=_spec(
            "  body: {block: step, in: x}\n" + _prior("body"),
            blocks="  step:\n    - {kind: affine_coupling}\n    - {kind: standard_normal}",
        ),
        right=_spec("  body: {block: step, in: x}\n" + _prior("body"), blocks=_STEP),
    ),
    "E111": Code(
        meaning="a block use names an unknown block",
        text="The block use names a block that is not defined under blocks.",
        wrong=_spec("  body: {block: stpe, in: x}\n" + _prior("body"), blocks=_STEP),
        right=_spec("  body: {block: step, in: x}\n" + _prior("body"), blocks=_STEP),
    ),
    "E112": Code(
        meaning="an input's bounds contradict each other (levels with low/high, or low >= high)",
        text="An input is discrete (levels: K, values 0..K-1) or continuous (optional low and high, with low < high), not both.",
        wrong=_spec(
            "  prior: {kind: categorical, in: x}",
            inputs="  x: {shape: [2], levels: 256, low: 0, high: 1}",
        ),
        right=_spec("  prior: {kind: categorical, in: x}", inputs="  x: {shape: [2], levels: 256}"),
    ),
    "E113": Code(
        meaning="a node inside a block names its context: the block use gives it",
        text="A node inside a block takes its context from the block use, which passes it to every node of the block that accepts one (so each use may condition on a different value).",
        wrong=_spec(
            "  body: {block: step, in: x, context: y}\n" + _prior("body"),
            inputs=_XY,
            blocks="  step:\n    - {kind: affine_coupling, context: y}",
        ),
        right=_spec(
            "  body: {block: step, in: x, context: y}\n" + _prior("body"),
            inputs=_XY,
            blocks="  step:\n    - {kind: affine_coupling}",
        ),
    ),
    "E114": Code(
        meaning="accept names a code that is not a warning",
        text="`accept:` lists warnings the spec accepts on purpose, each with a reason; they are not printed, but what they imply still holds. Errors cannot be accepted (the spec would not work), and an unknown code accepts nothing.",
        wrong=_spec(_prior("x"), train='accept:\n  E501: "the data are discrete"'),
        right=_spec(
            "  flow: {kind: affine_coupling, in: x}\n" + _prior("flow"),
            inputs=_UNIT,
            train='accept:\n  W501: "bounded data on purpose: the figures are bounds"',
        ),
    ),
    "W115": Code(
        meaning="accept names a warning this spec does not raise",
        text="An acceptance that no warning matches is left over from an earlier version of the spec; remove it, so that it cannot silence the warning when it comes back for another reason.",
        wrong=_spec(_prior("x"), train='accept:\n  W501: "bounded data"'),
        right=_TOY,
    ),
    "E201": Code(
        meaning="a reference names nothing that has an output",
        text="A reference (in, context) names an input or a node output. The name does not exist, or names a distribution, which has no output.",
        wrong=_spec("  flow: {kind: actnorm, in: xx}\n" + _prior("flow")),
        right=_spec("  flow: {kind: actnorm, in: x}\n" + _prior("flow")),
    ),
    "E202": Code(
        meaning="a reference names a port that does not exist, or leaves out which one",
        text="A node with several outputs (a split) needs the port: node.out0. An input has one value and no ports.",
        wrong=_spec(
            "  halves: {kind: split, in: x, sizes: [1, 1]}\n"
            + _prior("halves", "p0")
            + "\n"
            + _prior("halves.out1", "p1")
        ),
        right=_spec(
            "  halves: {kind: split, in: x, sizes: [1, 1]}\n"
            + _prior("halves.out0", "p0")
            + "\n"
            + _prior("halves.out1", "p1")
        ),
    ),
    "E203": Code(
        meaning="an input or an output is never used",
        text="Every data value must end in a distribution, or log_prob ignores it; a context input that conditions no node makes a flow that does not depend on it.",
        wrong=_spec("  flow: {kind: affine_coupling, in: x}\n" + _prior("flow"), inputs=_XY),
        right=_spec(
            "  flow: {kind: affine_coupling, in: x, context: y}\n" + _prior("flow"), inputs=_XY
        ),
    ),
    "E204": Code(
        meaning="a data input used as context, or a context input used as data",
        text="Data inputs are modelled (they get a likelihood); context inputs are given. A data input cannot condition a node, and a context input cannot be transformed.",
        wrong=_spec(
            "  flow: {kind: affine_coupling, in: x, context: y}\n" + _prior("flow"),
            inputs="  x: {shape: [2]}\n  y: {shape: [1]}",
        ),
        right=_spec(
            "  flow: {kind: affine_coupling, in: x, context: y}\n" + _prior("flow"), inputs=_XY
        ),
    ),
    "E205": Code(
        meaning="an output is used as data twice",
        text="A flow cannot copy a value: two nodes transforming the same value double-count it, and the model is not invertible. Split it, or condition on it (context may be shared).",
        wrong=_spec(
            "  flow: {kind: actnorm, in: x}\n  a: {kind: standard_normal, in: flow}\n  b: {kind: diagonal_normal, in: flow}"
        ),
        right=_spec(
            "  flow: {kind: actnorm, in: x}\n  halves: {kind: split, in: flow, sizes: [1, 1]}\n  a: {kind: standard_normal, in: halves.out0}\n  b: {kind: diagonal_normal, in: halves.out1}"
        ),
    ),
    "E206": Code(
        meaning="the graph has no distribution",
        text="log_prob is the base density of the latents plus every node's term: a graph needs at least one distribution node at the end.",
        wrong=_spec("  flow: {kind: affine_coupling, in: x}"),
        right=_spec("  flow: {kind: affine_coupling, in: x}\n" + _prior("flow")),
    ),
    "E207": Code(
        meaning="the graph has a cycle",
        text="A flow is a directed acyclic graph: data cannot flow back into a node it came from.",
        wrong=_spec(
            "  joined: {kind: concat, in: [x, b.out0]}\n  a: {kind: actnorm, in: joined}\n  b: {kind: split, in: a, sizes: [2, 2]}\n"
            + _prior("b.out1")
        ),
        right=_spec("  a: {kind: actnorm, in: x}\n  b: {kind: reverse, in: a}\n" + _prior("b")),
    ),
    "E208": Code(
        meaning="the model cannot be sampled: in generation, nodes wait on each other's context",
        text="Generation runs the graph backwards; a node conditioned on a value that is only known after the node itself is inverted can never be sampled.",
        wrong=_spec(
            "  s: {kind: split, in: x, sizes: [2, 2]}\n  c1: {kind: affine_coupling, in: s.out0, context: s.out1}\n  c2: {kind: affine_coupling, in: s.out1, context: s.out0}\n"
            + _prior("c1", "p0")
            + "\n"
            + _prior("c2", "p1"),
            inputs=_X4,
        ),
        right=_spec(
            "  s: {kind: split, in: x, sizes: [2, 2]}\n  c1: {kind: affine_coupling, in: s.out0, context: s.out1}\n  c2: {kind: affine_coupling, in: s.out1}\n"
            + _prior("c1", "p0")
            + "\n"
            + _prior("c2", "p1"),
            inputs=_X4,
        ),
    ),
    "E209": Code(
        meaning="a node is conditioned on its own input",
        text="A node conditioned on the very value it takes in is not the layer its log-det describes: the output depends on the input through the context too, so the log-det is wrong and the layer cannot be inverted (generation would need the input to compute the input). Condition on another value.",
        wrong=_spec(
            _HALVES + "\n  p1: {kind: conditional_normal, in: halves.out1, context: halves.out1}"
        ),
        right=_spec(
            _HALVES + "\n  p1: {kind: conditional_normal, in: halves.out1, context: halves.out0}"
        ),
    ),
    "E210": Code(
        meaning="a block use expands to a node id that is already taken",
        text="A block use 'body' expands to nodes body_<repetition>_<position>; one of those ids is already an input or a node.",
        wrong=_spec(
            "  body_0_0: {kind: actnorm, in: x}\n  body: {block: step, in: body_0_0}\n"
            + _prior("body"),
            blocks=_STEP,
        ),
        right=_spec(
            "  norm: {kind: actnorm, in: x}\n  body: {block: step, in: norm}\n" + _prior("body"),
            blocks=_STEP,
        ),
    ),
    "E211": Code(
        meaning="a node does not say where its input comes from",
        text="Outside blocks, every node says where its input comes from with 'in'.",
        wrong=_spec("  flow: {kind: actnorm}\n" + _prior("flow")),
        right=_spec("  flow: {kind: actnorm, in: x}\n" + _prior("flow")),
    ),
    "E212": Code(
        meaning="a node or block use gets the wrong number of inputs",
        text="Each kind takes a fixed number of inputs (concat two or more, most kinds one); a block use takes exactly one.",
        wrong=_spec(
            "  flow: {kind: actnorm, in: [x, y]}\n" + _prior("flow"),
            inputs="  x: {shape: [2]}\n  y: {shape: [2]}",
        ),
        right=_spec(
            "  joined: {kind: concat, in: [x, y]}\n  flow: {kind: actnorm, in: joined}\n"
            + _prior("flow"),
            inputs="  x: {shape: [2]}\n  y: {shape: [2]}",
        ),
    ),
    "E213": Code(
        meaning="a context is given where no node takes one",
        text="The context would be ignored: the kind takes none, or no node of the block accepts one. The flow would not be conditional although the spec says so.",
        wrong=_spec("  flow: {kind: actnorm, in: x, context: y}\n" + _prior("flow"), inputs=_XY),
        right=_spec(
            "  flow: {kind: affine_coupling, in: x, context: y}\n" + _prior("flow"), inputs=_XY
        ),
    ),
    "E214": Code(
        meaning="the spec expands to more nodes than a graph may have",
        text="A graph may have at most 10,000 nodes (block uses count repeat x chain length).",
        wrong=_spec(
            "  body: {block: step, in: x, repeat: 100000}\n" + _prior("body"), blocks=_STEP
        ),
        right=_spec("  body: {block: step, in: x, repeat: 16}\n" + _prior("body"), blocks=_STEP),
    ),
    # --- bijective kinds (E4xx) ----------------------------------------------------------
    "E401": Code(
        meaning="the kind needs a flat input [D]",
        text="The kind works on flat vectors [D] (an MLP conditioner, a flat encoder); image shaped inputs must be flattened first.",
        wrong=_spec("  flow: {kind: affine_coupling, in: x}\n" + _prior("flow"), inputs=_IMG),
        right=_spec(
            "  flat: {kind: flatten, in: x}\n  flow: {kind: affine_coupling, in: flat}\n"
            + _prior("flow"),
            inputs=_IMG,
        ),
    ),
    "E402": Code(
        meaning="a coupling needs at least 2 features to split",
        text="A coupling keeps some features and transforms the others given them: it needs at least two features.",
        wrong=_spec(
            "  flow: {kind: affine_coupling, in: x}\n" + _prior("flow"), inputs="  x: {shape: [1]}"
        ),
        right=_spec(
            "  flow: {kind: elementwise, transformer: {kind: affine}, in: x}\n" + _prior("flow"),
            inputs="  x: {shape: [1]}",
        ),
    ),
    "E403": Code(
        meaning="a mask's length differs from the number of features",
        text="An explicit mask has one 0/1 per feature of the input.",
        wrong=_spec(
            "  flow: {kind: affine_coupling, in: x, mask: [1, 0]}\n" + _prior("flow"), inputs=_X4
        ),
        right=_spec(
            "  flow: {kind: affine_coupling, in: x, mask: [1, 0, 1, 0]}\n" + _prior("flow"),
            inputs=_X4,
        ),
    ),
    "E404": Code(
        meaning="a mask keeps every feature, so nothing is transformed",
        text="A mask of only 1s keeps every feature: the layer would do nothing.",
        wrong=_spec("  flow: {kind: affine_coupling, in: x, mask: [1, 1]}\n" + _prior("flow")),
        right=_spec("  flow: {kind: affine_coupling, in: x, mask: [1, 0]}\n" + _prior("flow")),
    ),
    "E405": Code(
        meaning="a mask transforms every feature, so the layer cannot be inverted",
        text="A mask of only 0s transforms every feature with parameters computed from nothing it leaves unchanged: the layer could not be inverted from its output.",
        wrong=_spec("  flow: {kind: affine_coupling, in: x, mask: [0, 0]}\n" + _prior("flow")),
        right=_spec("  flow: {kind: affine_coupling, in: x, mask: [0, 1]}\n" + _prior("flow")),
    ),
    "E406": Code(
        meaning="a context must be flat [C]",
        text="A context feeds an MLP, which takes flat vectors [C]. A context input is given, not transformed (E204), so declare it flat: the values of a 1 x 4 x 4 image as shape [16].",
        wrong=_spec(
            "  flow: {kind: affine_coupling, in: x, context: image}\n" + _prior("flow"),
            inputs="  x: {shape: [2]}\n  image: {shape: [1, 4, 4], context: true}",
        ),
        right=_spec(
            "  flow: {kind: affine_coupling, in: x, context: image}\n" + _prior("flow"),
            inputs="  x: {shape: [2]}\n  image: {shape: [16], context: true}    # the 1 x 4 x 4 values, flat",
        ),
    ),
    "E410": Code(
        meaning="a map of continuous values is fed discrete values",
        text="A continuous bijection changes densities; applied to discrete values its log_prob is not a likelihood of the data. Dequantize discrete data first.",
        wrong=_spec("  flow: {kind: affine_coupling, in: x}\n" + _prior("flow"), inputs=_DISC),
        right=_spec(
            "  deq: {kind: uniform_dequantization, in: x}\n  real: {kind: elementwise, fn: logit, in: deq}\n  flow: {kind: affine_coupling, in: real}\n"
            + _prior("flow"),
            inputs=_DISC,
        ),
    ),
    "E411": Code(
        meaning="the kind acts on the feature axis, but the event is a scalar",
        text="The kind acts on event axis 0 (features of [D], channels of [C, H, W]); a scalar event [] has none. Spec inputs always have an axis; a node kind added by a plugin may output scalar events.",
        wrong="node: {kind: split, sizes: [1, 1]}\ninputs: [[]]        # one input: a scalar event",
        right="node: {kind: split, sizes: [1, 1]}\ninputs: [[2]]",
        runner="node",
    ),
    "E420": Code(
        meaning="an unknown elementwise fn",
        text="The elementwise fn is not one flowspec knows (`flowspec nodes elementwise`).",
        wrong=_spec("  m: {kind: elementwise, fn: tnah, in: x}\n" + _prior("m")),
        right=_spec("  m: {kind: elementwise, fn: leaky_relu, in: x}\n" + _prior("m")),
    ),
    "E421": Code(
        meaning="an elementwise fn that is not strictly monotone (not invertible)",
        text="An elementwise map is a bijection only when strictly monotone; relu, abs, gelu, sin and the like map several inputs to one output.",
        wrong=_spec("  m: {kind: elementwise, fn: relu, in: x}\n" + _prior("m")),
        right=_spec(
            "  m: {kind: elementwise, fn: leaky_relu, negative_slope: 0.01, in: x}\n" + _prior("m")
        ),
    ),
    "E422": Code(
        meaning="the input's values lie outside the elementwise fn's (or transformer's) domain",
        text="The fn (or transformer) is defined only on part of the line (logit on (0, 1), log on (0, inf)) and the input may lie outside it. Declared bounds are closed: data in [0, 1] may hold an exact 0, where logit and log are infinite (log_prob = nan). Use alpha, or declare 'bounds: open' when the ends never occur.",
        wrong=_spec("  m: {kind: elementwise, fn: logit, in: x}\n" + _prior("m"), inputs=_UNIT),
        right=_spec(
            "  m: {kind: elementwise, fn: logit, in: x}\n" + _prior("m"), inputs=_UNIT_OPEN
        ),
    ),
    "E423": Code(
        meaning="scale_shift with scale 0 (or one float32 rounds to 0 or infinity)",
        text="scale_shift with scale 0 maps everything to the shift: not invertible. So does a scale float32 (the model's default dtype) rounds to 0, such as 1e-46, and one it rounds to infinity (1e39) cannot be inverted either.",
        wrong=_spec("  m: {kind: elementwise, fn: scale_shift, scale: 0, in: x}\n" + _prior("m")),
        right=_spec("  m: {kind: elementwise, fn: scale_shift, scale: 0.5, in: x}\n" + _prior("m")),
    ),
    "E424": Code(
        meaning="leaky_relu with negative_slope <= 0 (or one float32 rounds to 0 or infinity)",
        text="leaky_relu with slope 0 is relu (not invertible); a negative slope is not monotone; a slope float32 rounds to 0 (1e-46) or to infinity (1e39) is as bad.",
        wrong=_spec(
            "  m: {kind: elementwise, fn: leaky_relu, negative_slope: 0, in: x}\n" + _prior("m")
        ),
        right=_spec(
            "  m: {kind: elementwise, fn: leaky_relu, negative_slope: 0.01, in: x}\n" + _prior("m")
        ),
    ),
    "E425": Code(
        meaning="logit with alpha outside [0, 0.5)",
        text="logit squeezes [0, 1] into [alpha, 1 - alpha] first: alpha must be in [0, 0.5).",
        wrong=_spec(
            "  m: {kind: elementwise, fn: logit, alpha: 0.5, in: x}\n" + _prior("m"),
            inputs=_UNIT_OPEN,
        ),
        right=_spec(
            "  m: {kind: elementwise, fn: logit, alpha: 0, in: x}\n" + _prior("m"),
            inputs=_UNIT_OPEN,
        ),
    ),
    "E450": Code(
        meaning="a split into fewer than 2 parts",
        text="A split divides the feature axis into two or more parts.",
        wrong=_spec("  halves: {kind: split, in: x, sizes: [4]}\n" + _prior("halves"), inputs=_X4),
        right=_spec(
            "  halves: {kind: split, in: x, sizes: [2, 2]}\n"
            + _prior("halves.out0", "p0")
            + "\n"
            + _prior("halves.out1", "p1"),
            inputs=_X4,
        ),
    ),
    "E452": Code(
        meaning="a split's sizes do not add up to the feature axis",
        text="The sizes of a split must add up to the size of the feature axis.",
        wrong=_spec(
            "  halves: {kind: split, in: x, sizes: [2, 3]}\n"
            + _prior("halves.out0", "p0")
            + "\n"
            + _prior("halves.out1", "p1"),
            inputs=_X4,
        ),
        right=_spec(
            "  halves: {kind: split, in: x, sizes: [2, 2]}\n"
            + _prior("halves.out0", "p0")
            + "\n"
            + _prior("halves.out1", "p1"),
            inputs=_X4,
        ),
    ),
    "E455": Code(
        meaning="a concat of fewer than 2 inputs",
        text="A concat joins two or more inputs.",
        wrong=_spec(
            "  joined: {kind: concat, in: [a]}\n" + _prior("joined") + "\n" + _prior("b", "p1"),
            inputs=_AB,
        ),
        right=_spec("  joined: {kind: concat, in: [a, b]}\n" + _prior("joined"), inputs=_AB),
    ),
    "E457": Code(
        meaning="concat inputs of different ranks",
        text="Concatenated inputs must have the same rank.",
        wrong=_spec("  joined: {kind: concat, in: [flat, image]}\n" + _prior("joined"), inputs=_FI),
        right=_spec(
            "  flat_image: {kind: flatten, in: image}\n  joined: {kind: concat, in: [flat, flat_image]}\n"
            + _prior("joined"),
            inputs=_FI,
        ),
    ),
    "E458": Code(
        meaning="concat inputs that differ beyond the feature axis",
        text="Inputs are joined along the feature axis (axis 0); every other axis must agree.",
        wrong=_spec(
            "  joined: {kind: concat, in: [a, b]}\n" + _prior("joined"),
            inputs="  a: {shape: [1, 8, 8]}\n  b: {shape: [1, 4, 4]}",
        ),
        right=_spec(
            "  joined: {kind: concat, in: [a, b]}\n" + _prior("joined"),
            inputs="  a: {shape: [1, 8, 8]}\n  b: {shape: [2, 8, 8]}",
        ),
    ),
    "E459": Code(
        meaning="a concat of discrete and continuous inputs",
        text="No density describes a mix of discrete and continuous values: dequantize the discrete inputs first.",
        wrong=_spec(
            "  joined: {kind: concat, in: [counts, reals]}\n" + _prior("joined"), inputs=_CR
        ),
        right=_spec(
            "  deq: {kind: uniform_dequantization, in: counts}\n  real: {kind: elementwise, fn: logit, in: deq}\n  joined: {kind: concat, in: [real, reals]}\n"
            + _prior("joined"),
            inputs=_CR,
        ),
    ),
    "E460": Code(
        meaning="a reshape to a different number of elements",
        text="A reshape keeps every value: the new shape has as many elements as the input.",
        wrong=_spec(
            "  image: {kind: reshape, in: x, shape: [1, 8, 7]}\n" + _prior("image"), inputs=_X64
        ),
        right=_spec(
            "  image: {kind: reshape, in: x, shape: [1, 8, 8]}\n" + _prior("image"), inputs=_X64
        ),
    ),
    "E461": Code(
        meaning="a concat of discrete inputs with different numbers of levels",
        text="A concat's output has one level set: joining 4-level and 2-level values would make it 0..3 throughout, so a discrete flow would move the 2-level values onto 2 and 3 and a categorical would give those values mass the data never takes. Model such inputs separately, or dequantize each and join the continuous values.",
        wrong=_spec(
            "  both: {kind: concat, in: [a, flags]}\n  prior: {kind: categorical, in: both}",
            inputs=_LEVELS_4_2,
        ),
        right=_spec(
            "  da: {kind: uniform_dequantization, in: a}\n"
            "  db: {kind: uniform_dequantization, in: flags}\n"
            "  both: {kind: concat, in: [da, db]}\n"
            "  real: {kind: elementwise, fn: logit, in: both}\n" + _prior("real"),
            inputs=_LEVELS_4_2,
        ),
    ),
    "E466": Code(
        meaning="a slice that keeps every feature",
        text="A slice keeps the first 'keep' features and models the rest: keep must be smaller than the feature axis, or nothing is dropped.",
        wrong=_spec("  drop: {kind: slice, in: x, keep: 4}\n" + _prior("drop"), inputs=_X4),
        right=_spec("  drop: {kind: slice, in: x, keep: 2}\n" + _prior("drop"), inputs=_X4),
    ),
    "E480": Code(
        meaning="uniform_dequantization of values that are not discrete",
        text="Uniform dequantization turns integers 0..K-1 into continuous values: the input must declare its levels.",
        wrong=_spec(
            "  deq: {kind: uniform_dequantization, in: x}\n  real: {kind: elementwise, fn: logit, in: deq}\n"
            + _prior("real")
        ),
        right=_spec(
            "  deq: {kind: uniform_dequantization, in: x}\n  real: {kind: elementwise, fn: logit, in: deq}\n"
            + _prior("real"),
            inputs=_DISC,
        ),
    ),
    "W410": Code(
        meaning="a permutation that leaves the order unchanged",
        text="The permutation leaves the order as it is (a single feature, or a seed whose shuffle happens to be the identity): the node does nothing.",
        wrong=_spec("  r: {kind: reverse, in: x}\n" + _prior("r"), inputs="  x: {shape: [1]}"),
        right=_spec("  r: {kind: reverse, in: x}\n" + _prior("r")),
    ),
    "W420": Code(
        meaning="a field the chosen elementwise fn ignores",
        text="The field belongs to another fn (alpha to logit, scale to scale_shift, ...): it has no effect here.",
        wrong=_spec("  m: {kind: elementwise, fn: leaky_relu, alpha: 0.05, in: x}\n" + _prior("m")),
        right=_spec("  m: {kind: elementwise, fn: leaky_relu, in: x}\n" + _prior("m")),
    ),
    "W430": Code(
        meaning="a setting that has no effect given the node's other settings",
        text="The setting only matters together with another one, which is off: actnorm's eps is added to the batch std of the data-dependent initialisation, so it does nothing with data_init: false; an elementwise fn's setting (alpha, scale, ...) does nothing next to transformer: (set it inside the transformer); a conditioner computes nothing for a transformer without parameters (tanh, logit, ...); a Sylvester setting of another variant (reflections: householder only), a residual block's roulette_p or probes next to logdet: series or exact, a CNF's step_size with an adaptive method or rtol/atol or first_step with a fixed-step one, MADE's seed without order: random, a base distribution's net without a context, an MLP's activation or dropout with hidden: [], a flow density's layers with repeat: 0.",
        wrong=_spec(
            "  norm: {kind: actnorm, in: x, data_init: false, eps: 0.001}\n" + _prior("norm")
        ),
        right=_spec("  norm: {kind: actnorm, in: x, eps: 0.001}\n" + _prior("norm")),
    ),
    # --- distributions and surjections (E5xx) --------------------------------------------
    "E501": Code(
        meaning="a continuous density of discrete values",
        text="A continuous density of discrete values is no likelihood of them (it can grow without bound). Dequantize first.",
        wrong=_spec(_prior("x"), inputs="  x: {shape: [2], levels: 4}"),
        right=_spec(
            "  deq: {kind: uniform_dequantization, in: x}\n  real: {kind: elementwise, fn: logit, in: deq}\n"
            + _prior("real"),
            inputs="  x: {shape: [2], levels: 4}",
        ),
    ),
    "E510": Code(
        meaning="a conditional_normal without a context",
        text="conditional_normal is N(mu(c), sigma(c)^2): it needs the port c it is conditioned on.",
        wrong=_spec(_HALVES + "\n  p1: {kind: conditional_normal, in: halves.out1}"),
        right=_spec(
            _HALVES + "\n  p1: {kind: conditional_normal, in: halves.out1, context: halves.out0}"
        ),
    ),
    "W501": Code(
        meaning="a density on the whole real line for values that do not fill it",
        text="The values reaching the density do not fill the real line (bounded data, or bounded values moved by couplings or actnorm; sorted values, which fill a cone of 1/N! of the space; values with levels moved by integer flows, which a pmf over all integers does not fill), but the density spreads its mass over the whole line, so log_prob is not normalized over the data's domain: the model's total mass is below 1 and every report calls log_prob a lower bound. One warning per cause: every density fed from the same place (a Glow's factored-out priors after one logit with alpha) is named in it. Map bounded values to the real line first (logit without alpha for (0, 1), log for (0, inf)), sorted ones with ordered_to_real right after the sort, or accept the bound with `accept: {W501: reason}`.",
        wrong=_spec("  flow: {kind: affine_coupling, in: x}\n" + _prior("flow"), inputs=_UNIT),
        right=_spec(
            "  real: {kind: elementwise, fn: logit, in: x}\n  flow: {kind: affine_coupling, in: real}\n"
            + _prior("flow"),
            inputs=_UNIT_OPEN,
        ),
    ),
    # --- couplings and autoregressive layers (E600-E649) ---------------------------------
    "E602": Code(
        meaning="an explicit autoregressive order is not a permutation of the features",
        text="An explicit `order` gives each feature its position in the autoregressive order, so it must hold 0 .. D-1 once each; a repeated or missing position would let a feature depend on itself and break invertibility.",
        wrong=_spec(
            "  flow: {kind: autoregressive, in: x, conditioner: {kind: made, order: [0, 0, 1]}}\n"
            + _prior("flow"),
            inputs=_X3,
        ),
        right=_spec(
            "  flow: {kind: autoregressive, in: x, conditioner: {kind: made, order: [2, 0, 1]}}\n"
            + _prior("flow"),
            inputs=_X3,
        ),
    ),
    "W603": Code(
        meaning="a MADE hidden layer narrower than D - 1 (later features condition nothing)",
        text="MADE gives its hidden units the degrees 1, 2, ..., D-1 in turn, and a unit of degree k sees the first k features in the order. A layer of fewer than D-1 units has no unit of the higher degrees, so the features after them reach no hidden unit: they never influence the parameters of later features (the Jacobian's zeros show it). Pyro warns likewise.",
        wrong=_spec(
            "  flow: {kind: autoregressive, in: x, conditioner: {kind: made, hidden: [4]}}\n"
            + _prior("flow"),
            inputs=_X32,
        ),
        right=_spec(
            "  flow: {kind: autoregressive, in: x, conditioner: {kind: made, hidden: [64]}}\n"
            + _prior("flow"),
            inputs=_X32,
        ),
    ),
    "E610": Code(
        meaning="the transformer does not accept values in the input's support",
        text="An elementwise transformer is a bijection of its domain; values outside it have no image (a map of the unit interval fed real values). Map the values into the transformer's domain first, or pick a transformer of the real line.",
        wrong=_spec(
            "  flow: {kind: coupling, in: x, transformer: {kind: logit}}\n" + _prior("flow")
        ),
        right=_spec(
            "  flow: {kind: coupling, in: x, transformer: {kind: affine}}\n" + _prior("flow")
        ),
        inherent=("W430",),
    ),
    "E611": Code(
        meaning="an elementwise node with both fn and transformer",
        text="An elementwise node applies one map: a fixed fn (its settings on the node), or a transformer whose parameters it learns per feature. Give one of them.",
        wrong=_spec(
            "  m: {kind: elementwise, fn: tanh, transformer: {kind: rq_spline}, in: x}\n"
            + _prior("m")
        ),
        right=_spec(
            "  m: {kind: elementwise, transformer: {kind: rq_spline}, in: x}\n" + _prior("m")
        ),
    ),
    # --- images: squeeze, masks, convolutions, multi-scale (E650-E699) -------------------
    "E650": Code(
        meaning="the kind or mask needs an image-shaped input [C, H, W]",
        text="Squeeze, unsqueeze, invconv1x1 and the image masks of couplings (channel, checkerboard) act on images [C, H, W]: channels at every pixel. A flat or other input has no such axes; reshape it first.",
        wrong=_spec("  coarse: {kind: squeeze, in: x}\n" + _prior("coarse"), inputs=_X64),
        right=_spec(
            "  image: {kind: reshape, in: x, shape: [1, 8, 8]}\n  coarse: {kind: squeeze, in: image}\n"
            + _prior("coarse"),
            inputs=_X64,
        ),
    ),
    "E651": Code(
        meaning="squeeze needs H and W divisible by its factor",
        text="Squeeze moves every f x f block of pixels into channels, so H and W must be multiples of the factor f; otherwise pixels would be left over.",
        wrong=_spec(
            "  coarse: {kind: squeeze, in: x}\n" + _prior("coarse"),
            inputs="  x: {shape: [1, 7, 8]}",
        ),
        right=_spec("  coarse: {kind: squeeze, in: x}\n" + _prior("coarse"), inputs=_IMG),
    ),
    "E652": Code(
        meaning="unsqueeze needs the channels divisible by the factor squared",
        text="Unsqueeze turns every f^2 channels into an f x f block of pixels, so the channels must be a multiple of f^2.",
        wrong=_spec(
            "  fine: {kind: unsqueeze, in: x}\n" + _prior("fine"), inputs="  x: {shape: [2, 4, 4]}"
        ),
        right=_spec(
            "  fine: {kind: unsqueeze, in: x}\n" + _prior("fine"), inputs="  x: {shape: [4, 4, 4]}"
        ),
    ),
    "E653": Code(
        meaning="a channel mask needs at least 2 channels",
        text="A channel mask keeps half the channels and transforms the rest; a single channel cannot be split. Squeeze first (4 channels) or use a checkerboard mask.",
        wrong=_spec(
            "  flow: {kind: coupling, in: x, mask: channel}\n" + _prior("flow"), inputs=_IMG
        ),
        right=_spec(
            "  coarse: {kind: squeeze, in: x}\n  flow: {kind: coupling, in: coarse, mask: channel}\n"
            + _prior("flow"),
            inputs=_IMG,
        ),
    ),
    "E654": Code(
        meaning="a pixel mask needs pixels it can split (checkerboard: 2 or more; columns: an even width)",
        text="A checkerboard mask keeps every other pixel; an image of one pixel has nothing left to transform. A columns mask (Flow++) pairs each even column with the odd one after it, so the width must be even.",
        wrong=_spec(
            "  flow: {kind: coupling, in: x, mask: checkerboard}\n" + _prior("flow"),
            inputs="  x: {shape: [4, 1, 1]}",
        ),
        right=_spec(
            "  flow: {kind: coupling, in: x, mask: channel}\n" + _prior("flow"),
            inputs="  x: {shape: [4, 1, 1]}",
        ),
    ),
    "E655": Code(
        meaning="a convolutional conditioner needs image-shaped parts (an image mask)",
        text="Convolutional conditioners (resnet, conv) map kept channels to parameters at the same pixels: they need an image input split by an image mask, not a flat one.",
        wrong=_spec(
            "  flow: {kind: coupling, in: x, conditioner: {kind: resnet}}\n" + _prior("flow"),
            inputs="  x: {shape: [16]}",
        ),
        right=_spec(
            "  image: {kind: reshape, in: x, shape: [4, 2, 2]}\n  flow: {kind: coupling, in: image, mask: channel, conditioner: {kind: resnet}}\n"
            + _prior("flow"),
            inputs="  x: {shape: [16]}",
        ),
    ),
    "E656": Code(
        meaning="a convolutional conditioner's context must be flat or an image of the input's size",
        text="A convolutional conditioner stacks its context as extra channels: a flat context [K] is broadcast to every pixel, an image context must have the input's H and W.",
        wrong=_spec(
            "  flow: {kind: coupling, in: x, mask: channel, context: c, conditioner: {kind: resnet}}\n"
            + _prior("flow"),
            inputs="  x: {shape: [4, 8, 8]}\n  c: {shape: [2, 3, 3], context: true}",
        ),
        right=_spec(
            "  flow: {kind: coupling, in: x, mask: channel, context: c, conditioner: {kind: resnet}}\n"
            + _prior("flow"),
            inputs="  x: {shape: [4, 8, 8]}\n  c: {shape: [2, 8, 8], context: true}",
        ),
    ),
    "E657": Code(
        meaning="a convolution kernel must be odd",
        text="Convolutions keep H and W with 'same' padding of kernel // 2 on each side, which is only exact for odd kernels.",
        wrong=_spec(
            "  flow: {kind: coupling, in: x, mask: channel, conditioner: {kind: resnet, kernel: 4}}\n"
            + _prior("flow"),
            inputs=_C4,
        ),
        right=_spec(
            "  flow: {kind: coupling, in: x, mask: channel, conditioner: {kind: resnet, kernel: 3}}\n"
            + _prior("flow"),
            inputs=_C4,
        ),
    ),
    "E667": Code(
        meaning="a DenseNet's dense layers cannot share out fewer feature maps than there are layers",
        text="Without growth, the dense layers of a densenet block add 'channels' feature maps in total, as evenly as they divide; each layer must add at least one, so depth may not exceed channels.",
        wrong=_spec(
            "  flow: {kind: coupling, in: x, mask: channel, conditioner: {kind: densenet, channels: 4, depth: 8}}\n"
            + _prior("flow"),
            inputs=_C4,
        ),
        right=_spec(
            "  flow: {kind: coupling, in: x, mask: channel, conditioner: {kind: densenet, channels: 8, depth: 4}}\n"
            + _prior("flow"),
            inputs=_C4,
        ),
    ),
    "E658": Code(
        meaning="a block uses itself, directly or through other blocks",
        text="A block may use other blocks (a scale of Glow is a squeeze and a block of steps), but a block that uses itself, directly or through others, would expand forever. The message names the cycle; repeat a block with 'repeat'.",
        wrong=_spec(
            "  body: {block: step, in: x}\n" + _prior("body"),
            blocks="  step:\n    - {kind: actnorm}\n    - {block: step}",
        ),
        right=_spec(
            "  body: {block: step, repeat: 4, in: x}\n" + _prior("body"),
            blocks="  step:\n    - {kind: actnorm}",
        ),
    ),
    # --- elementwise transformers, their conditioners (E700-E749) -----------------------
    "E700": Code(
        meaning="rq_spline: bins * min_bin_width must be below 1 (the bins do not fit in [-B, B])",
        text="A rational-quadratic spline divides [-B, B] into `bins` bins, each at least `min_bin_width` of it wide; if bins * min_bin_width reaches 1 the bins cannot fit.",
        wrong=_spec(
            "  flow: {kind: coupling, in: x, transformer: {kind: rq_spline, bins: 20, min_bin_width: 0.05}}\n"
            + _prior("flow")
        ),
        right=_spec(
            "  flow: {kind: coupling, in: x, transformer: {kind: rq_spline, bins: 20, min_bin_width: 0.001}}\n"
            + _prior("flow")
        ),
    ),
    "E701": Code(
        meaning="rq_spline: bins * min_bin_height must be below 1 (the bins do not fit in [-B, B])",
        text="As E700 for the heights: each bin rises by at least `min_bin_height` of the range, so bins * min_bin_height must stay below 1.",
        wrong=_spec(
            "  flow: {kind: coupling, in: x, transformer: {kind: rq_spline, bins: 20, min_bin_height: 0.05}}\n"
            + _prior("flow")
        ),
        right=_spec(
            "  flow: {kind: coupling, in: x, transformer: {kind: rq_spline, bins: 20, min_bin_height: 0.001}}\n"
            + _prior("flow")
        ),
    ),
    "E702": Code(
        meaning="rq_spline with a single bin (the identity whatever its weights)",
        text="A rational-quadratic spline's bins sit between knots; its end knots are fixed at (-B, -B) and (B, B) with derivative 1. With one bin there is no interior knot, so the spline is the identity and the conditioner's outputs change nothing.",
        wrong=_spec(
            "  flow: {kind: coupling, in: x, transformer: {kind: rq_spline, bins: 1}}\n"
            + _prior("flow")
        ),
        right=_spec(
            "  flow: {kind: coupling, in: x, transformer: {kind: rq_spline, bins: 8}}\n"
            + _prior("flow")
        ),
    ),
    "E710": Code(
        meaning="masked_conv: the kernel size must be odd (the centre tap is what the masks split)",
        text="PixelCNN's masks cut each kernel at its centre tap; an even kernel has no centre, so the autoregressive order could not be kept.",
        wrong=_spec(
            "  flow: {kind: autoregressive, in: x, conditioner: {kind: masked_conv, kernel: 4}}\n"
            + _prior("flow"),
            inputs=_IMG,
        ),
        right=_spec(
            "  flow: {kind: autoregressive, in: x, conditioner: {kind: masked_conv, kernel: 5}}\n"
            + _prior("flow"),
            inputs=_IMG,
        ),
    ),
    "E711": Code(
        meaning="masked_conv: the input must be an image [C, H, W]",
        text="Masked convolutions order the pixels of an image [C, H, W] in raster order; flat inputs want a made conditioner, sequences a wavenet.",
        wrong=_spec(
            "  flow: {kind: autoregressive, in: x, conditioner: {kind: masked_conv}}\n"
            + _prior("flow"),
            inputs=_X64,
        ),
        right=_spec(
            "  flow: {kind: autoregressive, in: x, conditioner: {kind: masked_conv}}\n"
            + _prior("flow"),
            inputs=_IMG,
        ),
    ),
    "E712": Code(
        meaning="causal_transformer, patch_transformer: dim must be a multiple of heads",
        text="Multi-head attention splits the model width `dim` evenly over the heads.",
        wrong=_spec(
            "  flow: {kind: autoregressive, in: x, conditioner: {kind: causal_transformer, dim: 30, heads: 4}}\n"
            + _prior("flow"),
            inputs=_X4,
        ),
        right=_spec(
            "  flow: {kind: autoregressive, in: x, conditioner: {kind: causal_transformer, dim: 32, heads: 4}}\n"
            + _prior("flow"),
            inputs=_X4,
        ),
    ),
    "E714": Code(
        meaning="patch_transformer: the input must be an image [C, H, W] that the patches tile",
        text="TarFlow's transformer reads an image as a sequence of patch x patch tokens, so the input must be [C, H, W] with H and W multiples of patch.",
        wrong=_spec(
            "  flow: {kind: autoregressive, in: x, conditioner: {kind: patch_transformer, patch: 3, dim: 16, heads: 2}}\n"
            + _prior("flow"),
            inputs=_IMG,
        ),
        right=_spec(
            "  flow: {kind: autoregressive, in: x, conditioner: {kind: patch_transformer, patch: 2, dim: 16, heads: 2}}\n"
            + _prior("flow"),
            inputs=_IMG,
        ),
    ),
    "E713": Code(
        meaning="wavenet: the input must be a sequence [C, L] or [L]",
        text="WaveNet's dilated causal convolutions run along a sequence: [L] or [C, L].",
        wrong=_spec(
            "  flow: {kind: autoregressive, in: x, conditioner: {kind: wavenet}}\n"
            + _prior("flow"),
            inputs=_IMG,
        ),
        right=_spec(
            "  flow: {kind: autoregressive, in: x, conditioner: {kind: wavenet}}\n"
            + _prior("flow"),
            inputs="  x: {shape: [2, 16]}",
        ),
    ),
    # --- determinant identities, residual and continuous-time flows (E750-E799) ----------
    "E750": Code(
        meaning="residual block with lipschitz >= 1: x + g(x) is then not guaranteed invertible",
        text="A residual block x + g(x) is invertible (and its log-det series converges) only when g is a contraction: its Lipschitz constant must be below 1 (Behrmann et al. 2019). Spectral normalisation enforces the coefficient you give.",
        wrong=_spec("  block: {kind: residual, in: x, lipschitz: 1.0}\n" + _prior("block")),
        right=_spec("  block: {kind: residual, in: x, lipschitz: 0.9}\n" + _prior("block")),
    ),
    "E753": Code(
        meaning="residual block activation that is not 1-Lipschitz (spectral normalisation cannot bound g)",
        text="Spectral normalisation bounds the Lipschitz constant of each linear map; the activations between them must be 1-Lipschitz too (elu, tanh, relu, leaky_relu, softplus, lipswish), or the block's bound does not hold.",
        wrong=_spec(
            "  block: {kind: residual, in: x, net: {kind: mlp, activation: gelu}}\n"
            + _prior("block")
        ),
        right=_spec(
            "  block: {kind: residual, in: x, net: {kind: mlp, activation: elu}}\n"
            + _prior("block")
        ),
    ),
    "E754": Code(
        meaning="CNF with a fixed-step ODE method and no step_size",
        text="A fixed-step ODE method (euler, midpoint, rk4) needs the step size; adaptive methods (dopri5) take tolerances instead.",
        wrong=_spec("  flow: {kind: cnf, in: x, solver: {method: rk4}}\n" + _prior("flow")),
        right=_spec(
            "  flow: {kind: cnf, in: x, solver: {method: rk4, step_size: 0.25}}\n" + _prior("flow")
        ),
    ),
    "W755": Code(
        meaning="exact log-determinant or trace on many features (one backward pass per feature)",
        text="An exact log-determinant or trace takes one backward pass per feature: right for small D (evaluation, tests), slow for large D, where an estimator is cheaper. A CNF with an mlp field is exempt: its exact trace has a closed form, one forward pass per evaluation.",
        wrong=_spec(
            "  block: {kind: residual, in: x, logdet: exact}\n" + _prior("block"), inputs=_X784
        ),
        right=_spec(
            "  block: {kind: residual, in: x, logdet: roulette}\n" + _prior("block"), inputs=_X784
        ),
    ),
    "E756": Code(
        meaning="Sylvester flow asking for more orthonormal columns than features",
        text="An orthogonal Sylvester flow uses M orthonormal columns in D dimensions, so M cannot exceed D.",
        wrong=_spec(_AUG.replace("LAYERS", "{kind: sylvester, columns: 4}")),
        right=_spec(_AUG.replace("LAYERS", "{kind: sylvester, columns: 2}")),
        inherent=("W752",),
    ),
    "W757": Code(
        meaning="CNF dynamics with a non-smooth activation (adaptive solvers take many steps)",
        text="Adaptive ODE solvers take many small steps where the dynamics are not smooth; FFJORD uses smooth activations (tanh, softplus, elu).",
        wrong=_spec(
            "  flow: {kind: cnf, in: x, net: {kind: mlp, activation: relu}}\n" + _prior("flow")
        ),
        right=_spec(
            "  flow: {kind: cnf, in: x, net: {kind: mlp, activation: tanh}}\n" + _prior("flow")
        ),
    ),
    "E758": Code(
        meaning="CNF fixed-step solver asked for more steps (time / step_size) than allowed",
        text="A fixed-step ODE method takes time / step_size steps per pass and keeps every step's state for the backward pass; 1e12 steps ask for terabytes. At most 10000.",
        wrong=_spec(
            "  flow: {kind: cnf, in: x, solver: {method: rk4, step_size: 1.0e-12}}\n"
            + _prior("flow")
        ),
        right=_spec(
            "  flow: {kind: cnf, in: x, solver: {method: rk4, step_size: 0.25}}\n" + _prior("flow")
        ),
    ),
    "E759": Code(
        meaning="CNF solver tolerance (rtol or atol) too small for float32 to meet",
        text="An adaptive ODE solver shrinks its step until the error estimate is below rtol and atol; below 1e-10 float32 cannot get there, so it hangs or stops with 'underflow in dt'.",
        wrong=_spec("  flow: {kind: cnf, in: x, solver: {rtol: 1.0e-300}}\n" + _prior("flow")),
        right=_spec(
            "  flow: {kind: cnf, in: x, solver: {rtol: 1.0e-5, atol: 1.0e-5}}\n" + _prior("flow")
        ),
    ),
    "E760": Code(
        meaning="dropout in a network that must be one fixed function (a residual branch, a CNF's dynamics)",
        text="While training, dropout draws another network on every call. A coupling's conditioner may do that (each draw is a valid flow), but a residual block needs one g with Lip(g) < 1 (dropout's 1/(1-p) scaling breaks the bound, and its fixed-point inverse and log-det series call g many times), and a CNF's solver integrates one vector field (a random one makes adaptive solvers shrink their steps until they stall).",
        wrong=_spec(
            "  block: {kind: residual, in: x, net: {kind: mlp, activation: elu, dropout: 0.5}}\n"
            + _prior("block")
        ),
        right=_spec(
            "  block: {kind: residual, in: x, net: {kind: mlp, activation: elu}}\n"
            + _prior("block")
        ),
    ),
    "E762": Code(
        meaning="planar, radial or Sylvester node given a context but no net to compute its parameters from it",
        text="An amortized flow computes its parameters per example from the context, by a network (net:, its last layer starting at zero, added to the layer's global parameters). Without a net the context would be silently ignored.",
        wrong=_spec(
            "  flow: {kind: radial, in: x, context: c}\n" + _prior("flow"),
            inputs="  x: {shape: [2]}\n  c: {shape: [3], context: true}",
        ),
        right=_spec(
            "  flow: {kind: radial, in: x, context: c, net: {kind: mlp, hidden: []}}\n"
            + _prior("flow"),
            inputs="  x: {shape: [2]}\n  c: {shape: [3], context: true}",
        ),
    ),
    # --- SurVAE: surjective, stochastic and discrete nodes (E800-E899) -------------------
    "E761": Code(
        meaning="convolutional residual branch or CNF vector field (net: {kind: conv}) fed an input that is not an image [C, H, W]",
        text="A residual block's conv branch and a CNF's conv vector field apply convolutions with 'same' padding, which need images [C, H, W]. Planar, radial, Sylvester, and residual or CNF nodes with an mlp net, take any shape (each example flattened).",
        wrong=_spec(
            "  flow: {kind: residual, in: x, net: {kind: conv, channels: 8}}\n" + _prior("flow"),
            inputs="  x: {shape: [16]}",
        ),
        right=_spec(
            "  flow: {kind: residual, in: x, net: {kind: conv, channels: 8}}\n" + _prior("flow"),
            inputs="  x: {shape: [1, 4, 4]}",
        ),
    ),
    "W752": Code(
        meaning="planar or Sylvester node without an inference direction: log_prob of data unavailable",
        text="Planar and Sylvester flows are closed-form from latent to data only (as VAE posteriors use them). The model samples, and scores its own samples, but the log_prob of given data needs the inverse by root finding, which a planar node takes on request (Sylvester has none); without it log_prob raises UnavailableError. Not raised where only the generation direction runs: the layers of a VAE encoder or a dequantizer.",
        wrong=_spec("  flow: {kind: planar, in: x}\n" + _prior("flow")),
        right=_spec(
            "  flow: {kind: planar, in: x, inverse: {method: bisection, tol: 1.0e-6, max_iter: 60}}\n"
            + _prior("flow")
        ),
    ),
    "E800": Code(
        meaning="a density of real values is asked to model discrete values",
        text="A density of real values (gaussian, flow) gives probability zero to every single value, so it cannot score discrete data; a pmf can.",
        wrong=_spec(
            "  vae: {kind: vae, in: x, latent: 2, decoder: {kind: gaussian}}\n" + _prior("vae"),
            inputs=_B4,
        ),
        right=_spec(
            "  vae: {kind: vae, in: x, latent: 2, decoder: {kind: bernoulli}}\n" + _prior("vae"),
            inputs=_B4,
        ),
    ),
    "E801": Code(
        meaning="a probability mass function is asked to model continuous values",
        text="A pmf (bernoulli, categorical, discretized_logistic) gives probabilities to integers; real values have none, and a proposal (encoder, dequantizer) must draw real values.",
        wrong=_spec(
            "  pad: {kind: augment, in: x, extra: 2, encoder: {kind: bernoulli}}\n" + _prior("pad")
        ),
        right=_spec(
            "  pad: {kind: augment, in: x, extra: 2, encoder: {kind: gaussian}}\n" + _prior("pad")
        ),
    ),
    "E802": Code(
        meaning="a density's number of levels differs from the values' (bernoulli needs 2)",
        text="A Bernoulli models two values; values with more levels need a categorical.",
        wrong=_spec(
            "  vae: {kind: vae, in: x, latent: 2, decoder: {kind: bernoulli}}\n" + _prior("vae"),
            inputs=_L5,
        ),
        right=_spec(
            "  vae: {kind: vae, in: x, latent: 2, decoder: {kind: categorical}}\n" + _prior("vae"),
            inputs=_L5,
        ),
    ),
    "E803": Code(
        meaning="a categorical density is asked to model unbounded integers",
        text="Integer discrete flows move values to any integer; a categorical has a finite number of levels. A discretized logistic covers every integer.",
        wrong=_spec(
            "  idf: {kind: integer_discrete_flow, in: x}\n  prior: {kind: categorical, in: idf}",
            inputs=_L17,
        ),
        right=_spec(
            "  idf: {kind: integer_discrete_flow, in: x}\n  prior: {kind: discretized_logistic, in: idf}",
            inputs=_L17,
        ),
        # values with levels moved by integer flows do not fill the integers (W501)
        inherent=("W501",),
    ),
    "E804": Code(
        meaning="a flow density's layer is unknown, invalid, wired, or not a bijection",
        text="The layers of a flow density are node specs without wiring, and each must be a bijection (its log-det is part of the density): no surjections, no inputs.",
        wrong=_spec(_AUG.replace("LAYERS", "{kind: slice, keep: 1}")),
        right=_spec(_AUG.replace("LAYERS", "{kind: affine_coupling}, {kind: reverse}")),
    ),
    "E805": Code(
        meaning="a flow density's layers end at another shape than its event",
        text="A flow density's layers map its event to itself: they may change the shape in between (a squeeze, then steps at the coarser scale) but must end at the event's shape (an unsqueeze), or the base would score values of another shape.",
        wrong=_spec(_AUG.replace("LAYERS", "{kind: reshape, shape: [2, 1]}")),
        right=_spec(_AUG.replace("LAYERS", "{kind: affine_coupling}")),
    ),
    "E806": Code(
        meaning="a flow density's layers map the real line onto part of it",
        text="A flow density draws a Gaussian value on the whole real line and inverts its layers on it. Layers that map the real line onto part of it (exp onto (0, inf), sigmoid or tanh onto an interval) have no inverse for draws outside that part: samples and log-densities come out NaN, and the density is not normalized. End the layers on the whole line (a logit after a sigmoid) or leave the map out.",
        wrong=_spec(
            _AUG.replace("LAYERS", "{kind: affine_coupling}, {kind: elementwise, fn: exp}")
        ),
        right=_spec(
            _AUG.replace(
                "LAYERS", "{kind: elementwise, fn: sigmoid}, {kind: elementwise, fn: logit}"
            )
        ),
    ),
    "E807": Code(
        meaning="a flow density that scores given values (a decoder) has a layer without an inference direction",
        text="A decoder computes log p(x | z) of the data, which runs each layer of a flow density from the values to its Gaussian base. Sylvester layers, and planar layers without inverse, only run the other way: they serve in encoders and dequantizers, which score their own draws, but in a decoder log_prob would fail.",
        wrong=_spec(
            "  drop: {kind: slice, in: x, keep: 2, decoder: {kind: flow, layers: [{kind: sylvester}]}}\n"
            + _prior("drop"),
            inputs=_X4,
        ),
        right=_spec(
            "  drop: {kind: slice, in: x, keep: 2, decoder: {kind: flow, layers: "
            "[{kind: planar, inverse: {method: bisection}}]}}\n" + _prior("drop"),
            inputs=_X4,
        ),
        inherent=("W752",),
    ),
    "W800": Code(
        meaning="a density of the whole real line is asked to model bounded values",
        text="A conditional density of the whole real line (a slice's or VAE's decoder) fed values confined to an interval puts mass where no value can be: the model's total mass is below 1, and every report calls log_prob a lower bound (as W501 does for distributions). One warning per cause.",
        wrong=_spec(
            "  drop: {kind: slice, keep: 1, in: x}\n  real: {kind: elementwise, fn: logit, in: drop}\n"
            + _prior("real"),
            inputs="  x: {shape: [3], low: 0, high: 1, bounds: open}",
        ),
        right=_spec(
            "  real: {kind: elementwise, fn: logit, in: x}\n  drop: {kind: slice, keep: 1, in: real}\n"
            + _prior("drop"),
            inputs="  x: {shape: [3], low: 0, high: 1, bounds: open}",
        ),
    ),
    "E808": Code(
        meaning="a flow density conditions its layers on hidden features its net does not have",
        text="With layer_context: hidden the layers of a flow density see the last hidden layer h of the base's network (an mlp), as IAF's layers see the encoder's h; a net without hidden layers has no h.",
        wrong=_spec(
            "  vae: {kind: vae, in: x, latent: 2, decoder: {kind: bernoulli}, encoder: {kind: flow, net: {kind: mlp, hidden: []}, layer_context: hidden, layers: [{kind: planar, net: {kind: mlp, hidden: []}}]}}\n"
            + _prior("vae"),
            inputs=_B4,
        ),
        right=_spec(
            "  vae: {kind: vae, in: x, latent: 2, decoder: {kind: bernoulli}, encoder: {kind: flow, net: {kind: mlp, hidden: [8]}, layer_context: hidden, layers: [{kind: planar, net: {kind: mlp, hidden: []}}]}}\n"
            + _prior("vae"),
            inputs=_B4,
        ),
    ),
    "E809": Code(
        meaning="a flow density draws by its layers' inference passes, but a layer has none",
        text="With draw_direction: inference the layers of a flow density map its Gaussian base to values, so every draw runs each layer's inference pass (Flow++'s dequantizer draws this way through its logistic-mixture couplings). Sylvester layers, and planar layers without inverse, have no inference pass: they can only draw the default way.",
        wrong=_spec(
            "  vae: {kind: vae, in: x, latent: 2, decoder: {kind: bernoulli}, encoder: {kind: flow, draw_direction: inference, layers: [{kind: sylvester}]}}\n"
            + _prior("vae"),
            inputs=_B4,
        ),
        right=_spec(
            "  vae: {kind: vae, in: x, latent: 2, decoder: {kind: bernoulli}, encoder: {kind: flow, layers: [{kind: sylvester}]}}\n"
            + _prior("vae"),
            inputs=_B4,
        ),
        inherent=("W752",),
    ),
    "E810": Code(
        meaning="max_pool needs an image [C, H, W] whose H and W divide by the window size",
        text="Max-pooling keeps the maximum of each size x size window of an image [C, H, W], so H and W must divide by the size.",
        wrong=_spec(
            "  pool: {kind: max_pool, in: x}\n" + _prior("pool"), inputs="  x: {shape: [1, 3, 4]}"
        ),
        right=_spec(
            "  pool: {kind: max_pool, in: x}\n" + _prior("pool"), inputs="  x: {shape: [1, 4, 4]}"
        ),
    ),
    "E811": Code(
        meaning="sort needs a set [N] or a point set [N, d] with N >= 2",
        text="Sorting models the order of a set's elements: it needs a set of at least two elements, [N] or N points [N, d].",
        wrong=_spec(
            "  order: {kind: sort, in: x}\n" + _prior("order"), inputs="  x: {shape: [2, 2, 2]}"
        ),
        right=_spec(
            "  order: {kind: sort, in: x}\n  gaps: {kind: ordered_to_real, in: order}\n"
            + _prior("gaps"),
            inputs="  x: {shape: [4, 2]}",
        ),
    ),
    "E812": Code(
        meaning="sort's 'by' names a coordinate the points do not have",
        text="Points [N, d] are sorted by one of their d coordinates.",
        wrong=_spec(
            "  order: {kind: sort, in: x, by: 2}\n" + _prior("order"), inputs="  x: {shape: [4, 2]}"
        ),
        right=_spec(
            "  order: {kind: sort, in: x, by: 1}\n  gaps: {kind: ordered_to_real, in: order}\n"
            + _prior("gaps"),
            inputs="  x: {shape: [4, 2]}",
        ),
    ),
    "E813": Code(
        meaning="ordered_to_real fed values that are not in a sort's layout",
        text="ordered_to_real maps sorted values (each row ascending in the sorted coordinate) onto the whole space through the logs of the gaps between consecutive values; on values in any other order the gaps are negative. It reads the layout a sort node produces, so it comes right after the sort.",
        wrong=_spec(
            "  order: {kind: sort, in: x}\n  turned: {kind: reverse, in: order}\n"
            "  gaps: {kind: ordered_to_real, in: turned}\n" + _prior("gaps"),
            inputs=_X4,
        ),
        right=_spec(
            "  order: {kind: sort, in: x}\n  gaps: {kind: ordered_to_real, in: order}\n"
            + _prior("gaps"),
            inputs=_X4,
        ),
    ),
    "E814": Code(
        meaning="rounding or variational dequantization of values without levels",
        text="Rounding and variational dequantization fill the cells of integers 0..K-1; the input must declare its levels.",
        wrong=_spec(
            "  dq: {kind: variational_dequantization, in: x}\n  real: {kind: elementwise, fn: logit, in: dq}\n"
            + _prior("real"),
            inputs=_X64,
        ),
        right=_spec(
            "  dq: {kind: variational_dequantization, in: x}\n  real: {kind: elementwise, fn: logit, in: dq}\n"
            + _prior("real"),
            inputs="  x: {shape: [64], levels: 17}",
        ),
    ),
    "E815": Code(
        meaning="argmax needs a flat categorical input [D] with levels",
        text="The argmax surjection turns each of D categorical values into K scores: it needs a flat input [D] with K levels.",
        wrong=_spec("  lift: {kind: argmax, in: x}\n" + _prior("lift"), inputs="  x: {shape: [8]}"),
        right=_spec(
            "  lift: {kind: argmax, in: x}\n" + _prior("lift"),
            inputs="  x: {shape: [8], levels: 4}",
        ),
    ),
    "E816": Code(
        meaning="a discrete coupling needs a flat input [D] with D >= 2 (integer_discrete_flow: or an image [C, H, W] with C >= 2)",
        text="A discrete coupling keeps part of a flat input (integer_discrete_flow: or of an image's channels) and transforms the rest, so it needs at least two features (channels).",
        wrong=_spec(
            "  f: {kind: discrete_flow, in: x}\n  prior: {kind: categorical, in: f}",
            inputs="  x: {shape: [1], levels: 4}",
        ),
        right=_spec(
            "  f: {kind: discrete_flow, in: x}\n  prior: {kind: categorical, in: f}",
            inputs="  x: {shape: [2], levels: 4}",
        ),
    ),
    "E817": Code(
        meaning="a discrete coupling of values that are not integers (or lack levels)",
        text="Discrete flows are bijections of integers (discrete_flow of 0..K-1, so it needs levels); real values need a continuous flow.",
        wrong=_spec(
            "  f: {kind: integer_discrete_flow, in: x}\n  prior: {kind: discretized_logistic, in: f}",
            inputs=_X4,
        ),
        right=_spec(
            "  f: {kind: integer_discrete_flow, in: x}\n  prior: {kind: discretized_logistic, in: f}",
            inputs=_L17,
        ),
        # values with levels moved by integer flows do not fill the integers (W501)
        inherent=("W501",),
    ),
    # --- training settings (E900-E949) ---------------------------------------------------
    "E900": Code(
        meaning="unknown field in the training settings (a spec's train: section or --config file)",
        text="The training settings (a spec's train: section, or a --config file) have a fixed set of fields: data, target, optimizer, lr, schedule, warmup, batch_size, steps, epochs, clip_grad, weight_decay, seed, threads, device, val_every, patience, time_limit. A misspelt one would otherwise be ignored silently and training would run with the default.",
        wrong=_spec(_prior("x"), train="train:\n  stesp: 3000"),
        right=_spec(_prior("x"), train="train:\n  steps: 3000"),
    ),
    "E901": Code(
        meaning="invalid value for a training setting",
        text="A training setting has a value of the wrong type or outside its range: a learning rate must be a positive number, a batch size at least 1, the optimizer one of adam, adamw, sgd, the device one of cpu, cuda, mps.",
        wrong=_spec(_prior("x"), train="train:\n  lr: -0.001"),
        right=_spec(_prior("x"), train="train:\n  lr: 1.0e-3"),
    ),
    "E902": Code(
        meaning="the training settings are not a mapping of fields",
        text="train: holds the training settings as a mapping of fields, not a single value.",
        wrong=_spec(_prior("x"), train="train: 3000"),
        right=_spec(_prior("x"), train="train: {steps: 3000}"),
    ),
    "E903": Code(
        meaning="training settings that contradict each other (steps and epochs, or data and target, both given)",
        text="The length of a run is given once: in optimizer steps or in passes over the training data (epochs), not both; and a run fits one thing: data by maximum likelihood, or a target density by reverse KL, not both. A later layer of settings (a --config file, then the command line) replaces an earlier one's choice, so --epochs overrides steps: written in the spec, and --data overrides target:.",
        wrong=_spec(_prior("x"), train="train: {steps: 3000, epochs: 20}"),
        right=_spec(_prior("x"), train="train: {epochs: 20}"),
    ),
    "E910": Code(
        meaning="a spec or settings file names a Python function as its training target (user code runs only from the command line)",
        text="flowspec train --target fits a flow by reverse KL to an unnormalized log-density: a bundled energy (U1-U4, Rezende & Mohamed 2015) or a Python function FILE.py:FUNCTION. Importing that file runs its code, so flowspec does it only when the function is named on the command line, never because a spec or a --config file (which may come from anyone) names it.",
        wrong=_spec(_prior("x"), train="train: {target: energy.py:log_density, steps: 3000}"),
        right=_spec(_prior("x"), train="train: {target: U1, steps: 3000}"),
    ),
    "E911": Code(
        meaning="a bundled 2-D energy as the training target of a spec whose data input is not of shape [2]",
        text="The bundled energies U1-U4 (Rezende & Mohamed 2015, Table 1) are densities on points of the plane. Reverse-KL fitting evaluates the energy at the model's draws, so the spec's data input must be x: {shape: [2]}.",
        wrong=_spec(_prior("x"), inputs=_X3, train="train: {target: U1}"),
        right=_spec(_prior("x"), train="train: {target: U1}"),
    ),
    "E912": Code(
        meaning="a training target for a model that is not a density of one unconditional, continuous data input",
        text="A target is one unnormalized density of one variable, and the reverse-KL gradient flows through the model's draws: the model must have one data input, continuous (no levels), and no context input (it is drawn from without one).",
        wrong=_spec(
            "  prior: {kind: categorical, in: x}",
            inputs="  x: {shape: [2], levels: 5}",
            train="train: {target: U1}",
        ),
        right=_spec(_prior("x"), train="train: {target: U1}"),
    ),
    "E913": Code(
        meaning="a training target for a model with a node whose density of own samples is a bound or a biased estimate",
        text="Reverse KL is E_q[log q(x) - log p~(x)] over the model's own draws, so it needs log q of each draw. A node that adds noise in inference (augment, dequantization, a VAE) gives only a bound on it, and a truncated series a biased estimate: the figure would be wrong by an amount that training could make larger, so the model is refused.",
        wrong=_spec(
            "  vae: {kind: vae, in: x, latent: 2, decoder: {kind: gaussian}}\n" + _prior("vae"),
            train="train: {target: U1}",
        ),
        right=_spec(
            "  flow: {kind: affine_coupling, in: x}\n" + _prior("flow"), train="train: {target: U1}"
        ),
    ),
    "W914": Code(
        meaning="a training target for a model whose draws and their density cost D passes or an iteration at some node",
        text="Reverse-KL fitting draws a batch from the model and scores it at every step (sample_and_log_prob). A MAF layer draws feature by feature (D passes) and an iterative inverse pays its solver each time, with a gradient through the draws only as exact as the solver's. It works, slowly; an IAF (direction: iaf) draws and scores its draws in one pass.",
        wrong=_spec(
            "  flow: {kind: autoregressive, in: x, direction: maf}\n" + _prior("flow"),
            train="train: {target: U1}",
        ),
        right=_spec(
            "  flow: {kind: autoregressive, in: x, direction: iaf}\n" + _prior("flow"),
            train="train: {target: U1}",
        ),
    ),
    "E915": Code(
        meaning="train: {memory: invertible} on a node whose inverse would rebuild its input with too large an error",
        text="Under memory: invertible (or checkpoint) a chain of bijective nodes keeps only its output, and the backward pass rebuilds each input by the node's inverse. The rebuilt input carries the output's rounding through the inverse: a sigmoid, tanh, exp or softplus whose output saturates or underflows in float32 cannot give its input back, and a logit without alpha recomputes its log-det one rounding away from 1, where the log-det's slope is 1/eps. Each kind bounds the relative error on the values it gets (NodeSpec.rebuild_error); above 1e-4 in float32 the gradients would no longer be the stored-activation gradients, so the spec is refused, naming the node. Errors that depend on learned values (an actnorm with tiny scales) are measured during training (memory_check).",
        wrong=_spec(
            "  to_real: {kind: elementwise, fn: logit, in: x}\n"
            "  flow: {kind: affine_coupling, in: to_real}\n" + _prior("flow"),
            inputs=_UNIT_OPEN,
            train="train: {memory: invertible}",
        ),
        right=_spec(
            "  to_real: {kind: elementwise, fn: logit, alpha: 0.05, in: x}\n"
            "  flow: {kind: affine_coupling, in: to_real}\n" + _prior("flow"),
            inputs=_UNIT_OPEN,
            train="train: {memory: invertible}",
        ),
        inherent=("W501",),
    ),
    # --- studies: --set and --search (E940-E949) -----------------------------------------
    "E940": Code(
        meaning="a --set or --search path of a study matches nothing in the spec",
        text="flowspec sweep and flowspec tune vary fields of the spec named by dotted paths: a node id (body.repeat), a block name (step.net.hidden), train (train.lr), a field set wherever it is (net.hidden) or a training setting (lr). A path that names nothing would vary nothing and every trial would train the same model, so it is refused before any trial starts, located at the nearest place in the spec, with the closest name.",
        wrong="$ flowspec sweep spec.yaml -d moons --set net.hiden=[32],[64]",
        right="$ flowspec sweep spec.yaml -d moons --set net.hidden=[32],[64] --dry-run",
        runner="command",
        files=(("spec.yaml", _STUDY_SPEC),),
    ),
    "E941": Code(
        meaning="the training seed given as a study parameter (seeds are replicates: --seeds)",
        text="A seed is not a setting to choose but a draw to average over: the configuration that wins on one seed may lose on another. flowspec sweep and tune train every configuration with --seeds K seeds and report the mean and standard deviation of its NLLs, so the seed is never a parameter of the study.",
        wrong="$ flowspec sweep spec.yaml -d moons --set flow.repeat=2,4 --set train.seed=0,1",
        right="$ flowspec sweep spec.yaml -d moons --set flow.repeat=2,4 --seeds 2 --dry-run",
        runner="command",
        files=(("spec.yaml", _STUDY_SPEC),),
    ),
    "W904": Code(
        meaning="a warm-up as long as the run or longer (the learning rate never reaches lr)",
        text="The learning rate rises linearly from 0 to lr over `warmup` steps; a run of fewer steps stops on the way up, at lr x steps / warmup, and the decay schedule never starts.",
        wrong=_spec(_prior("x"), train="train: {steps: 500, warmup: 5000}"),
        right=_spec(_prior("x"), train="train: {steps: 500, warmup: 25}"),
    ),
    # --- optimization passes (E950-E999) -------------------------------------------------
}
