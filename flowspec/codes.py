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
    "E700": "rq_spline: bins * min_bin_width must be below 1 (the bins do not fit in [-B, B])",
    "E701": "rq_spline: bins * min_bin_height must be below 1 (the bins do not fit in [-B, B])",
    "E710": "masked_conv: the kernel size must be odd (the centre tap is what the masks split)",
    "E711": "masked_conv: the input must be an image [C, H, W]",
    "E712": "causal_transformer: dim must be a multiple of heads",
    "E713": "wavenet: the input must be a sequence [C, L] or [L]",
    # --- determinant identities, residual and continuous-time flows (E750-E799) ----------
    # --- SurVAE: surjective, stochastic and discrete nodes (E800-E899) -------------------
    # --- training settings (E900-E949) ---------------------------------------------------
    # --- optimization passes (E950-E999) -------------------------------------------------
}
