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
    # --- bijective kinds (E4xx) ----------------------------------------------------------
    # --- distributions and surjections (E5xx) --------------------------------------------
    # --- couplings and autoregressive layers (E600-E649) ---------------------------------
    # --- images: squeeze, masks, convolutions, multi-scale (E650-E699) -------------------
    # --- elementwise transformers, their conditioners (E700-E749) -----------------------
    # --- determinant identities, residual and continuous-time flows (E750-E799) ----------
    # --- SurVAE: surjective, stochastic and discrete nodes (E800-E899) -------------------
    "E800": "a density of real values is asked to model discrete values",
    "E801": "a probability mass function is asked to model continuous values",
    "E802": "a density's number of levels differs from the values' (bernoulli needs 2)",
    "E803": "a categorical density is asked to model unbounded integers",
    "E804": "a flow density's layer is unknown, invalid, wired or not a bijection",
    "E805": "a flow density's layer changes the event shape",
    "W800": "a density of the whole real line is asked to model bounded values",
    "E810": "max_pool needs an image [C, H, W] whose H and W divide by the window size",
    "E811": "sort needs a set [N] or a point set [N, d] with N >= 2",
    "E812": "sort's 'by' names a coordinate the points do not have",
    "E814": "rounding or variational dequantization of values without levels",
    "E815": "argmax needs a flat categorical input [D] with levels",
    "E816": "a discrete coupling needs a flat input [D] with D >= 2",
    "E817": "a discrete coupling of values that are not integers (or lack levels)",
    # --- training settings (E900-E949) ---------------------------------------------------
    # --- optimization passes (E950-E999) -------------------------------------------------
}
