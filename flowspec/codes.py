"""Every diagnostic code flowspec reports, with its one-line meaning.

One record per code: its one-line meaning, why the check exists, a spec that fails it and
one that passes (what ``flowspec explain CODE`` prints). Checked by tests: every code the
package reports is listed here, no code stands for two conditions.

Ranges: E0xx loading and structure, E1xx fields, E2xx graph, E4xx bijective kinds, E5xx
distributions and surjections, E6xx couplings and autoregressive layers (E600-E649), images
(E650-E699), elementwise transformers and their conditioners (E700-E749), determinant,
residual and continuous-time flows (E750-E799); E8xx SurVAE and discrete nodes; E900-E949
training settings; E950-E999 optimization passes. Warnings take a W and the same ranges.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CODES", "Code"]


@dataclass(frozen=True)
class Code:
    """A diagnostic code: its one-line meaning, why the check exists (``text``), a spec
    that triggers it (``wrong``) and one that does not (``right``)."""

    meaning: str
    text: str
    wrong: str
    right: str


_PRIOR = "  prior: {kind: standard_normal, in: flow}"

CODES: dict[str, Code] = {
    # --- loading, structure, fields, graph (E0xx-E3xx) -----------------------------------
    "E001": Code(
        meaning="the spec file cannot be read (missing, unreadable, or not UTF-8)",
        text="flowspec could not read the file: it does not exist, is a directory, cannot be opened, or is not UTF-8 text.",
        wrong="$ flowspec validate spec.yml      # the file is spec.yaml",
        right="$ flowspec validate spec.yaml",
    ),
    "E002": Code(
        meaning="a YAML tag, or a value its tag does not allow (flowspec specs are plain data)",
        text="Specs are plain data. YAML tags (!!python/object, !custom) could construct arbitrary objects, so none is accepted; an explicit standard tag must match its value.",
        wrong="inputs:\n  x: !!python/object:os.system {shape: [2]}",
        right="inputs:\n  x: {shape: [2]}",
    ),
    "E003": Code(
        meaning="the text is not valid YAML",
        text="The text is not YAML: an unclosed bracket or quote, a bad indentation, a tab used for indentation (YAML allows spaces only), or a character YAML does not accept.",
        wrong="inputs:\n\tx: {shape: [2]}        # a tab",
        right="inputs:\n  x: {shape: [2]}",
    ),
    "E004": Code(
        meaning="the spec is empty",
        text="The file holds no spec at all (empty, or only comments).",
        wrong="# nothing yet",
        right='flowspec: "1"\nname: toy\ninputs:\n  x: {shape: [2]}\nnodes:\n  prior: {kind: standard_normal, in: x}',
    ),
    "E005": Code(
        meaning="the top level of the spec is not a mapping",
        text="A spec is a mapping with the fields flowspec, name, inputs, nodes (and optionally blocks, description).",
        wrong="- flowspec: '1'\n- name: toy",
        right='flowspec: "1"\nname: toy',
    ),
    "E006": Code(
        meaning="a key appears twice in one mapping",
        text="A key given twice in one mapping would silently keep only the last value (plain YAML loaders do); flowspec reports it instead.",
        wrong="nodes:\n  flow: {kind: actnorm, in: x}\n  flow: {kind: reverse, in: x}",
        right="nodes:\n  norm: {kind: actnorm, in: x}\n  flow: {kind: reverse, in: norm}",
    ),
    "E007": Code(
        meaning="the spec exceeds a size limit: too many values, too deeply nested, or a recursive alias",
        text="Limits keep a check from being asked for absurd memory or time: a spec may hold a bounded number of values (aliases count every expansion, as in 'billion laughs'), nest a bounded depth, and no alias may contain itself.",
        wrong="a: &a [*a]",
        right="blocks:\n  step: &step\n    - {kind: affine_coupling}\n    - {kind: reverse}",
    ),
    "E008": Code(
        meaning="a mapping key that is not a plain scalar, or a merge key ('<<')",
        text="Keys must be plain scalars (names); a list or mapping as a key, or YAML's merge key '<<', has no meaning in a spec.",
        wrong="nodes:\n  flow:\n    <<: *defaults\n    in: x",
        right="nodes:\n  flow: {kind: affine_coupling, in: x, net: {hidden: [64, 64]}}",
    ),
    "E101": Code(
        meaning="a node entry is malformed: not a mapping, or with both 'kind' and 'block'",
        text="Each entry under nodes is a mapping: a node ({kind: ...}) or a block use ({block: ...}), never both, never a bare value.",
        wrong="nodes:\n  flow: {kind: affine_coupling, block: step, in: x}",
        right="nodes:\n  flow: {block: step, in: x}",
    ),
    "E102": Code(
        meaning="an unknown field",
        text="The field is not one the node kind (or section) has: a typo, a field of another kind, or a key glued to its value (in:x, with no space after the colon, is one key). `flowspec nodes KIND` lists the fields.",
        wrong="  flow: {kind: affine_coupling, in: x, scale_bonud: 2.0}",
        right="  flow: {kind: affine_coupling, in: x, scale_bound: 2.0}",
    ),
    "E103": Code(
        meaning="a required field or section is missing or empty",
        text="A field without a default, or a section (inputs, nodes), is missing or empty.",
        wrong="  drop: {kind: slice, in: flow}",
        right="  drop: {kind: slice, in: flow, keep: 2}",
    ),
    "E104": Code(
        meaning="a field has a value of the wrong type or out of range",
        text='The value has the wrong type or is out of range. Numbers are strict: "8" is a string, not the integer 8, and true is not 1.',
        wrong='  body: {block: step, in: x, repeat: "8"}',
        right="  body: {block: step, in: x, repeat: 8}",
    ),
    "E105": Code(
        meaning="a node has no 'kind' (nor 'block')",
        text="Every node names its kind. When the file seems to have one, look for a missing space: 'kind:reverse' is read as one key, not kind = reverse.",
        wrong="  r: {kind:reverse, in: x}",
        right="  r: {kind: reverse, in: x}",
    ),
    "E106": Code(
        meaning="an unknown node kind",
        text="There is no node kind of that name; `flowspec nodes` lists them. Maps that are not invertible (relu, abs) are not kinds.",
        wrong="  act: {kind: relu, in: x}",
        right="  act: {kind: elementwise, fn: leaky_relu, in: x}",
    ),
    "E107": Code(
        meaning="a name is not a valid identifier, or is reserved",
        text="Input, node and block names become Python identifiers in generated code: letters, digits and _, not starting with a digit, no Python keyword, no '__'.",
        wrong="nodes:\n  2nd-layer: {kind: actnorm, in: x}",
        right="nodes:\n  second_layer: {kind: actnorm, in: x}",
    ),
    "E108": Code(
        meaning="one name is used for an input and for a node",
        text="A reference must mean one thing: a name cannot be an input and a node.",
        wrong="inputs:\n  x: {shape: [2]}\nnodes:\n  x: {kind: actnorm, in: x}",
        right="inputs:\n  x: {shape: [2]}\nnodes:\n  norm: {kind: actnorm, in: x}",
    ),
    "E109": Code(
        meaning="a node inside a block names its input ('in'): it reads the node before it",
        text="A block is a chain: each node reads the node before it, and the block use gives the first one's input.",
        wrong="blocks:\n  step:\n    - {kind: actnorm, in: x}",
        right="blocks:\n  step:\n    - {kind: actnorm}\nnodes:\n  body: {block: step, in: x}",
    ),
    "E110": Code(
        meaning="a node kind, or a block use, that cannot be part of a block",
        text="Blocks hold chains of one-input, one-output nodes: no distributions, splits, concats, nor other blocks.",
        wrong="blocks:\n  step:\n    - {kind: affine_coupling}\n    - {kind: standard_normal}",
        right="blocks:\n  step:\n    - {kind: affine_coupling}\n    - {kind: reverse}",
    ),
    "E111": Code(
        meaning="a block use names an unknown block",
        text="The block use names a block that is not defined under blocks.",
        wrong="nodes:\n  body: {block: stpe, in: x}",
        right="nodes:\n  body: {block: step, in: x}",
    ),
    "E112": Code(
        meaning="an input's bounds contradict each other (levels with low/high, or low >= high)",
        text="An input is discrete (levels: K, values 0..K-1) or continuous (optional low and high, with low < high), not both.",
        wrong="  x: {shape: [64], levels: 256, low: 0, high: 1}",
        right="  x: {shape: [64], levels: 256}",
    ),
    "E113": Code(
        meaning="a node inside a block names its context: the block use gives it",
        text="A node inside a block takes its context from the block use, which passes it to every node of the block that accepts one (so each use may condition on a different value).",
        wrong="blocks:\n  step:\n    - {kind: affine_coupling, context: y}\nnodes:\n  body: {block: step, in: x}",
        right="blocks:\n  step:\n    - {kind: affine_coupling}\nnodes:\n  body: {block: step, in: x, context: y}",
    ),
    "E201": Code(
        meaning="a reference names nothing that has an output",
        text="A reference (in, context) names an input or a node output. The name does not exist, or names a distribution, which has no output.",
        wrong="  flow: {kind: actnorm, in: xx}",
        right="  flow: {kind: actnorm, in: x}",
    ),
    "E202": Code(
        meaning="a reference names a port that does not exist, or leaves out which one",
        text="A node with several outputs (a split) needs the port: node.out0. An input has one value and no ports.",
        wrong="  p0: {kind: standard_normal, in: halves}",
        right="  p0: {kind: standard_normal, in: halves.out0}",
    ),
    "E203": Code(
        meaning="an input or an output is never used",
        text="Every data value must end in a distribution, or log_prob ignores it; a context input that conditions no node makes a flow that does not depend on it.",
        wrong="inputs:\n  x: {shape: [2]}\n  y: {shape: [1], context: true}\nnodes:\n  flow: {kind: affine_coupling, in: x}\n"
        + _PRIOR,
        right="inputs:\n  x: {shape: [2]}\n  y: {shape: [1], context: true}\nnodes:\n  flow: {kind: affine_coupling, in: x, context: y}\n"
        + _PRIOR,
    ),
    "E204": Code(
        meaning="a data input used as context, or a context input used as data",
        text="Data inputs are modelled (they get a likelihood); context inputs are given. A data input cannot condition a node, and a context input cannot be transformed.",
        wrong="inputs:\n  x: {shape: [2]}\n  y: {shape: [1]}\nnodes:\n  flow: {kind: affine_coupling, in: x, context: y}",
        right="inputs:\n  x: {shape: [2]}\n  y: {shape: [1], context: true}\nnodes:\n  flow: {kind: affine_coupling, in: x, context: y}",
    ),
    "E205": Code(
        meaning="an output is used as data twice",
        text="A flow cannot copy a value: two nodes transforming the same value double-count it, and the model is not invertible. Split it, or condition on it (context may be shared).",
        wrong="  a: {kind: standard_normal, in: flow}\n  b: {kind: diagonal_normal, in: flow}",
        right="  halves: {kind: split, in: flow, sizes: [1, 1]}\n  a: {kind: standard_normal, in: halves.out0}\n  b: {kind: diagonal_normal, in: halves.out1}",
    ),
    "E206": Code(
        meaning="the graph has no distribution",
        text="log_prob is the base density of the latents plus every node's term: a graph needs at least one distribution node at the end.",
        wrong="nodes:\n  flow: {kind: affine_coupling, in: x}",
        right="nodes:\n  flow: {kind: affine_coupling, in: x}\n" + _PRIOR,
    ),
    "E207": Code(
        meaning="the graph has a cycle",
        text="A flow is a directed acyclic graph: data cannot flow back into a node it came from.",
        wrong="  a: {kind: actnorm, in: b}\n  b: {kind: reverse, in: a}",
        right="  a: {kind: actnorm, in: x}\n  b: {kind: reverse, in: a}",
    ),
    "E208": Code(
        meaning="the model cannot be sampled: in generation, nodes wait on each other's context",
        text="Generation runs the graph backwards; a node conditioned on a value that is only known after the node itself is inverted can never be sampled.",
        wrong="  c1: {kind: affine_coupling, in: x}\n  c2: {kind: affine_coupling, in: c1, context: x}",
        right="  halves: {kind: split, in: x, sizes: [1, 1]}\n  c2: {kind: affine_coupling, in: halves.out1, context: halves.out0}",
    ),
    "E209": Code(
        meaning="a node is conditioned on its own input",
        text="A node conditioned on the very value it takes in is not the layer its log-det describes: the output depends on the input through the context too, so the log-det is wrong and the layer cannot be inverted (generation would need the input to compute the input). Condition on another value.",
        wrong="  p1: {kind: conditional_normal, in: halves.out1, context: halves.out1}",
        right="  p1: {kind: conditional_normal, in: halves.out1, context: halves.out0}",
    ),
    "E210": Code(
        meaning="a block use expands to a node id that is already taken",
        text="A block use 'body' expands to nodes body_<repetition>_<position>; one of those ids is already an input or a node.",
        wrong="  body_0_0: {kind: actnorm, in: x}\n  body: {block: step, in: body_0_0}",
        right="  norm: {kind: actnorm, in: x}\n  body: {block: step, in: norm}",
    ),
    "E211": Code(
        meaning="a node does not say where its input comes from",
        text="Outside blocks, every node says where its input comes from with 'in'.",
        wrong="  flow: {kind: actnorm}",
        right="  flow: {kind: actnorm, in: x}",
    ),
    "E212": Code(
        meaning="a node or block use gets the wrong number of inputs",
        text="Each kind takes a fixed number of inputs (concat two or more, most kinds one); a block use takes exactly one.",
        wrong="  flow: {kind: actnorm, in: [x, y]}",
        right="  joined: {kind: concat, in: [x, y]}\n  flow: {kind: actnorm, in: joined}",
    ),
    "E213": Code(
        meaning="a context is given where no node takes one",
        text="The context would be ignored: the kind takes none, or no node of the block accepts one. The flow would not be conditional although the spec says so.",
        wrong="  flow: {kind: actnorm, in: x, context: y}",
        right="  flow: {kind: affine_coupling, in: x, context: y}",
    ),
    "E214": Code(
        meaning="the spec expands to more nodes than a graph may have",
        text="A graph may have at most 10,000 nodes (block uses count repeat x chain length).",
        wrong="  body: {block: step, in: x, repeat: 100000}",
        right="  body: {block: step, in: x, repeat: 16}",
    ),
    # --- bijective kinds (E4xx) ----------------------------------------------------------
    "E401": Code(
        meaning="the kind needs a flat input [D]",
        text="The kind works on flat vectors [D] (an MLP conditioner, a flat encoder); image shaped inputs must be flattened first.",
        wrong="inputs:\n  x: {shape: [1, 8, 8]}\nnodes:\n  flow: {kind: affine_coupling, in: x}",
        right="inputs:\n  x: {shape: [1, 8, 8]}\nnodes:\n  flat: {kind: flatten, in: x}\n  flow: {kind: affine_coupling, in: flat}",
    ),
    "E402": Code(
        meaning="a coupling needs at least 2 features to split",
        text="A coupling keeps some features and transforms the others given them: it needs at least two features.",
        wrong="inputs:\n  x: {shape: [1]}\nnodes:\n  flow: {kind: affine_coupling, in: x}",
        right="inputs:\n  x: {shape: [1]}\nnodes:\n  flow: {kind: elementwise, fn: scale_shift, learnable: true, in: x}",
    ),
    "E403": Code(
        meaning="a mask's length differs from the number of features",
        text="An explicit mask has one 0/1 per feature of the input.",
        wrong="inputs:\n  x: {shape: [4]}\nnodes:\n  flow: {kind: affine_coupling, in: x, mask: [1, 0]}",
        right="inputs:\n  x: {shape: [4]}\nnodes:\n  flow: {kind: affine_coupling, in: x, mask: [1, 0, 1, 0]}",
    ),
    "E404": Code(
        meaning="a mask keeps every feature, so nothing is transformed",
        text="A mask of only 1s keeps every feature: the layer would do nothing.",
        wrong="  flow: {kind: affine_coupling, in: x, mask: [1, 1]}",
        right="  flow: {kind: affine_coupling, in: x, mask: [1, 0]}",
    ),
    "E405": Code(
        meaning="a mask transforms every feature, so the layer cannot be inverted",
        text="A mask of only 0s transforms every feature with parameters computed from nothing it leaves unchanged: the layer could not be inverted from its output.",
        wrong="  flow: {kind: affine_coupling, in: x, mask: [0, 0]}",
        right="  flow: {kind: affine_coupling, in: x, mask: [0, 1]}",
    ),
    "E406": Code(
        meaning="a context must be flat [C]",
        text="A context feeds an MLP, which takes flat vectors [C]: flatten an image-shaped context first.",
        wrong="  flow: {kind: affine_coupling, in: x, context: image}",
        right="  flat: {kind: flatten, in: image}\n  flow: {kind: affine_coupling, in: x, context: flat}",
    ),
    "E410": Code(
        meaning="a map of continuous values is fed discrete values",
        text="A continuous bijection changes densities; applied to discrete values its log_prob is not a likelihood of the data. Dequantize discrete data first.",
        wrong="inputs:\n  x: {shape: [64], levels: 17}\nnodes:\n  flow: {kind: affine_coupling, in: x}",
        right="inputs:\n  x: {shape: [64], levels: 17}\nnodes:\n  deq: {kind: uniform_dequantization, in: x}\n  flow: {kind: affine_coupling, in: deq}",
    ),
    "E411": Code(
        meaning="the kind acts on the feature axis, but the event is a scalar",
        text="The kind acts on event axis 0 (features of [D], channels of [C, H, W]); a scalar event [] has none.",
        wrong="inputs:\n  x: {shape: []}",
        right="inputs:\n  x: {shape: [1]}",
    ),
    "E420": Code(
        meaning="an unknown elementwise fn",
        text="The elementwise fn is not one flowspec knows (`flowspec nodes elementwise`).",
        wrong="  m: {kind: elementwise, fn: sigmod, in: x}",
        right="  m: {kind: elementwise, fn: sigmoid, in: x}",
    ),
    "E421": Code(
        meaning="an elementwise fn that is not strictly monotone (not invertible)",
        text="An elementwise map is a bijection only when strictly monotone; relu, abs, gelu, sin and the like map several inputs to one output.",
        wrong="  m: {kind: elementwise, fn: relu, in: x}",
        right="  m: {kind: elementwise, fn: leaky_relu, negative_slope: 0.01, in: x}",
    ),
    "E422": Code(
        meaning="the input's values lie outside the elementwise fn's (or transformer's) domain",
        text="The fn (or transformer) is defined only on part of the line (logit on (0, 1), log on (0, inf)) and the input may lie outside it. Declared bounds are closed: data in [0, 1] may hold an exact 0, where logit and log are infinite (log_prob = nan). Use alpha, or declare 'bounds: open' when the ends never occur.",
        wrong="inputs:\n  x: {shape: [2], low: 0, high: 1}\nnodes:\n  m: {kind: elementwise, fn: logit, in: x}",
        right="inputs:\n  x: {shape: [2], low: 0, high: 1}\nnodes:\n  m: {kind: elementwise, fn: logit, alpha: 0.05, in: x}",
    ),
    "E423": Code(
        meaning="scale_shift with scale 0 (or one float32 rounds to 0 or infinity)",
        text="scale_shift with scale 0 maps everything to the shift: not invertible. So does a scale float32 (the model's default dtype) rounds to 0, such as 1e-46, and one it rounds to infinity (1e39) cannot be inverted either.",
        wrong="  m: {kind: elementwise, fn: scale_shift, scale: 0, in: x}",
        right="  m: {kind: elementwise, fn: scale_shift, scale: 0.5, in: x}",
    ),
    "E424": Code(
        meaning="leaky_relu with negative_slope <= 0 (or one float32 rounds to 0 or infinity)",
        text="leaky_relu with slope 0 is relu (not invertible); a negative slope is not monotone; a slope float32 rounds to 0 (1e-46) or to infinity (1e39) is as bad.",
        wrong="  m: {kind: elementwise, fn: leaky_relu, negative_slope: 0, in: x}",
        right="  m: {kind: elementwise, fn: leaky_relu, negative_slope: 0.01, in: x}",
    ),
    "E425": Code(
        meaning="logit with alpha outside [0, 0.5)",
        text="logit squeezes [0, 1] into [alpha, 1 - alpha] first: alpha must be in [0, 0.5).",
        wrong="  m: {kind: elementwise, fn: logit, alpha: 0.5, in: x}",
        right="  m: {kind: elementwise, fn: logit, alpha: 0.05, in: x}",
    ),
    "E450": Code(
        meaning="a split into fewer than 2 parts",
        text="A split divides the feature axis into two or more parts.",
        wrong="  halves: {kind: split, in: x, sizes: [4]}",
        right="  halves: {kind: split, in: x, sizes: [2, 2]}",
    ),
    "E452": Code(
        meaning="a split's sizes do not add up to the feature axis",
        text="The sizes of a split must add up to the size of the feature axis.",
        wrong="inputs:\n  x: {shape: [4]}\nnodes:\n  halves: {kind: split, in: x, sizes: [2, 3]}",
        right="inputs:\n  x: {shape: [4]}\nnodes:\n  halves: {kind: split, in: x, sizes: [2, 2]}",
    ),
    "E455": Code(
        meaning="a concat of fewer than 2 inputs",
        text="A concat joins two or more inputs.",
        wrong="  joined: {kind: concat, in: [a]}",
        right="  joined: {kind: concat, in: [a, b]}",
    ),
    "E457": Code(
        meaning="concat inputs of different ranks",
        text="Concatenated inputs must have the same rank.",
        wrong="  joined: {kind: concat, in: [flat, image]}",
        right="  flat_image: {kind: flatten, in: image}\n  joined: {kind: concat, in: [flat, flat_image]}",
    ),
    "E458": Code(
        meaning="concat inputs that differ beyond the feature axis",
        text="Inputs are joined along the feature axis (axis 0); every other axis must agree.",
        wrong="inputs:\n  a: {shape: [1, 8, 8]}\n  b: {shape: [1, 4, 4]}\nnodes:\n  joined: {kind: concat, in: [a, b]}",
        right="inputs:\n  a: {shape: [1, 8, 8]}\n  b: {shape: [2, 8, 8]}\nnodes:\n  joined: {kind: concat, in: [a, b]}",
    ),
    "E459": Code(
        meaning="a concat of discrete and continuous inputs",
        text="No density describes a mix of discrete and continuous values: dequantize the discrete inputs first.",
        wrong="  joined: {kind: concat, in: [counts, reals]}",
        right="  deq: {kind: uniform_dequantization, in: counts}\n  joined: {kind: concat, in: [deq, reals]}",
    ),
    "E460": Code(
        meaning="a reshape to a different number of elements",
        text="A reshape keeps every value: the new shape has as many elements as the input.",
        wrong="inputs:\n  x: {shape: [64]}\nnodes:\n  image: {kind: reshape, in: x, shape: [1, 8, 7]}",
        right="inputs:\n  x: {shape: [64]}\nnodes:\n  image: {kind: reshape, in: x, shape: [1, 8, 8]}",
    ),
    "E461": Code(
        meaning="a concat of discrete inputs with different numbers of levels",
        text="A concat's output has one level set: joining 4-level and 2-level values would make it 0..3 throughout, so a discrete flow would move the 2-level values onto 2 and 3 and a categorical would give those values mass the data never takes. Model such inputs separately, or dequantize each and join the continuous values.",
        wrong="inputs:\n  a: {shape: [4], levels: 4}\n  b: {shape: [2], levels: 2}\nnodes:\n  both: {kind: concat, in: [a, b]}",
        right="inputs:\n  a: {shape: [4], levels: 4}\n  b: {shape: [2], levels: 2}\nnodes:\n  da: {kind: uniform_dequantization, in: a}\n  db: {kind: uniform_dequantization, in: b}\n  both: {kind: concat, in: [da, db]}",
    ),
    "E466": Code(
        meaning="a slice that keeps every feature",
        text="A slice keeps the first 'keep' features and models the rest: keep must be smaller than the feature axis, or nothing is dropped.",
        wrong="inputs:\n  x: {shape: [4]}\nnodes:\n  drop: {kind: slice, in: x, keep: 4}",
        right="inputs:\n  x: {shape: [4]}\nnodes:\n  drop: {kind: slice, in: x, keep: 2}",
    ),
    "E480": Code(
        meaning="uniform_dequantization of values that are not discrete",
        text="Uniform dequantization turns integers 0..K-1 into continuous values: the input must declare its levels.",
        wrong="inputs:\n  x: {shape: [64]}\nnodes:\n  deq: {kind: uniform_dequantization, in: x}",
        right="inputs:\n  x: {shape: [64], levels: 17}\nnodes:\n  deq: {kind: uniform_dequantization, in: x}",
    ),
    "W410": Code(
        meaning="a permutation that leaves the order unchanged",
        text="The permutation leaves the order as it is (a single feature, or a seed whose shuffle happens to be the identity): the node does nothing.",
        wrong="inputs:\n  x: {shape: [1]}\nnodes:\n  r: {kind: reverse, in: x}",
        right="inputs:\n  x: {shape: [2]}\nnodes:\n  r: {kind: reverse, in: x}",
    ),
    "W420": Code(
        meaning="a field the chosen elementwise fn ignores",
        text="The field belongs to another fn (alpha to logit, scale to scale_shift, ...): it has no effect here.",
        wrong="  m: {kind: elementwise, fn: sigmoid, alpha: 0.05, in: x}",
        right="  m: {kind: elementwise, fn: sigmoid, in: x}",
    ),
    "W430": Code(
        meaning="a setting that has no effect given the node's other settings",
        text="The setting only matters together with another one, which is off: actnorm's eps is added to the batch std of the data-dependent initialisation, so it does nothing with data_init: false; an elementwise fn's setting (alpha, scale, ...) does nothing next to transformer: (set it inside the transformer); a conditioner computes nothing for a transformer without parameters (tanh, logit, ...); a Sylvester setting of another variant (reflections: householder only), a residual block's roulette_p or probes next to logdet: series or exact, a CNF's step_size with an adaptive method or rtol/atol with a fixed-step one, MADE's seed without order: random, a base distribution's net without a context, an MLP's activation or dropout with hidden: [], a flow density's layers with repeat: 0.",
        wrong="  norm: {kind: actnorm, in: x, data_init: false, eps: 0.001}",
        right="  norm: {kind: actnorm, in: x, eps: 0.001}",
    ),
    # --- distributions and surjections (E5xx) --------------------------------------------
    "E501": Code(
        meaning="a continuous density of discrete values",
        text="A continuous density of discrete values is no likelihood of them (it can grow without bound). Dequantize first.",
        wrong="inputs:\n  x: {shape: [2], levels: 4}\nnodes:\n  prior: {kind: standard_normal, in: x}",
        right="inputs:\n  x: {shape: [2], levels: 4}\nnodes:\n  deq: {kind: uniform_dequantization, in: x}\n  real: {kind: elementwise, fn: logit, in: deq}\n  prior: {kind: standard_normal, in: real}",
    ),
    "E510": Code(
        meaning="a conditional_normal without a context",
        text="conditional_normal is N(mu(c), sigma(c)^2): it needs the port c it is conditioned on.",
        wrong="  p1: {kind: conditional_normal, in: halves.out1}",
        right="  p1: {kind: conditional_normal, in: halves.out1, context: halves.out0}",
    ),
    "W501": Code(
        meaning="a density on the whole real line for values that do not fill it",
        text="The values reaching the density do not fill the real line (bounded data, or bounded values moved by couplings or actnorm; sorted values, which fill a cone of 1/N! of the space; values with levels moved by integer flows, which a pmf over all integers does not fill), but the density spreads its mass over the whole line, so log_prob is not normalized over the data's domain and the model is classed a lower bound. Map bounded values to the real line first (logit for (0, 1), log for (0, inf)), sorted ones with ordered_to_real right after the sort.",
        wrong="inputs:\n  x: {shape: [2], low: 0, high: 1}\nnodes:\n  flow: {kind: affine_coupling, in: x}\n"
        + _PRIOR,
        right="inputs:\n  x: {shape: [2], low: 0, high: 1}\nnodes:\n  real: {kind: elementwise, fn: logit, alpha: 0.01, in: x}\n  flow: {kind: affine_coupling, in: real}\n"
        + _PRIOR,
    ),
    # --- couplings and autoregressive layers (E600-E649) ---------------------------------
    "E602": Code(
        meaning="an explicit autoregressive order is not a permutation of the features",
        text="An explicit `order` gives each feature its position in the autoregressive order, so it must hold 0 .. D-1 once each; a repeated or missing position would let a feature depend on itself and break invertibility.",
        wrong="  flow: {kind: autoregressive, in: x, conditioner: {kind: made, order: [0, 0, 1]}}",
        right="  flow: {kind: autoregressive, in: x, conditioner: {kind: made, order: [2, 0, 1]}}",
    ),
    "W603": Code(
        meaning="a MADE hidden layer narrower than D - 1 (later features condition nothing)",
        text="MADE gives its hidden units the degrees 1, 2, ..., D-1 in turn, and a unit of degree k sees the first k features in the order. A layer of fewer than D-1 units has no unit of the higher degrees, so the features after them reach no hidden unit: they never influence the parameters of later features (the Jacobian's zeros show it). Pyro warns likewise.",
        wrong="inputs:\n  x: {shape: [32]}\nnodes:\n  flow: {kind: autoregressive, in: x, conditioner: {kind: made, hidden: [4]}}",
        right="inputs:\n  x: {shape: [32]}\nnodes:\n  flow: {kind: autoregressive, in: x, conditioner: {kind: made, hidden: [64]}}",
    ),
    "E610": Code(
        meaning="the transformer does not accept values in the input's support",
        text="An elementwise transformer is a bijection of its domain; values outside it have no image (a map of the unit interval fed real values). Map the values into the transformer's domain first, or pick a transformer of the real line.",
        wrong="  flow: {kind: coupling, in: x, transformer: {kind: logit}}",
        right="  squash: {kind: elementwise, fn: sigmoid, in: x}\n  flow: {kind: coupling, in: squash, transformer: {kind: logit}}",
    ),
    "E611": Code(
        meaning="an elementwise node with both fn and transformer",
        text="An elementwise node applies one map: a fixed fn (its settings on the node), or a transformer whose parameters it learns per feature. Give one of them.",
        wrong="  m: {kind: elementwise, fn: tanh, transformer: {kind: rq_spline}, in: x}",
        right="  m: {kind: elementwise, transformer: {kind: rq_spline}, in: x}",
    ),
    # --- images: squeeze, masks, convolutions, multi-scale (E650-E699) -------------------
    "E650": Code(
        meaning="the kind or mask needs an image-shaped input [C, H, W]",
        text="Squeeze, unsqueeze, invconv1x1 and the image masks of couplings (channel, checkerboard) act on images [C, H, W]: channels at every pixel. A flat or other input has no such axes; reshape it first.",
        wrong="  x: {shape: [64]}\n  coarse: {kind: squeeze, in: x}",
        right="  image: {kind: reshape, in: x, shape: [1, 8, 8]}\n  coarse: {kind: squeeze, in: image}",
    ),
    "E651": Code(
        meaning="squeeze needs H and W divisible by its factor",
        text="Squeeze moves every f x f block of pixels into channels, so H and W must be multiples of the factor f; otherwise pixels would be left over.",
        wrong="  x: {shape: [1, 7, 8]}\n  coarse: {kind: squeeze, in: x}",
        right="  x: {shape: [1, 8, 8]}\n  coarse: {kind: squeeze, in: x}",
    ),
    "E652": Code(
        meaning="unsqueeze needs the channels divisible by the factor squared",
        text="Unsqueeze turns every f^2 channels into an f x f block of pixels, so the channels must be a multiple of f^2.",
        wrong="  x: {shape: [2, 4, 4]}\n  fine: {kind: unsqueeze, in: x}",
        right="  x: {shape: [4, 4, 4]}\n  fine: {kind: unsqueeze, in: x}",
    ),
    "E653": Code(
        meaning="a channel mask needs at least 2 channels",
        text="A channel mask keeps half the channels and transforms the rest; a single channel cannot be split. Squeeze first (4 channels) or use a checkerboard mask.",
        wrong="  x: {shape: [1, 8, 8]}\n  flow: {kind: coupling, in: x, mask: channel}",
        right="  coarse: {kind: squeeze, in: x}\n  flow: {kind: coupling, in: coarse, mask: channel}",
    ),
    "E654": Code(
        meaning="a checkerboard mask needs at least 2 pixels",
        text="A checkerboard mask keeps every other pixel; an image of one pixel has nothing left to transform.",
        wrong="  x: {shape: [4, 1, 1]}\n  flow: {kind: coupling, in: x, mask: checkerboard}",
        right="  x: {shape: [4, 1, 1]}\n  flow: {kind: coupling, in: x, mask: channel}",
    ),
    "E655": Code(
        meaning="a convolutional conditioner needs image-shaped parts (an image mask)",
        text="Convolutional conditioners (resnet, conv) map kept channels to parameters at the same pixels: they need an image input split by an image mask, not a flat one.",
        wrong="  flow: {kind: coupling, in: flat, conditioner: {kind: resnet}}",
        right="  flow: {kind: coupling, in: image, mask: channel, conditioner: {kind: resnet}}",
    ),
    "E656": Code(
        meaning="a convolutional conditioner's context must be flat or an image of the input's size",
        text="A convolutional conditioner stacks its context as extra channels: a flat context [K] is broadcast to every pixel, an image context must have the input's H and W.",
        wrong="  c: {shape: [2, 3, 3], context: true}    # the input is [4, 8, 8]",
        right="  c: {shape: [2, 8, 8], context: true}    # or a flat [K]",
    ),
    "E657": Code(
        meaning="a convolution kernel must be odd",
        text="Convolutions keep H and W with 'same' padding of kernel // 2 on each side, which is only exact for odd kernels.",
        wrong="  conditioner: {kind: resnet, kernel: 4}",
        right="  conditioner: {kind: resnet, kernel: 3}",
    ),
    "E658": Code(
        meaning="a block uses itself, directly or through other blocks",
        text="A block may use other blocks (a scale of Glow is a squeeze and a block of steps), but a block that uses itself, directly or through others, would expand forever. The message names the cycle; repeat a block with 'repeat'.",
        wrong="blocks:\n  step:\n    - {kind: actnorm}\n    - {block: step}",
        right="blocks:\n  step:\n    - {kind: actnorm}\nnodes:\n  body: {block: step, repeat: 4, in: x}",
    ),
    # --- elementwise transformers, their conditioners (E700-E749) -----------------------
    "E700": Code(
        meaning="rq_spline: bins * min_bin_width must be below 1 (the bins do not fit in [-B, B])",
        text="A rational-quadratic spline divides [-B, B] into `bins` bins, each at least `min_bin_width` of it wide; if bins * min_bin_width reaches 1 the bins cannot fit.",
        wrong="  transformer: {kind: rq_spline, bins: 20, min_bin_width: 0.05}",
        right="  transformer: {kind: rq_spline, bins: 20, min_bin_width: 0.001}",
    ),
    "E701": Code(
        meaning="rq_spline: bins * min_bin_height must be below 1 (the bins do not fit in [-B, B])",
        text="As E700 for the heights: each bin rises by at least `min_bin_height` of the range, so bins * min_bin_height must stay below 1.",
        wrong="  transformer: {kind: rq_spline, bins: 20, min_bin_height: 0.05}",
        right="  transformer: {kind: rq_spline, bins: 20, min_bin_height: 0.001}",
    ),
    "E702": Code(
        meaning="rq_spline with a single bin (the identity whatever its weights)",
        text="A rational-quadratic spline's bins sit between knots; its end knots are fixed at (-B, -B) and (B, B) with derivative 1. With one bin there is no interior knot, so the spline is the identity and the conditioner's outputs change nothing.",
        wrong="  transformer: {kind: rq_spline, bins: 1}",
        right="  transformer: {kind: rq_spline, bins: 8}",
    ),
    "E710": Code(
        meaning="masked_conv: the kernel size must be odd (the centre tap is what the masks split)",
        text="PixelCNN's masks cut each kernel at its centre tap; an even kernel has no centre, so the autoregressive order could not be kept.",
        wrong="  conditioner: {kind: masked_conv, kernel: 4}",
        right="  conditioner: {kind: masked_conv, kernel: 5}",
    ),
    "E711": Code(
        meaning="masked_conv: the input must be an image [C, H, W]",
        text="Masked convolutions order the pixels of an image [C, H, W] in raster order; flat inputs want a made conditioner, sequences a wavenet.",
        wrong="inputs:\n  x: {shape: [64]}\nnodes:\n  flow: {kind: autoregressive, in: x, conditioner: {kind: masked_conv}}",
        right="inputs:\n  x: {shape: [1, 8, 8]}\nnodes:\n  flow: {kind: autoregressive, in: x, conditioner: {kind: masked_conv}}",
    ),
    "E712": Code(
        meaning="causal_transformer: dim must be a multiple of heads",
        text="Multi-head attention splits the model width `dim` evenly over the heads.",
        wrong="  conditioner: {kind: causal_transformer, dim: 30, heads: 4}",
        right="  conditioner: {kind: causal_transformer, dim: 32, heads: 4}",
    ),
    "E713": Code(
        meaning="wavenet: the input must be a sequence [C, L] or [L]",
        text="WaveNet's dilated causal convolutions run along a sequence: [L] or [C, L].",
        wrong="inputs:\n  x: {shape: [1, 8, 8]}\nnodes:\n  flow: {kind: autoregressive, in: x, conditioner: {kind: wavenet}}",
        right="inputs:\n  x: {shape: [2, 16]}\nnodes:\n  flow: {kind: autoregressive, in: x, conditioner: {kind: wavenet}}",
    ),
    # --- determinant identities, residual and continuous-time flows (E750-E799) ----------
    "E750": Code(
        meaning="residual block with lipschitz >= 1: x + g(x) is then not guaranteed invertible",
        text="A residual block x + g(x) is invertible (and its log-det series converges) only when g is a contraction: its Lipschitz constant must be below 1 (Behrmann et al. 2019). Spectral normalisation enforces the coefficient you give.",
        wrong="  block: {kind: residual, in: x, lipschitz: 1.0}",
        right="  block: {kind: residual, in: x, lipschitz: 0.9}",
    ),
    "E751": Code(
        meaning="planar, radial, Sylvester, residual or CNF node fed an input that is not a flat vector [D]",
        text="Planar, radial, Sylvester, residual and CNF layers act on flat vectors [D]; flatten images first.",
        wrong="inputs:\n  x: {shape: [1, 4, 4]}\nnodes:\n  flow: {kind: planar, in: x}",
        right="inputs:\n  x: {shape: [1, 4, 4]}\nnodes:\n  flat: {kind: flatten, in: x}\n  flow: {kind: planar, in: flat}",
    ),
    "W752": Code(
        meaning="planar or Sylvester node without an inference direction: log_prob of data unavailable",
        text="Planar and Sylvester flows are closed-form from latent to data only (as VAE posteriors use them). The model samples, and scores its own samples, but the log_prob of given data needs the inverse by root finding, which a planar node takes on request; without it log_prob raises UnavailableError.",
        wrong="  flow: {kind: planar, in: x}",
        right="  flow: {kind: planar, in: x, inverse: {method: bisection, tol: 1.0e-6, max_iter: 60}}",
    ),
    "E753": Code(
        meaning="residual block activation that is not 1-Lipschitz (spectral normalisation cannot bound g)",
        text="Spectral normalisation bounds the Lipschitz constant of each linear map; the activations between them must be 1-Lipschitz too (elu, tanh, leaky_relu), or the block's bound does not hold.",
        wrong="  block: {kind: residual, in: x, net: {kind: mlp, activation: gelu}}",
        right="  block: {kind: residual, in: x, net: {kind: mlp, activation: elu}}",
    ),
    "E754": Code(
        meaning="CNF with a fixed-step ODE method and no step_size",
        text="A fixed-step ODE method (euler, midpoint, rk4) needs the step size; adaptive methods (dopri5) take tolerances instead.",
        wrong="  flow: {kind: cnf, in: x, solver: {method: rk4}}",
        right="  flow: {kind: cnf, in: x, solver: {method: rk4, step_size: 0.25}}",
    ),
    "W755": Code(
        meaning="exact log-determinant or trace on many features (one backward pass per feature)",
        text="An exact log-determinant or trace takes one backward pass per feature: right for small D (evaluation, tests), slow for large D, where an estimator is cheaper.",
        wrong="  block: {kind: residual, in: x, logdet: exact}      # x has 784 features",
        right="  block: {kind: residual, in: x, logdet: roulette}",
    ),
    "E756": Code(
        meaning="Sylvester flow asking for more orthonormal columns than features",
        text="An orthogonal Sylvester flow uses M orthonormal columns in D dimensions, so M cannot exceed D.",
        wrong="inputs:\n  x: {shape: [2]}\nnodes:\n  flow: {kind: sylvester, in: x, columns: 4}",
        right="inputs:\n  x: {shape: [2]}\nnodes:\n  flow: {kind: sylvester, in: x, columns: 2}",
    ),
    "W757": Code(
        meaning="CNF dynamics with a non-smooth activation (adaptive solvers take many steps)",
        text="Adaptive ODE solvers take many small steps where the dynamics are not smooth; FFJORD uses smooth activations (tanh, softplus, elu).",
        wrong="  flow: {kind: cnf, in: x, net: {kind: mlp, activation: relu}}",
        right="  flow: {kind: cnf, in: x, net: {kind: mlp, activation: tanh}}",
    ),
    "E758": Code(
        meaning="CNF fixed-step solver asked for more steps (time / step_size) than allowed",
        text="A fixed-step ODE method takes time / step_size steps per pass and keeps every step's state for the backward pass; 1e12 steps ask for terabytes. At most 10000.",
        wrong="  flow: {kind: cnf, in: x, solver: {method: rk4, step_size: 1.0e-12}}",
        right="  flow: {kind: cnf, in: x, solver: {method: rk4, step_size: 0.25}}",
    ),
    "E759": Code(
        meaning="CNF solver tolerance (rtol or atol) too small for float32 to meet",
        text="An adaptive ODE solver shrinks its step until the error estimate is below rtol and atol; below 1e-10 float32 cannot get there, so it hangs or stops with 'underflow in dt'.",
        wrong="  flow: {kind: cnf, in: x, solver: {rtol: 1.0e-300}}",
        right="  flow: {kind: cnf, in: x, solver: {rtol: 1.0e-5, atol: 1.0e-5}}",
    ),
    "E760": Code(
        meaning="dropout in a network that must be one fixed function (a residual branch, a CNF's dynamics)",
        text="While training, dropout draws another network on every call. A coupling's conditioner may do that (each draw is a valid flow), but a residual block needs one g with Lip(g) < 1 (dropout's 1/(1-p) scaling breaks the bound, and its fixed-point inverse and log-det series call g many times), and a CNF's solver integrates one vector field (a random one makes adaptive solvers shrink their steps until they stall).",
        wrong="  block: {kind: residual, in: x, net: {kind: mlp, activation: elu, dropout: 0.5}}",
        right="  block: {kind: residual, in: x, net: {kind: mlp, activation: elu}}",
    ),
    # --- SurVAE: surjective, stochastic and discrete nodes (E800-E899) -------------------
    "E800": Code(
        meaning="a density of real values is asked to model discrete values",
        text="A density of real values (gaussian, flow) gives probability zero to every single value, so it cannot score discrete data; a pmf can.",
        wrong="inputs:\n  x: {shape: [4], levels: 2}\nnodes:\n  vae: {kind: vae, in: x, latent: 2, decoder: {kind: gaussian}}",
        right="inputs:\n  x: {shape: [4], levels: 2}\nnodes:\n  vae: {kind: vae, in: x, latent: 2, decoder: {kind: bernoulli}}",
    ),
    "E801": Code(
        meaning="a probability mass function is asked to model continuous values",
        text="A pmf (bernoulli, categorical, discretized_logistic) gives probabilities to integers; real values have none, and a proposal (encoder, dequantizer) must draw real values.",
        wrong="  pad: {kind: augment, in: x, extra: 2, encoder: {kind: bernoulli}}",
        right="  pad: {kind: augment, in: x, extra: 2, encoder: {kind: gaussian}}",
    ),
    "E802": Code(
        meaning="a density's number of levels differs from the values' (bernoulli needs 2)",
        text="A Bernoulli models two values; values with more levels need a categorical.",
        wrong="inputs:\n  x: {shape: [4], levels: 5}\nnodes:\n  vae: {kind: vae, in: x, latent: 2, decoder: {kind: bernoulli}}",
        right="inputs:\n  x: {shape: [4], levels: 5}\nnodes:\n  vae: {kind: vae, in: x, latent: 2, decoder: {kind: categorical}}",
    ),
    "E803": Code(
        meaning="a categorical density is asked to model unbounded integers",
        text="Integer discrete flows move values to any integer; a categorical has a finite number of levels. A discretized logistic covers every integer.",
        wrong="  idf: {kind: integer_discrete_flow, in: x}\n  prior: {kind: categorical, in: idf}",
        right="  idf: {kind: integer_discrete_flow, in: x}\n  prior: {kind: discretized_logistic, in: idf}",
    ),
    "E804": Code(
        meaning="a flow density's layer is unknown, invalid, wired, or not a bijection",
        text="The layers of a flow density are node specs without wiring, and each must be a bijection (its log-det is part of the density): no surjections, no inputs.",
        wrong="encoder: {kind: flow, layers: [{kind: slice, keep: 1}]}",
        right="encoder: {kind: flow, layers: [{kind: affine_coupling}, {kind: reverse}]}",
    ),
    "E805": Code(
        meaning="a flow density's layer changes the event shape",
        text="A flow density's layers map its event to itself; a layer that changes the shape leaves values the base cannot score.",
        wrong="encoder: {kind: flow, layers: [{kind: reshape, shape: [2, 1]}]}",
        right="encoder: {kind: flow, layers: [{kind: affine_coupling}]}",
    ),
    "E806": Code(
        meaning="a flow density's layers map the real line onto part of it",
        text="A flow density draws a Gaussian value on the whole real line and inverts its layers on it. Layers that map the real line onto part of it (exp onto (0, inf), sigmoid or tanh onto an interval) have no inverse for draws outside that part: samples and log-densities come out NaN, and the density is not normalized. End the layers on the whole line (a logit after a sigmoid) or leave the map out.",
        wrong="encoder: {kind: flow, layers: [{kind: affine_coupling}, {kind: elementwise, fn: exp}]}",
        right="encoder: {kind: flow, layers: [{kind: elementwise, fn: sigmoid}, {kind: elementwise, fn: logit}]}",
    ),
    "E807": Code(
        meaning="a flow density that scores given values (a decoder) has a layer without an inference direction",
        text="A decoder computes log p(x | z) of the data, which runs each layer of a flow density from the values to its Gaussian base. Sylvester layers, and planar layers without inverse, only run the other way: they serve in encoders and dequantizers, which score their own draws, but in a decoder log_prob would fail.",
        wrong="  drop: {kind: slice, in: x, keep: 2, decoder: {kind: flow, layers: [{kind: planar}]}}",
        right="  drop: {kind: slice, in: x, keep: 2, decoder: {kind: flow, layers: [{kind: planar, inverse: {method: bisection}}]}}",
    ),
    "W800": Code(
        meaning="a density of the whole real line is asked to model bounded values",
        text="A density of the whole real line fed values confined to an interval puts mass where no value can be, so its log-likelihood is lower than it could be.",
        wrong="inputs:\n  x: {shape: [3], low: 0, high: 1}\nnodes:\n  drop: {kind: slice, keep: 1, in: x}",
        right="inputs:\n  x: {shape: [3], low: 0, high: 1}\nnodes:\n  real: {kind: elementwise, fn: logit, alpha: 0.01, in: x}\n  drop: {kind: slice, keep: 1, in: real}",
    ),
    "E810": Code(
        meaning="max_pool needs an image [C, H, W] whose H and W divide by the window size",
        text="Max-pooling keeps the maximum of each size x size window of an image [C, H, W], so H and W must divide by the size.",
        wrong="inputs:\n  x: {shape: [1, 3, 4]}\nnodes:\n  pool: {kind: max_pool, in: x}",
        right="inputs:\n  x: {shape: [1, 4, 4]}\nnodes:\n  pool: {kind: max_pool, in: x}",
    ),
    "E811": Code(
        meaning="sort needs a set [N] or a point set [N, d] with N >= 2",
        text="Sorting models the order of a set's elements: it needs a set of at least two elements, [N] or N points [N, d].",
        wrong="inputs:\n  x: {shape: [2, 2, 2]}\nnodes:\n  order: {kind: sort, in: x}",
        right="inputs:\n  x: {shape: [4, 2]}\nnodes:\n  order: {kind: sort, in: x}",
    ),
    "E812": Code(
        meaning="sort's 'by' names a coordinate the points do not have",
        text="Points [N, d] are sorted by one of their d coordinates.",
        wrong="inputs:\n  x: {shape: [4, 2]}\nnodes:\n  order: {kind: sort, in: x, by: 2}",
        right="inputs:\n  x: {shape: [4, 2]}\nnodes:\n  order: {kind: sort, in: x, by: 1}",
    ),
    "E813": Code(
        meaning="ordered_to_real fed values that are not in a sort's layout",
        text="ordered_to_real maps sorted values (each row ascending in the sorted coordinate) onto the whole space through the logs of the gaps between consecutive values; on values in any other order the gaps are negative. It reads the layout a sort node produces, so it comes right after the sort.",
        wrong="  order: {kind: sort, in: x}\n  turned: {kind: reverse, in: order}\n  gaps: {kind: ordered_to_real, in: turned}",
        right="  order: {kind: sort, in: x}\n  gaps: {kind: ordered_to_real, in: order}",
    ),
    "E814": Code(
        meaning="rounding or variational dequantization of values without levels",
        text="Rounding and variational dequantization fill the cells of integers 0..K-1; the input must declare its levels.",
        wrong="inputs:\n  x: {shape: [64]}\nnodes:\n  dq: {kind: variational_dequantization, in: x}",
        right="inputs:\n  x: {shape: [64], levels: 17}\nnodes:\n  dq: {kind: variational_dequantization, in: x}",
    ),
    "E815": Code(
        meaning="argmax needs a flat categorical input [D] with levels",
        text="The argmax surjection turns each of D categorical values into K scores: it needs a flat input [D] with K levels.",
        wrong="inputs:\n  x: {shape: [8]}\nnodes:\n  lift: {kind: argmax, in: x}",
        right="inputs:\n  x: {shape: [8], levels: 4}\nnodes:\n  lift: {kind: argmax, in: x}",
    ),
    "E816": Code(
        meaning="a discrete coupling needs a flat input [D] with D >= 2",
        text="A discrete coupling keeps the first half of a flat input and transforms the second, so it needs at least two features.",
        wrong="inputs:\n  x: {shape: [1], levels: 4}\nnodes:\n  f: {kind: discrete_flow, in: x}",
        right="inputs:\n  x: {shape: [2], levels: 4}\nnodes:\n  f: {kind: discrete_flow, in: x}",
    ),
    "E817": Code(
        meaning="a discrete coupling of values that are not integers (or lack levels)",
        text="Discrete flows are bijections of integers (discrete_flow of 0..K-1, so it needs levels); real values need a continuous flow.",
        wrong="inputs:\n  x: {shape: [4]}\nnodes:\n  f: {kind: integer_discrete_flow, in: x}",
        right="inputs:\n  x: {shape: [4], levels: 17}\nnodes:\n  f: {kind: integer_discrete_flow, in: x}",
    ),
    # --- training settings (E900-E949) ---------------------------------------------------
    "E900": Code(
        meaning="unknown field in the training settings (a spec's train: section or --config file)",
        text="The training settings (a spec's train: section, or a --config file) have a fixed set of fields: data, optimizer, lr, schedule, warmup, batch_size, steps, epochs, clip_grad, weight_decay, seed, threads, device, val_every, patience, time_limit. A misspelt one would otherwise be ignored silently and training would run with the default.",
        wrong="train:\n  stesp: 3000",
        right="train:\n  steps: 3000",
    ),
    "E901": Code(
        meaning="invalid value for a training setting",
        text="A training setting has a value of the wrong type or outside its range: a learning rate must be a positive number, a batch size at least 1, the optimizer one of adam, adamw, sgd, the device one of cpu, cuda, mps.",
        wrong="train:\n  lr: -0.001\n  device: gpu",
        right="train:\n  lr: 1.0e-3\n  device: cuda",
    ),
    "E902": Code(
        meaning="the training settings are not a mapping of fields",
        text="train: holds the training settings as a mapping of fields, not a single value.",
        wrong="train: 3000",
        right="train: {steps: 3000}",
    ),
    "E903": Code(
        meaning="training settings that contradict each other (steps and epochs both given)",
        text="The length of a run is given once: in optimizer steps or in passes over the training data (epochs), not both. A later layer of settings (a --config file, then the command line) replaces an earlier budget, so --epochs overrides steps: written in the spec.",
        wrong="train: {steps: 3000, epochs: 20}",
        right="train: {epochs: 20}",
    ),
    "W904": Code(
        meaning="a warm-up as long as the run or longer (the learning rate never reaches lr)",
        text="The learning rate rises linearly from 0 to lr over `warmup` steps; a run of fewer steps stops on the way up, at lr x steps / warmup, and the decay schedule never starts.",
        wrong="train: {steps: 500, warmup: 5000}",
        right="train: {steps: 500, warmup: 25}",
    ),
    # --- optimization passes (E950-E999) -------------------------------------------------
}
