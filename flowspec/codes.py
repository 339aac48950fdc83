"""Every diagnostic code flowspec reports, with its one-line meaning.

One table, checked by a test: every code the package reports is listed here, and no code
stands for two conditions. ``flowspec explain CODE`` prints the longer explanation.

Ranges: E0xx loading and structure, E1xx fields, E2xx graph, E4xx bijective kinds, E5xx
distributions and surjections, E6xx couplings and autoregressive layers (E600-E649), images
(E650-E699), elementwise transformers and their conditioners (E700-E749), determinant,
residual and continuous-time flows (E750-E799); E8xx SurVAE and discrete nodes; E900-E949
training settings; E950-E999 optimization passes. Warnings take a W and the same ranges.
"""

from __future__ import annotations

__all__ = ["CODES"]

CODES: dict[str, str] = {
    # --- loading, structure, fields, graph (E0xx-E3xx) -----------------------------------
    "E001": "the spec file cannot be read (missing, unreadable, or not UTF-8)",
    "E002": "a YAML tag, or a value its tag does not allow (flowspec specs are plain data)",
    "E003": "the text is not valid YAML",
    "E004": "the spec is empty",
    "E005": "the top level of the spec is not a mapping",
    "E006": "a key appears twice in one mapping",
    "E007": "the spec exceeds a size limit: too many values, too deeply nested, or a "
    "recursive alias",
    "E008": "a mapping key that is not a plain scalar, or a merge key ('<<')",
    "E101": "a node entry is malformed: not a mapping, or with both 'kind' and 'block'",
    "E102": "an unknown field",
    "E103": "a required field or section is missing or empty",
    "E104": "a field has a value of the wrong type or out of range",
    "E105": "a node has no 'kind' (nor 'block')",
    "E106": "an unknown node kind",
    "E107": "a name is not a valid identifier, or is reserved",
    "E108": "one name is used for an input and for a node",
    "E109": "a node inside a block names its input ('in'): it reads the node before it",
    "E110": "a node kind, or a block use, that cannot be part of a block",
    "E111": "a block use names an unknown block",
    "E112": "an input's bounds contradict each other (levels with low/high, or low >= high)",
    "E113": "a node inside a block names its context: the block use gives it",
    "E201": "a reference names nothing that has an output",
    "E202": "a reference names a port that does not exist, or leaves out which one",
    "E203": "an input or an output is never used",
    "E204": "a data input used as context, or a context input used as data",
    "E205": "an output is used as data twice",
    "E206": "the graph has no distribution",
    "E207": "the graph has a cycle",
    "E208": "the model cannot be sampled: in generation, nodes wait on each other's context",
    "E209": "a node is conditioned on its own input",
    "E210": "a block use expands to a node id that is already taken",
    "E211": "a node does not say where its input comes from",
    "E212": "a node or block use gets the wrong number of inputs",
    "E213": "a context is given where no node takes one",
    "E214": "the spec expands to more nodes than a graph may have",
    # --- bijective kinds (E4xx) ----------------------------------------------------------
    "E401": "the kind needs a flat input [D]",
    "E402": "a coupling needs at least 2 features to split",
    "E403": "a mask's length differs from the number of features",
    "E404": "a mask keeps every feature, so nothing is transformed",
    "E405": "a mask transforms every feature, so the layer cannot be inverted",
    "E406": "a context must be flat [C]",
    "E410": "a map of continuous values is fed discrete values",
    "E411": "the kind acts on the feature axis, but the event is a scalar",
    "E420": "an unknown elementwise fn",
    "E421": "an elementwise fn that is not strictly monotone (not invertible)",
    "E422": "the input's values lie outside the elementwise fn's (or transformer's) domain",
    "E423": "scale_shift with scale 0 (or one float32 rounds to 0 or infinity)",
    "E424": "leaky_relu with negative_slope <= 0 (or one float32 rounds to 0 or infinity)",
    "E425": "logit with alpha outside [0, 0.5)",
    "E450": "a split into fewer than 2 parts",
    "E452": "a split's sizes do not add up to the feature axis",
    "E455": "a concat of fewer than 2 inputs",
    "E457": "concat inputs of different ranks",
    "E458": "concat inputs that differ beyond the feature axis",
    "E459": "a concat of discrete and continuous inputs",
    "E460": "a reshape to a different number of elements",
    "E466": "a slice that keeps every feature",
    "E480": "uniform_dequantization of values that are not discrete",
    "W410": "a permutation that leaves the order unchanged",
    "W420": "a field the chosen elementwise fn ignores",
    "W430": "a setting that has no effect given the node's other settings",
    # --- distributions and surjections (E5xx) --------------------------------------------
    "E501": "a continuous density of discrete values",
    "E510": "a conditional_normal without a context",
    "W501": "a density on the whole real line for values that do not fill it",
    # --- couplings and autoregressive layers (E600-E649) ---------------------------------
    "E602": "an explicit autoregressive order is not a permutation of the features",
    "E610": "the transformer does not accept values in the input's support",
    "E611": "an elementwise node with both fn and transformer",
    # --- images: squeeze, masks, convolutions, multi-scale (E650-E699) -------------------
    "E650": "the kind or mask needs an image-shaped input [C, H, W]",
    "E651": "squeeze needs H and W divisible by its factor",
    "E652": "unsqueeze needs the channels divisible by the factor squared",
    "E653": "a channel mask needs at least 2 channels",
    "E654": "a checkerboard mask needs at least 2 pixels",
    "E655": "a convolutional conditioner needs image-shaped parts (an image mask)",
    "E656": "a convolutional conditioner's context must be flat or an image of the input's size",
    "E657": "a convolution kernel must be odd",
    "E658": "a block uses itself, directly or through other blocks",
    # --- elementwise transformers, their conditioners (E700-E749) -----------------------
    "E700": "rq_spline: bins * min_bin_width must be below 1 (the bins do not fit in [-B, B])",
    "E701": "rq_spline: bins * min_bin_height must be below 1 (the bins do not fit in [-B, B])",
    "E710": "masked_conv: the kernel size must be odd (the centre tap is what the masks split)",
    "E711": "masked_conv: the input must be an image [C, H, W]",
    "E712": "causal_transformer: dim must be a multiple of heads",
    "E713": "wavenet: the input must be a sequence [C, L] or [L]",
    # --- determinant identities, residual and continuous-time flows (E750-E799) ----------
    "E750": "residual block with lipschitz >= 1: x + g(x) is then not guaranteed invertible",
    "E751": "planar, radial, Sylvester, residual or CNF node fed an input that is not a flat vector [D]",
    "W752": "planar or Sylvester node without an inference direction: log_prob of data unavailable",
    "E753": "residual block activation that is not 1-Lipschitz (spectral normalisation cannot bound g)",
    "E754": "CNF with a fixed-step ODE method and no step_size",
    "W755": "exact log-determinant or trace on many features (one backward pass per feature)",
    "E756": "Sylvester flow asking for more orthonormal columns than features",
    "W757": "CNF dynamics with a non-smooth activation (adaptive solvers take many steps)",
    "E758": "CNF fixed-step solver asked for more steps (time / step_size) than allowed",
    "E759": "CNF solver tolerance (rtol or atol) too small for float32 to meet",
    # --- SurVAE: surjective, stochastic and discrete nodes (E800-E899) -------------------
    "E800": "a density of real values is asked to model discrete values",
    "E801": "a probability mass function is asked to model continuous values",
    "E802": "a density's number of levels differs from the values' (bernoulli needs 2)",
    "E803": "a categorical density is asked to model unbounded integers",
    "E804": "a flow density's layer is unknown, invalid, wired, or not a bijection",
    "E805": "a flow density's layer changes the event shape",
    "E806": "a flow density's layers map the real line onto part of it",
    "W800": "a density of the whole real line is asked to model bounded values",
    "E810": "max_pool needs an image [C, H, W] whose H and W divide by the window size",
    "E811": "sort needs a set [N] or a point set [N, d] with N >= 2",
    "E812": "sort's 'by' names a coordinate the points do not have",
    "E814": "rounding or variational dequantization of values without levels",
    "E815": "argmax needs a flat categorical input [D] with levels",
    "E816": "a discrete coupling needs a flat input [D] with D >= 2",
    "E817": "a discrete coupling of values that are not integers (or lack levels)",
    # --- training settings (E900-E949) ---------------------------------------------------
    "E900": "unknown field in the training settings (a spec's train: section or --config file)",
    "E901": "invalid value for a training setting",
    "E902": "the training settings are not a mapping of fields",
    "E903": "training settings that contradict each other (steps and epochs both given)",
    # --- optimization passes (E950-E999) -------------------------------------------------
}
