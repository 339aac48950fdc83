"""The bundled specs and the data set each one is trained on."""

from pathlib import Path

SPECS = Path(__file__).parent.parent / "specs"
DATA = {
    "realnvp_moons": "moons",
    "nice_moons": "moons",
    "vflow_moons": "moons",
    "slice_multiscale": "s_curve",
    "digits_dequant": "digits",
    "digits_maf": "digits",
    "ports_checkerboard": "checkerboard",
    "vardeq_digits": "digits",
    "maxpool_digits": "digits",
    "abs_eight_gaussians": "eight_gaussians",
    "sort_point_sets": "point_sets",
    "argmax_categorical": "categorical_sequences",
    "vae_flow_digits": "digits_binary",
    "planar_vae_digits": "digits_binary",
    "sylvester_vae_digits": "digits_binary",
    "idf_digits": "digits",
    "discrete_flow_toy": "categorical_sequences",
    "maf_moons": "moons",
    "iaf_moons": "moons",
    "resflow_moons": "moons",
    "ffjord_moons": "moons",
    "glow_digits": "digits_image",
    "nsf_moons": "moons",
    "nsf_digits": "digits",
}

#: Conditional specs (context inputs), with the data set that provides their context; the
#: tests that feed DATA's specs data alone leave them out (tests/test_conditional_flows.py).
CONDITIONAL = {"conditional_moons": "moons"}

#: Specs fitted to an unnormalized target by reverse KL (their train: target), not to data
#: (tests/test_reverse_kl.py).
TARGETS = {"planar_energy": "U1"}

#: Specs whose generation unrolls into thousands of operations when traced (digits_maf's
#: sampling: 5 MAF layers x 64 sequential MADE passes): torch.compile and torch.export take
#: minutes on them, so those tests use the smaller specs of the same kinds (maf_moons).
#: The amortized VAEs trace ten flow layers of per-example parameters (about a minute each
#: to compile and to export on the shared VM); vae_flow_digits stands for flow encoders
#: there, and the amortized examples of the kinds that compile whole (radial) are compiled
#: in tests/declared.py's specs.
UNROLLED = {"digits_maf", "planar_vae_digits", "sylvester_vae_digits"}

#: The largest step by which the compile and export tests move a spec's weights from their
#: initialisation (tests/oracles.py:randomize_), where the default would leave float32: the
#: eight integer couplings of idf_digits compound random translations (at 0.1, samples
#: reach 1e4 and the pmf's scale overflows).
RANDOMIZE_AT_MOST = {"idf_digits": 0.03}
