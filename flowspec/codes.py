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
    "E750": "residual block with lipschitz >= 1: x + g(x) is then not guaranteed invertible",
    "E751": "planar, radial, Sylvester, residual or CNF node fed an input that is not a flat vector [D]",
    "W752": "planar or Sylvester node without an inference direction: log_prob of data unavailable",
    "E753": "residual block activation that is not 1-Lipschitz (spectral normalisation cannot bound g)",
    "E754": "CNF with a fixed-step ODE method and no step_size",
    "W755": "exact log-determinant or trace on many features (one backward pass per feature)",
    "E756": "Sylvester flow asking for more orthonormal columns than features",
    "W757": "CNF dynamics with a non-smooth activation (adaptive solvers take many steps)",
    # --- SurVAE: surjective, stochastic and discrete nodes (E800-E899) -------------------
    # --- training settings (E900-E949) ---------------------------------------------------
    # --- optimization passes (E950-E999) -------------------------------------------------
}
