"""The long explanation of every diagnostic code, for ``flowspec explain CODE``.

Each entry says what the check protects against and shows a spec fragment that triggers
it and one that does not, as compilers with good diagnostics do (``rustc --explain``).
The one-line meanings are in :mod:`flowspec.codes`; a test checks that every code there
has an entry here. Plain data, no imports beyond the standard library: it loads instantly.

    flowspec explain E209
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

__all__ = ["Explanation", "EXPLANATIONS", "explain_text"]


@dataclass(frozen=True)
class Explanation:
    """Why a check exists, a spec fragment that fails it and one that passes."""

    text: str
    wrong: str
    right: str


_PRIOR = "  prior: {kind: standard_normal, in: flow}"

EXPLANATIONS: dict[str, Explanation] = {
    "E001": Explanation(
        "flowspec could not read the file: it does not exist, is a directory, cannot be "
        "opened, or is not UTF-8 text.",
        "$ flowspec validate spec.yml      # the file is spec.yaml",
        "$ flowspec validate spec.yaml",
    ),
    "E002": Explanation(
        "Specs are plain data. YAML tags (!!python/object, !custom) could construct "
        "arbitrary objects, so none is accepted; an explicit standard tag must match its "
        "value.",
        "inputs:\n  x: !!python/object:os.system {shape: [2]}",
        "inputs:\n  x: {shape: [2]}",
    ),
    "E003": Explanation(
        "The text is not YAML: an unclosed bracket or quote, a bad indentation, a tab used "
        "for indentation (YAML allows spaces only), or a character YAML does not accept.",
        "inputs:\n\tx: {shape: [2]}        # a tab",
        "inputs:\n  x: {shape: [2]}",
    ),
    "E004": Explanation(
        "The file holds no spec at all (empty, or only comments).",
        "# nothing yet",
        'flowspec: "1"\nname: toy\ninputs:\n  x: {shape: [2]}\nnodes:\n'
        "  prior: {kind: standard_normal, in: x}",
    ),
    "E005": Explanation(
        "A spec is a mapping with the fields flowspec, name, inputs, nodes (and optionally "
        "blocks, description).",
        "- flowspec: '1'\n- name: toy",
        'flowspec: "1"\nname: toy',
    ),
    "E006": Explanation(
        "A key given twice in one mapping would silently keep only the last value (plain "
        "YAML loaders do); flowspec reports it instead.",
        "nodes:\n  flow: {kind: actnorm, in: x}\n  flow: {kind: reverse, in: x}",
        "nodes:\n  norm: {kind: actnorm, in: x}\n  flow: {kind: reverse, in: norm}",
    ),
    "E007": Explanation(
        "Limits keep a check from being asked for absurd memory or time: a spec may hold a "
        "bounded number of values (aliases count every expansion, as in 'billion laughs'), "
        "nest a bounded depth, and no alias may contain itself.",
        "a: &a [*a]",
        "blocks:\n  step: &step\n    - {kind: affine_coupling}\n    - {kind: reverse}",
    ),
    "E008": Explanation(
        "Keys must be plain scalars (names); a list or mapping as a key, or YAML's merge "
        "key '<<', has no meaning in a spec.",
        "nodes:\n  flow:\n    <<: *defaults\n    in: x",
        "nodes:\n  flow: {kind: affine_coupling, in: x, net: {hidden: [64, 64]}}",
    ),
    "E101": Explanation(
        "Each entry under nodes is a mapping: a node ({kind: ...}) or a block use "
        "({block: ...}), never both, never a bare value.",
        "nodes:\n  flow: {kind: affine_coupling, block: step, in: x}",
        "nodes:\n  flow: {block: step, in: x}",
    ),
    "E102": Explanation(
        "The field is not one the node kind (or section) has: a typo, a field of another "
        "kind, or a key glued to its value (in:x, with no space after the colon, is one "
        "key). `flowspec nodes KIND` lists the fields.",
        "  flow: {kind: affine_coupling, in: x, scale_bonud: 2.0}",
        "  flow: {kind: affine_coupling, in: x, scale_bound: 2.0}",
    ),
    "E103": Explanation(
        "A field without a default, or a section (inputs, nodes), is missing or empty.",
        "  drop: {kind: slice, in: flow}",
        "  drop: {kind: slice, in: flow, keep: 2}",
    ),
    "E104": Explanation(
        "The value has the wrong type or is out of range. Numbers are strict: \"8\" is a "
        "string, not the integer 8, and true is not 1.",
        "  body: {block: step, in: x, repeat: \"8\"}",
        "  body: {block: step, in: x, repeat: 8}",
    ),
    "E105": Explanation(
        "Every node names its kind. When the file seems to have one, look for a missing "
        "space: 'kind:reverse' is read as one key, not kind = reverse.",
        "  r: {kind:reverse, in: x}",
        "  r: {kind: reverse, in: x}",
    ),
    "E106": Explanation(
        "There is no node kind of that name; `flowspec nodes` lists them. Maps that are not "
        "invertible (relu, abs) are not kinds.",
        "  act: {kind: relu, in: x}",
        "  act: {kind: elementwise, fn: leaky_relu, in: x}",
    ),
    "E107": Explanation(
        "Input, node and block names become Python identifiers in generated code: letters, "
        "digits and _, not starting with a digit, no Python keyword, no '__'.",
        "nodes:\n  2nd-layer: {kind: actnorm, in: x}",
        "nodes:\n  second_layer: {kind: actnorm, in: x}",
    ),
    "E108": Explanation(
        "A reference must mean one thing: a name cannot be an input and a node.",
        "inputs:\n  x: {shape: [2]}\nnodes:\n  x: {kind: actnorm, in: x}",
        "inputs:\n  x: {shape: [2]}\nnodes:\n  norm: {kind: actnorm, in: x}",
    ),
    "E109": Explanation(
        "A block is a chain: each node reads the node before it, and the block use gives "
        "the first one's input.",
        "blocks:\n  step:\n    - {kind: actnorm, in: x}",
        "blocks:\n  step:\n    - {kind: actnorm}\nnodes:\n  body: {block: step, in: x}",
    ),
    "E110": Explanation(
        "Blocks hold chains of one-input, one-output nodes: no distributions, splits, "
        "concats, nor other blocks.",
        "blocks:\n  step:\n    - {kind: affine_coupling}\n    - {kind: standard_normal}",
        "blocks:\n  step:\n    - {kind: affine_coupling}\n    - {kind: reverse}",
    ),
    "E111": Explanation(
        "The block use names a block that is not defined under blocks.",
        "nodes:\n  body: {block: stpe, in: x}",
        "nodes:\n  body: {block: step, in: x}",
    ),
    "E112": Explanation(
        "An input is discrete (levels: K, values 0..K-1) or continuous (optional low and "
        "high, with low < high), not both.",
        "  x: {shape: [64], levels: 256, low: 0, high: 1}",
        "  x: {shape: [64], levels: 256}",
    ),
    "E113": Explanation(
        "A node inside a block takes its context from the block use, which passes it to "
        "every node of the block that accepts one (so each use may condition on a "
        "different value).",
        "blocks:\n  step:\n    - {kind: affine_coupling, context: y}\nnodes:\n"
        "  body: {block: step, in: x}",
        "blocks:\n  step:\n    - {kind: affine_coupling}\nnodes:\n"
        "  body: {block: step, in: x, context: y}",
    ),
    "E201": Explanation(
        "A reference (in, context) names an input or a node output. The name does not "
        "exist, or names a distribution, which has no output.",
        "  flow: {kind: actnorm, in: xx}",
        "  flow: {kind: actnorm, in: x}",
    ),
    "E202": Explanation(
        "A node with several outputs (a split) needs the port: node.out0. An input has "
        "one value and no ports.",
        "  p0: {kind: standard_normal, in: halves}",
        "  p0: {kind: standard_normal, in: halves.out0}",
    ),
    "E203": Explanation(
        "Every data value must end in a distribution, or log_prob ignores it; a context "
        "input that conditions no node makes a flow that does not depend on it.",
        "inputs:\n  x: {shape: [2]}\n  y: {shape: [1], context: true}\nnodes:\n"
        "  flow: {kind: affine_coupling, in: x}\n" + _PRIOR,
        "inputs:\n  x: {shape: [2]}\n  y: {shape: [1], context: true}\nnodes:\n"
        "  flow: {kind: affine_coupling, in: x, context: y}\n" + _PRIOR,
    ),
    "E204": Explanation(
        "Data inputs are modelled (they get a likelihood); context inputs are given. A "
        "data input cannot condition a node, and a context input cannot be transformed.",
        "inputs:\n  x: {shape: [2]}\n  y: {shape: [1]}\nnodes:\n"
        "  flow: {kind: affine_coupling, in: x, context: y}",
        "inputs:\n  x: {shape: [2]}\n  y: {shape: [1], context: true}\nnodes:\n"
        "  flow: {kind: affine_coupling, in: x, context: y}",
    ),
    "E205": Explanation(
        "A flow cannot copy a value: two nodes transforming the same value double-count "
        "it, and the model is not invertible. Split it, or condition on it (context may "
        "be shared).",
        "  a: {kind: standard_normal, in: flow}\n  b: {kind: diagonal_normal, in: flow}",
        "  halves: {kind: split, in: flow, sizes: [1, 1]}\n"
        "  a: {kind: standard_normal, in: halves.out0}\n"
        "  b: {kind: diagonal_normal, in: halves.out1}",
    ),
    "E206": Explanation(
        "log_prob is the base density of the latents plus every node's term: a graph "
        "needs at least one distribution node at the end.",
        "nodes:\n  flow: {kind: affine_coupling, in: x}",
        "nodes:\n  flow: {kind: affine_coupling, in: x}\n" + _PRIOR,
    ),
    "E207": Explanation(
        "A flow is a directed acyclic graph: data cannot flow back into a node it came "
        "from.",
        "  a: {kind: actnorm, in: b}\n  b: {kind: reverse, in: a}",
        "  a: {kind: actnorm, in: x}\n  b: {kind: reverse, in: a}",
    ),
    "E208": Explanation(
        "Generation runs the graph backwards; a node conditioned on a value that is only "
        "known after the node itself is inverted can never be sampled.",
        "  c1: {kind: affine_coupling, in: x}\n"
        "  c2: {kind: affine_coupling, in: c1, context: x}",
        "  halves: {kind: split, in: x, sizes: [1, 1]}\n"
        "  c2: {kind: affine_coupling, in: halves.out1, context: halves.out0}",
    ),
    "E209": Explanation(
        "A node conditioned on the very value it takes in is not the layer its log-det "
        "describes: the output depends on the input through the context too, so the "
        "log-det is wrong and the layer cannot be inverted (generation would need the "
        "input to compute the input). Condition on another value.",
        "  p1: {kind: conditional_normal, in: halves.out1, context: halves.out1}",
        "  p1: {kind: conditional_normal, in: halves.out1, context: halves.out0}",
    ),
    "E210": Explanation(
        "A block use 'body' expands to nodes body_<repetition>_<position>; one of those "
        "ids is already an input or a node.",
        "  body_0_0: {kind: actnorm, in: x}\n  body: {block: step, in: body_0_0}",
        "  norm: {kind: actnorm, in: x}\n  body: {block: step, in: norm}",
    ),
    "E211": Explanation(
        "Outside blocks, every node says where its input comes from with 'in'.",
        "  flow: {kind: actnorm}",
        "  flow: {kind: actnorm, in: x}",
    ),
    "E212": Explanation(
        "Each kind takes a fixed number of inputs (concat two or more, most kinds one); "
        "a block use takes exactly one.",
        "  flow: {kind: actnorm, in: [x, y]}",
        "  joined: {kind: concat, in: [x, y]}\n  flow: {kind: actnorm, in: joined}",
    ),
    "E213": Explanation(
        "The context would be ignored: the kind takes none, or no node of the block "
        "accepts one. The flow would not be conditional although the spec says so.",
        "  flow: {kind: actnorm, in: x, context: y}",
        "  flow: {kind: affine_coupling, in: x, context: y}",
    ),
    "E214": Explanation(
        "A graph may have at most 10,000 nodes (block uses count repeat x chain length).",
        "  body: {block: step, in: x, repeat: 100000}",
        "  body: {block: step, in: x, repeat: 16}",
    ),
    "E401": Explanation(
        "The kind works on flat vectors [D] (an MLP conditioner, a flat encoder); image "
        "shaped inputs must be flattened first.",
        "inputs:\n  x: {shape: [1, 8, 8]}\nnodes:\n  flow: {kind: affine_coupling, in: x}",
        "inputs:\n  x: {shape: [1, 8, 8]}\nnodes:\n  flat: {kind: flatten, in: x}\n"
        "  flow: {kind: affine_coupling, in: flat}",
    ),
    "E402": Explanation(
        "A coupling keeps some features and transforms the others given them: it needs at "
        "least two features.",
        "inputs:\n  x: {shape: [1]}\nnodes:\n  flow: {kind: affine_coupling, in: x}",
        "inputs:\n  x: {shape: [1]}\nnodes:\n  flow: {kind: elementwise, fn: scale_shift, "
        "learnable: true, in: x}",
    ),
    "E403": Explanation(
        "An explicit mask has one 0/1 per feature of the input.",
        "inputs:\n  x: {shape: [4]}\nnodes:\n  flow: {kind: affine_coupling, in: x, "
        "mask: [1, 0]}",
        "inputs:\n  x: {shape: [4]}\nnodes:\n  flow: {kind: affine_coupling, in: x, "
        "mask: [1, 0, 1, 0]}",
    ),
    "E404": Explanation(
        "A mask of only 1s keeps every feature: the layer would do nothing.",
        "  flow: {kind: affine_coupling, in: x, mask: [1, 1]}",
        "  flow: {kind: affine_coupling, in: x, mask: [1, 0]}",
    ),
    "E405": Explanation(
        "A mask of only 0s transforms every feature with parameters computed from "
        "nothing it leaves unchanged: the layer could not be inverted from its output.",
        "  flow: {kind: affine_coupling, in: x, mask: [0, 0]}",
        "  flow: {kind: affine_coupling, in: x, mask: [0, 1]}",
    ),
    "E406": Explanation(
        "A context feeds an MLP, which takes flat vectors [C]: flatten an image-shaped "
        "context first.",
        "  flow: {kind: affine_coupling, in: x, context: image}",
        "  flat: {kind: flatten, in: image}\n"
        "  flow: {kind: affine_coupling, in: x, context: flat}",
    ),
    "E410": Explanation(
        "A continuous bijection changes densities; applied to discrete values its "
        "log_prob is not a likelihood of the data. Dequantize discrete data first.",
        "inputs:\n  x: {shape: [64], levels: 17}\nnodes:\n"
        "  flow: {kind: affine_coupling, in: x}",
        "inputs:\n  x: {shape: [64], levels: 17}\nnodes:\n"
        "  deq: {kind: uniform_dequantization, in: x}\n"
        "  flow: {kind: affine_coupling, in: deq}",
    ),
    "E411": Explanation(
        "The kind acts on event axis 0 (features of [D], channels of [C, H, W]); a scalar "
        "event [] has none.",
        "inputs:\n  x: {shape: []}",
        "inputs:\n  x: {shape: [1]}",
    ),
    "E420": Explanation(
        "The elementwise fn is not one flowspec knows (`flowspec nodes elementwise`).",
        "  m: {kind: elementwise, fn: sigmod, in: x}",
        "  m: {kind: elementwise, fn: sigmoid, in: x}",
    ),
    "E421": Explanation(
        "An elementwise map is a bijection only when strictly monotone; relu, abs, gelu, "
        "sin and the like map several inputs to one output.",
        "  m: {kind: elementwise, fn: relu, in: x}",
        "  m: {kind: elementwise, fn: leaky_relu, negative_slope: 0.01, in: x}",
    ),
    "E422": Explanation(
        "The fn (or transformer) is defined only on part of the line (logit on (0, 1), log "
        "on (0, inf)) "
        "and the input may lie outside it. Declared bounds are closed: data in [0, 1] may "
        "hold an exact 0, where logit and log are infinite (log_prob = nan). Use alpha, "
        "or declare 'bounds: open' when the ends never occur.",
        "inputs:\n  x: {shape: [2], low: 0, high: 1}\nnodes:\n"
        "  m: {kind: elementwise, fn: logit, in: x}",
        "inputs:\n  x: {shape: [2], low: 0, high: 1}\nnodes:\n"
        "  m: {kind: elementwise, fn: logit, alpha: 0.05, in: x}",
    ),
    "E423": Explanation(
        "scale_shift with scale 0 maps everything to the shift: not invertible. So does a "
        "scale float32 (the model's default dtype) rounds to 0, such as 1e-46, and one it "
        "rounds to infinity (1e39) cannot be inverted either.",
        "  m: {kind: elementwise, fn: scale_shift, scale: 0, in: x}",
        "  m: {kind: elementwise, fn: scale_shift, scale: 0.5, in: x}",
    ),
    "E424": Explanation(
        "leaky_relu with slope 0 is relu (not invertible); a negative slope is not "
        "monotone; a slope float32 rounds to 0 (1e-46) or to infinity (1e39) is as bad.",
        "  m: {kind: elementwise, fn: leaky_relu, negative_slope: 0, in: x}",
        "  m: {kind: elementwise, fn: leaky_relu, negative_slope: 0.01, in: x}",
    ),
    "E425": Explanation(
        "logit squeezes [0, 1] into [alpha, 1 - alpha] first: alpha must be in [0, 0.5).",
        "  m: {kind: elementwise, fn: logit, alpha: 0.5, in: x}",
        "  m: {kind: elementwise, fn: logit, alpha: 0.05, in: x}",
    ),
    "E450": Explanation(
        "A split divides the feature axis into two or more parts.",
        "  halves: {kind: split, in: x, sizes: [4]}",
        "  halves: {kind: split, in: x, sizes: [2, 2]}",
    ),
    "E452": Explanation(
        "The sizes of a split must add up to the size of the feature axis.",
        "inputs:\n  x: {shape: [4]}\nnodes:\n  halves: {kind: split, in: x, sizes: [2, 3]}",
        "inputs:\n  x: {shape: [4]}\nnodes:\n  halves: {kind: split, in: x, sizes: [2, 2]}",
    ),
    "E455": Explanation(
        "A concat joins two or more inputs.",
        "  joined: {kind: concat, in: [a]}",
        "  joined: {kind: concat, in: [a, b]}",
    ),
    "E457": Explanation(
        "Concatenated inputs must have the same rank.",
        "  joined: {kind: concat, in: [flat, image]}",
        "  flat_image: {kind: flatten, in: image}\n"
        "  joined: {kind: concat, in: [flat, flat_image]}",
    ),
    "E458": Explanation(
        "Inputs are joined along the feature axis (axis 0); every other axis must agree.",
        "inputs:\n  a: {shape: [1, 8, 8]}\n  b: {shape: [1, 4, 4]}\nnodes:\n"
        "  joined: {kind: concat, in: [a, b]}",
        "inputs:\n  a: {shape: [1, 8, 8]}\n  b: {shape: [2, 8, 8]}\nnodes:\n"
        "  joined: {kind: concat, in: [a, b]}",
    ),
    "E459": Explanation(
        "No density describes a mix of discrete and continuous values: dequantize the "
        "discrete inputs first.",
        "  joined: {kind: concat, in: [counts, reals]}",
        "  deq: {kind: uniform_dequantization, in: counts}\n"
        "  joined: {kind: concat, in: [deq, reals]}",
    ),
    "E460": Explanation(
        "A reshape keeps every value: the new shape has as many elements as the input.",
        "inputs:\n  x: {shape: [64]}\nnodes:\n  image: {kind: reshape, in: x, shape: [1, 8, 7]}",
        "inputs:\n  x: {shape: [64]}\nnodes:\n  image: {kind: reshape, in: x, shape: [1, 8, 8]}",
    ),
    "E466": Explanation(
        "A slice keeps the first 'keep' features and models the rest: keep must be "
        "smaller than the feature axis, or nothing is dropped.",
        "inputs:\n  x: {shape: [4]}\nnodes:\n  drop: {kind: slice, in: x, keep: 4}",
        "inputs:\n  x: {shape: [4]}\nnodes:\n  drop: {kind: slice, in: x, keep: 2}",
    ),
    "E480": Explanation(
        "Uniform dequantization turns integers 0..K-1 into continuous values: the input "
        "must declare its levels.",
        "inputs:\n  x: {shape: [64]}\nnodes:\n  deq: {kind: uniform_dequantization, in: x}",
        "inputs:\n  x: {shape: [64], levels: 17}\nnodes:\n"
        "  deq: {kind: uniform_dequantization, in: x}",
    ),
    "E501": Explanation(
        "A continuous density of discrete values is no likelihood of them (it can grow "
        "without bound). Dequantize first.",
        "inputs:\n  x: {shape: [2], levels: 4}\nnodes:\n  prior: {kind: standard_normal, in: x}",
        "inputs:\n  x: {shape: [2], levels: 4}\nnodes:\n"
        "  deq: {kind: uniform_dequantization, in: x}\n"
        "  real: {kind: elementwise, fn: logit, in: deq}\n"
        "  prior: {kind: standard_normal, in: real}",
    ),
    "E510": Explanation(
        "conditional_normal is N(mu(c), sigma(c)^2): it needs the port c it is "
        "conditioned on.",
        "  p1: {kind: conditional_normal, in: halves.out1}",
        "  p1: {kind: conditional_normal, in: halves.out1, context: halves.out0}",
    ),
    "W410": Explanation(
        "The permutation leaves the order as it is (a single feature, or a seed whose "
        "shuffle happens to be the identity): the node does nothing.",
        "inputs:\n  x: {shape: [1]}\nnodes:\n  r: {kind: reverse, in: x}",
        "inputs:\n  x: {shape: [2]}\nnodes:\n  r: {kind: reverse, in: x}",
    ),
    "W420": Explanation(
        "The field belongs to another fn (alpha to logit, scale to scale_shift, ...): it "
        "has no effect here.",
        "  m: {kind: elementwise, fn: sigmoid, alpha: 0.05, in: x}",
        "  m: {kind: elementwise, fn: sigmoid, in: x}",
    ),
    "W430": Explanation(
        "The setting only matters together with another one, which is off: actnorm's eps "
        "is added to the batch std of the data-dependent initialisation, so it does "
        "nothing with data_init: false; an elementwise fn's setting (alpha, scale, ...) "
        "does nothing next to transformer: (set it inside the transformer); a conditioner "
        "computes nothing for a transformer without parameters (tanh, logit, ...).",
        "  norm: {kind: actnorm, in: x, data_init: false, eps: 0.001}",
        "  norm: {kind: actnorm, in: x, eps: 0.001}",
    ),
    "W501": Explanation(
        "The values reaching the density do not fill the real line (bounded data, or "
        "bounded values moved by couplings or actnorm), but the density spreads its mass "
        "over the whole line, so log_prob is not normalized over the data's domain. Map "
        "bounded values to the real line first (logit for (0, 1), log for (0, inf)).",
        "inputs:\n  x: {shape: [2], low: 0, high: 1}\nnodes:\n"
        "  flow: {kind: affine_coupling, in: x}\n" + _PRIOR,
        "inputs:\n  x: {shape: [2], low: 0, high: 1}\nnodes:\n"
        "  real: {kind: elementwise, fn: logit, alpha: 0.01, in: x}\n"
        "  flow: {kind: affine_coupling, in: real}\n" + _PRIOR,
    ),
    "E602": Explanation(
        "An explicit `order` gives each feature its position in the autoregressive order, "
        "so it must hold 0 .. D-1 once each; a repeated or missing position would let a "
        "feature depend on itself and break invertibility.",
        "  flow: {kind: autoregressive, in: x, conditioner: {kind: made, order: [0, 0, 1]}}",
        "  flow: {kind: autoregressive, in: x, conditioner: {kind: made, order: [2, 0, 1]}}",
    ),
    "E610": Explanation(
        "An elementwise transformer is a bijection of its domain; values outside it have "
        "no image (a map of the unit interval fed real values). Map the values into the "
        "transformer's domain first, or pick a transformer of the real line.",
        "  flow: {kind: coupling, in: x, transformer: {kind: logit}}",
        "  squash: {kind: elementwise, fn: sigmoid, in: x}\n"
        "  flow: {kind: coupling, in: squash, transformer: {kind: logit}}",
    ),
    "E611": Explanation(
        "An elementwise node applies one map: a fixed fn (its settings on the node), or a "
        "transformer whose parameters it learns per feature. Give one of them.",
        "  m: {kind: elementwise, fn: tanh, transformer: {kind: rq_spline}, in: x}",
        "  m: {kind: elementwise, transformer: {kind: rq_spline}, in: x}",
    ),
    "E900": Explanation(
        "The training settings (a spec's train: section, or a --config file) have a fixed "
        "set of fields: data, optimizer, lr, schedule, warmup, batch_size, steps, epochs, "
        "clip_grad, weight_decay, seed, threads, device, val_every, patience, time_limit. A "
        "misspelt one would otherwise be ignored silently and training would run with the "
        "default.",
        "train:\n  stesp: 3000",
        "train:\n  steps: 3000",
    ),
    "E901": Explanation(
        "A training setting has a value of the wrong type or outside its range: a learning "
        "rate must be a positive number, a batch size at least 1, the optimizer one of "
        "adam, adamw, sgd, the device one of cpu, cuda, mps.",
        "train:\n  lr: -0.001\n  device: gpu",
        "train:\n  lr: 1.0e-3\n  device: cuda",
    ),
    "E902": Explanation(
        "train: holds the training settings as a mapping of fields, not a single value.",
        "train: 3000",
        "train: {steps: 3000}",
    ),
    "E903": Explanation(
        "The length of a run is given once: in optimizer steps or in passes over the "
        "training data (epochs), not both. A later layer of settings (a --config file, "
        "then the command line) replaces an earlier budget, so --epochs overrides steps: "
        "written in the spec.",
        "train: {steps: 3000, epochs: 20}",
        "train: {epochs: 20}",
    ),
    "E800": Explanation(
        "A density of real values (gaussian, flow) gives probability zero to every single "
        "value, so it cannot score discrete data; a pmf can.",
        "inputs:\n  x: {shape: [4], levels: 2}\nnodes:\n"
        "  vae: {kind: vae, in: x, latent: 2, decoder: {kind: gaussian}}",
        "inputs:\n  x: {shape: [4], levels: 2}\nnodes:\n"
        "  vae: {kind: vae, in: x, latent: 2, decoder: {kind: bernoulli}}",
    ),
    "E801": Explanation(
        "A pmf (bernoulli, categorical, discretized_logistic) gives probabilities to "
        "integers; real values have none, and a proposal (encoder, dequantizer) must draw "
        "real values.",
        "  pad: {kind: augment, in: x, extra: 2, encoder: {kind: bernoulli}}",
        "  pad: {kind: augment, in: x, extra: 2, encoder: {kind: gaussian}}",
    ),
    "E802": Explanation(
        "A Bernoulli models two values; values with more levels need a categorical.",
        "inputs:\n  x: {shape: [4], levels: 5}\nnodes:\n"
        "  vae: {kind: vae, in: x, latent: 2, decoder: {kind: bernoulli}}",
        "inputs:\n  x: {shape: [4], levels: 5}\nnodes:\n"
        "  vae: {kind: vae, in: x, latent: 2, decoder: {kind: categorical}}",
    ),
    "E803": Explanation(
        "Integer discrete flows move values to any integer; a categorical has a finite "
        "number of levels. A discretized logistic covers every integer.",
        "  idf: {kind: integer_discrete_flow, in: x}\n  prior: {kind: categorical, in: idf}",
        "  idf: {kind: integer_discrete_flow, in: x}\n"
        "  prior: {kind: discretized_logistic, in: idf}",
    ),
    "E804": Explanation(
        "The layers of a flow density are node specs without wiring, and each must be a "
        "bijection (its log-det is part of the density): no surjections, no inputs.",
        "encoder: {kind: flow, layers: [{kind: slice, keep: 1}]}",
        "encoder: {kind: flow, layers: [{kind: affine_coupling}, {kind: reverse}]}",
    ),
    "E805": Explanation(
        "A flow density's layers map its event to itself; a layer that changes the shape "
        "leaves values the base cannot score.",
        "encoder: {kind: flow, layers: [{kind: reshape, shape: [2, 1]}]}",
        "encoder: {kind: flow, layers: [{kind: affine_coupling}]}",
    ),
    "E806": Explanation(
        "A flow density draws a Gaussian value on the whole real line and inverts its "
        "layers on it. Layers that map the real line onto part of it (exp onto (0, inf), "
        "sigmoid or tanh onto an interval) have no inverse for draws outside that part: "
        "samples and log-densities come out NaN, and the density is not normalized. End "
        "the layers on the whole line (a logit after a sigmoid) or leave the map out.",
        "encoder: {kind: flow, layers: [{kind: affine_coupling}, {kind: elementwise, fn: exp}]}",
        "encoder: {kind: flow, layers: [{kind: elementwise, fn: sigmoid}, "
        "{kind: elementwise, fn: logit}]}",
    ),
    "W800": Explanation(
        "A density of the whole real line fed values confined to an interval puts mass "
        "where no value can be, so its log-likelihood is lower than it could be.",
        "inputs:\n  x: {shape: [3], low: 0, high: 1}\nnodes:\n  drop: {kind: slice, keep: 1, in: x}",
        "inputs:\n  x: {shape: [3], low: 0, high: 1}\nnodes:\n"
        "  real: {kind: elementwise, fn: logit, alpha: 0.01, in: x}\n"
        "  drop: {kind: slice, keep: 1, in: real}",
    ),
    "E810": Explanation(
        "Max-pooling keeps the maximum of each size x size window of an image [C, H, W], "
        "so H and W must divide by the size.",
        "inputs:\n  x: {shape: [1, 3, 4]}\nnodes:\n  pool: {kind: max_pool, in: x}",
        "inputs:\n  x: {shape: [1, 4, 4]}\nnodes:\n  pool: {kind: max_pool, in: x}",
    ),
    "E811": Explanation(
        "Sorting models the order of a set's elements: it needs a set of at least two "
        "elements, [N] or N points [N, d].",
        "inputs:\n  x: {shape: [2, 2, 2]}\nnodes:\n  order: {kind: sort, in: x}",
        "inputs:\n  x: {shape: [4, 2]}\nnodes:\n  order: {kind: sort, in: x}",
    ),
    "E812": Explanation(
        "Points [N, d] are sorted by one of their d coordinates.",
        "inputs:\n  x: {shape: [4, 2]}\nnodes:\n  order: {kind: sort, in: x, by: 2}",
        "inputs:\n  x: {shape: [4, 2]}\nnodes:\n  order: {kind: sort, in: x, by: 1}",
    ),
    "E814": Explanation(
        "Rounding and variational dequantization fill the cells of integers 0..K-1; the "
        "input must declare its levels.",
        "inputs:\n  x: {shape: [64]}\nnodes:\n  dq: {kind: variational_dequantization, in: x}",
        "inputs:\n  x: {shape: [64], levels: 17}\nnodes:\n"
        "  dq: {kind: variational_dequantization, in: x}",
    ),
    "E815": Explanation(
        "The argmax surjection turns each of D categorical values into K scores: it needs "
        "a flat input [D] with K levels.",
        "inputs:\n  x: {shape: [8]}\nnodes:\n  lift: {kind: argmax, in: x}",
        "inputs:\n  x: {shape: [8], levels: 4}\nnodes:\n  lift: {kind: argmax, in: x}",
    ),
    "E816": Explanation(
        "A discrete coupling keeps the first half of a flat input and transforms the "
        "second, so it needs at least two features.",
        "inputs:\n  x: {shape: [1], levels: 4}\nnodes:\n  f: {kind: discrete_flow, in: x}",
        "inputs:\n  x: {shape: [2], levels: 4}\nnodes:\n  f: {kind: discrete_flow, in: x}",
    ),
    "E817": Explanation(
        "Discrete flows are bijections of integers (discrete_flow of 0..K-1, so it needs "
        "levels); real values need a continuous flow.",
        "inputs:\n  x: {shape: [4]}\nnodes:\n  f: {kind: integer_discrete_flow, in: x}",
        "inputs:\n  x: {shape: [4], levels: 17}\nnodes:\n  f: {kind: integer_discrete_flow, in: x}",
    ),
    "E650": Explanation(
        "Squeeze, unsqueeze, invconv1x1 and the image masks of couplings (channel, "
        "checkerboard) act on images [C, H, W]: channels at every pixel. A flat or other "
        "input has no such axes; reshape it first.",
        "  x: {shape: [64]}\n  coarse: {kind: squeeze, in: x}",
        "  image: {kind: reshape, in: x, shape: [1, 8, 8]}\n  coarse: {kind: squeeze, in: image}",
    ),
    "E651": Explanation(
        "Squeeze moves every f x f block of pixels into channels, so H and W must be "
        "multiples of the factor f; otherwise pixels would be left over.",
        "  x: {shape: [1, 7, 8]}\n  coarse: {kind: squeeze, in: x}",
        "  x: {shape: [1, 8, 8]}\n  coarse: {kind: squeeze, in: x}",
    ),
    "E652": Explanation(
        "Unsqueeze turns every f^2 channels into an f x f block of pixels, so the channels "
        "must be a multiple of f^2.",
        "  x: {shape: [2, 4, 4]}\n  fine: {kind: unsqueeze, in: x}",
        "  x: {shape: [4, 4, 4]}\n  fine: {kind: unsqueeze, in: x}",
    ),
    "E653": Explanation(
        "A channel mask keeps half the channels and transforms the rest; a single channel "
        "cannot be split. Squeeze first (4 channels) or use a checkerboard mask.",
        "  x: {shape: [1, 8, 8]}\n  flow: {kind: coupling, in: x, mask: channel}",
        "  coarse: {kind: squeeze, in: x}\n  flow: {kind: coupling, in: coarse, mask: channel}",
    ),
    "E654": Explanation(
        "A checkerboard mask keeps every other pixel; an image of one pixel has nothing "
        "left to transform.",
        "  x: {shape: [4, 1, 1]}\n  flow: {kind: coupling, in: x, mask: checkerboard}",
        "  x: {shape: [4, 1, 1]}\n  flow: {kind: coupling, in: x, mask: channel}",
    ),
    "E655": Explanation(
        "Convolutional conditioners (resnet, conv) map kept channels to parameters at the "
        "same pixels: they need an image input split by an image mask, not a flat one.",
        "  flow: {kind: coupling, in: flat, conditioner: {kind: resnet}}",
        "  flow: {kind: coupling, in: image, mask: channel, conditioner: {kind: resnet}}",
    ),
    "E656": Explanation(
        "A convolutional conditioner stacks its context as extra channels: a flat context "
        "[K] is broadcast to every pixel, an image context must have the input's H and W.",
        "  c: {shape: [2, 3, 3], context: true}    # the input is [4, 8, 8]",
        "  c: {shape: [2, 8, 8], context: true}    # or a flat [K]",
    ),
    "E657": Explanation(
        "Convolutions keep H and W with 'same' padding of kernel // 2 on each side, which "
        "is only exact for odd kernels.",
        "  conditioner: {kind: resnet, kernel: 4}",
        "  conditioner: {kind: resnet, kernel: 3}",
    ),
    "E658": Explanation(
        "A block may use other blocks (a scale of Glow is a squeeze and a block of steps), "
        "but a block that uses itself, directly or through others, would expand forever. "
        "The message names the cycle; repeat a block with 'repeat'.",
        "blocks:\n  step:\n    - {kind: actnorm}\n    - {block: step}",
        "blocks:\n  step:\n    - {kind: actnorm}\nnodes:\n  body: {block: step, repeat: 4, in: x}",
    ),
    "E700": Explanation(
        "A rational-quadratic spline divides [-B, B] into `bins` bins, each at least "
        "`min_bin_width` of it wide; if bins * min_bin_width reaches 1 the bins cannot fit.",
        "  transformer: {kind: rq_spline, bins: 20, min_bin_width: 0.05}",
        "  transformer: {kind: rq_spline, bins: 20, min_bin_width: 0.001}",
    ),
    "E701": Explanation(
        "As E700 for the heights: each bin rises by at least `min_bin_height` of the range, "
        "so bins * min_bin_height must stay below 1.",
        "  transformer: {kind: rq_spline, bins: 20, min_bin_height: 0.05}",
        "  transformer: {kind: rq_spline, bins: 20, min_bin_height: 0.001}",
    ),
    "E710": Explanation(
        "PixelCNN's masks cut each kernel at its centre tap; an even kernel has no centre, so "
        "the autoregressive order could not be kept.",
        "  conditioner: {kind: masked_conv, kernel: 4}",
        "  conditioner: {kind: masked_conv, kernel: 5}",
    ),
    "E711": Explanation(
        "Masked convolutions order the pixels of an image [C, H, W] in raster order; flat "
        "inputs want a made conditioner, sequences a wavenet.",
        "inputs:\n  x: {shape: [64]}\nnodes:\n"
        "  flow: {kind: autoregressive, in: x, conditioner: {kind: masked_conv}}",
        "inputs:\n  x: {shape: [1, 8, 8]}\nnodes:\n"
        "  flow: {kind: autoregressive, in: x, conditioner: {kind: masked_conv}}",
    ),
    "E712": Explanation(
        "Multi-head attention splits the model width `dim` evenly over the heads.",
        "  conditioner: {kind: causal_transformer, dim: 30, heads: 4}",
        "  conditioner: {kind: causal_transformer, dim: 32, heads: 4}",
    ),
    "E713": Explanation(
        "WaveNet's dilated causal convolutions run along a sequence: [L] or [C, L].",
        "inputs:\n  x: {shape: [1, 8, 8]}\nnodes:\n"
        "  flow: {kind: autoregressive, in: x, conditioner: {kind: wavenet}}",
        "inputs:\n  x: {shape: [2, 16]}\nnodes:\n"
        "  flow: {kind: autoregressive, in: x, conditioner: {kind: wavenet}}",
    ),
    "E750": Explanation(
        "A residual block x + g(x) is invertible (and its log-det series converges) only "
        "when g is a contraction: its Lipschitz constant must be below 1 (Behrmann et al. "
        "2019). Spectral normalisation enforces the coefficient you give.",
        "  block: {kind: residual, in: x, lipschitz: 1.0}",
        "  block: {kind: residual, in: x, lipschitz: 0.9}",
    ),
    "E751": Explanation(
        "Planar, radial, Sylvester, residual and CNF layers act on flat vectors [D]; "
        "flatten images first.",
        "inputs:\n  x: {shape: [1, 4, 4]}\nnodes:\n  flow: {kind: planar, in: x}",
        "inputs:\n  x: {shape: [1, 4, 4]}\nnodes:\n  flat: {kind: flatten, in: x}\n"
        "  flow: {kind: planar, in: flat}",
    ),
    "E753": Explanation(
        "Spectral normalisation bounds the Lipschitz constant of each linear map; the "
        "activations between them must be 1-Lipschitz too (elu, tanh, leaky_relu), or the "
        "block's bound does not hold.",
        "  block: {kind: residual, in: x, net: {kind: mlp, activation: gelu}}",
        "  block: {kind: residual, in: x, net: {kind: mlp, activation: elu}}",
    ),
    "E754": Explanation(
        "A fixed-step ODE method (euler, midpoint, rk4) needs the step size; adaptive "
        "methods (dopri5) take tolerances instead.",
        "  flow: {kind: cnf, in: x, solver: {method: rk4}}",
        "  flow: {kind: cnf, in: x, solver: {method: rk4, step_size: 0.25}}",
    ),
    "E758": Explanation(
        "A fixed-step ODE method takes time / step_size steps per pass and keeps every "
        "step's state for the backward pass; 1e12 steps ask for terabytes. At most 10000.",
        "  flow: {kind: cnf, in: x, solver: {method: rk4, step_size: 1.0e-12}}",
        "  flow: {kind: cnf, in: x, solver: {method: rk4, step_size: 0.25}}",
    ),
    "E759": Explanation(
        "An adaptive ODE solver shrinks its step until the error estimate is below rtol "
        "and atol; below 1e-10 float32 cannot get there, so it hangs or stops with "
        "'underflow in dt'.",
        "  flow: {kind: cnf, in: x, solver: {rtol: 1.0e-300}}",
        "  flow: {kind: cnf, in: x, solver: {rtol: 1.0e-5, atol: 1.0e-5}}",
    ),
    "E756": Explanation(
        "An orthogonal Sylvester flow uses M orthonormal columns in D dimensions, so M "
        "cannot exceed D.",
        "inputs:\n  x: {shape: [2]}\nnodes:\n  flow: {kind: sylvester, in: x, columns: 4}",
        "inputs:\n  x: {shape: [2]}\nnodes:\n  flow: {kind: sylvester, in: x, columns: 2}",
    ),
    "W752": Explanation(
        "Planar and Sylvester flows are closed-form from latent to data only (as VAE "
        "posteriors use them). The model samples, and scores its own samples, but the "
        "log_prob of given data needs the inverse by root finding, which a planar node "
        "takes on request; without it log_prob raises UnavailableError.",
        "  flow: {kind: planar, in: x}",
        "  flow: {kind: planar, in: x, inverse: {method: bisection, tol: 1.0e-6, max_iter: 60}}",
    ),
    "W755": Explanation(
        "An exact log-determinant or trace takes one backward pass per feature: right for "
        "small D (evaluation, tests), slow for large D, where an estimator is cheaper.",
        "  block: {kind: residual, in: x, logdet: exact}      # x has 784 features",
        "  block: {kind: residual, in: x, logdet: roulette}",
    ),
    "W757": Explanation(
        "Adaptive ODE solvers take many small steps where the dynamics are not smooth; "
        "FFJORD uses smooth activations (tanh, softplus, elu).",
        "  flow: {kind: cnf, in: x, net: {kind: mlp, activation: relu}}",
        "  flow: {kind: cnf, in: x, net: {kind: mlp, activation: tanh}}",
    ),
}


def explain_text(code: str, meaning: str) -> str:
    """The explanation of ``code`` (whose one-line ``meaning`` comes from CODES) as text."""
    entry = EXPLANATIONS[code]
    indent = "    "
    return "\n".join(
        [
            f"{code}: {meaning}",
            "",
            textwrap.fill(entry.text, width=88),
            "",
            "Wrong:",
            *(indent + line for line in entry.wrong.splitlines()),
            "",
            "Right:",
            *(indent + line for line in entry.right.splitlines()),
        ]
    )
