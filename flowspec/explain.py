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
        "The fn is defined only on part of the line (logit on (0, 1), log on (0, inf)) "
        "and the input may lie outside it. Declared bounds are closed: data in [0, 1] may "
        "hold an exact 0, where logit and log are infinite (log_prob = nan). Use alpha, "
        "or declare 'bounds: open' when the ends never occur.",
        "inputs:\n  x: {shape: [2], low: 0, high: 1}\nnodes:\n"
        "  m: {kind: elementwise, fn: logit, in: x}",
        "inputs:\n  x: {shape: [2], low: 0, high: 1}\nnodes:\n"
        "  m: {kind: elementwise, fn: logit, alpha: 0.05, in: x}",
    ),
    "E423": Explanation(
        "scale_shift with scale 0 maps everything to the shift: not invertible.",
        "  m: {kind: elementwise, fn: scale_shift, scale: 0, in: x}",
        "  m: {kind: elementwise, fn: scale_shift, scale: 0.5, in: x}",
    ),
    "E424": Explanation(
        "leaky_relu with slope 0 is relu (not invertible); a negative slope is not "
        "monotone.",
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
        "  flow: {kind: coupling, in: x, transformer: {kind: <one of (0, 1)>}}",
        "  squash: {kind: elementwise, fn: sigmoid, in: x}\n"
        "  flow: {kind: coupling, in: squash, transformer: {kind: <one of (0, 1)>}}",
    ),
    "E750": Explanation(
        "A residual block z = x + g(x) is invertible (and its log-det power series "
        "converges) when Lip(g) < 1: then x <- z - g(x) is a contraction (Banach). Each "
        "linear layer of g is spectrally normalised to `lipschitz`, so it must be below 1.",
        "  flow: {kind: residual, in: x, lipschitz: 1.0}",
        "  flow: {kind: residual, in: x, lipschitz: 0.9}",
    ),
    "E751": Explanation(
        "Planar, radial, Sylvester, residual and CNF nodes act on a vector of features "
        "[D] (their parameters are vectors and D x D maps). Flatten an image first.",
        "inputs:\n  x: {shape: [1, 4, 4]}\nnodes:\n  flow: {kind: radial, in: x}",
        "inputs:\n  x: {shape: [1, 4, 4]}\nnodes:\n  flat: {kind: flatten, in: x}\n"
        "  flow: {kind: radial, in: flat}",
    ),
    "W752": Explanation(
        "Planar and Sylvester flows have a closed form in generation (latent -> data), as in "
        "their use for variational posteriors, but none in inference. The model samples and "
        "gives the exact density of its own samples (sample_and_log_prob), but log_prob of "
        "given data raises. A planar node computes inference by root finding when asked.",
        "  flow: {kind: planar, in: x}",
        "  flow: {kind: planar, in: x, inverse: {method: bisection, tol: 1.0e-6, max_iter: 100}}",
    ),
    "E753": Explanation(
        "Spectral normalisation bounds each linear layer's Lipschitz constant; the "
        "activations between them must be 1-Lipschitz too, or Lip(g) is not bounded by "
        "the product (silu and gelu reach about 1.1).",
        "  flow: {kind: residual, in: x, net: {kind: mlp, activation: silu}}",
        "  flow: {kind: residual, in: x, net: {kind: mlp, activation: elu}}",
    ),
    "E754": Explanation(
        "torchdiffeq's fixed-grid methods (euler, midpoint, rk4, adams) take steps of a "
        "given size and have no tolerance to choose one; adaptive methods (dopri5) need none.",
        "  flow: {kind: cnf, in: x, solver: {method: rk4}}",
        "  flow: {kind: cnf, in: x, solver: {method: rk4, step_size: 0.25}}",
    ),
    "W755": Explanation(
        "An exact log-determinant (residual, logdet: exact) or trace (cnf, trace: exact) "
        "takes one backward pass per feature; fine for small D and evaluation, slow for "
        "training on many features, where the unbiased estimators cost one.",
        "  flow: {kind: cnf, in: x, trace: exact}        # x: {shape: [64]}",
        "  flow: {kind: cnf, in: x, trace: hutchinson}   # x: {shape: [64]}",
    ),
    "E756": Explanation(
        "The orthogonal Sylvester flow's Q has M orthonormal columns of D features, which "
        "exist only for M <= D.",
        "  flow: {kind: sylvester, in: x, columns: 4}    # x: {shape: [3]}",
        "  flow: {kind: sylvester, in: x, columns: 2}    # x: {shape: [3]}",
    ),
    "W757": Explanation(
        "Adaptive ODE solvers choose their step from the local smoothness of the dynamics; "
        "at the kinks of relu they shrink the step, so training and sampling slow down.",
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
