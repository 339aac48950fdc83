"""The bundled specs and the data set each one is trained on."""

from pathlib import Path

SPECS = Path(__file__).parent.parent / "specs"
DATA = {
    "realnvp_moons": "moons",
    "nice_moons": "moons",
    "vflow_moons": "moons",
    "slice_multiscale": "s_curve",
    "digits_dequant": "digits",
    "ports_checkerboard": "checkerboard",
    "maf_moons": "moons",
    "iaf_moons": "moons",
    "nsf_moons": "moons",
}
