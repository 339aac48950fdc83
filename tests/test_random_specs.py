"""Random valid specs over every node kind and part, each checked by the oracles its family
admits (tests/random_specs.py builds them, tests/spec_oracles.py checks them): grid or
importance-sampled mass against the likelihood class, round trips, log-dets against
autograd, own-sample densities, enumerated pmfs, unbiased estimates against the exact
log-det, and bounds against quadrature.

The suite runs the few seeds below, which between them use every node kind, transformer,
conditioner and density and every family; ``python fuzz/random_valid.py N SEED`` checks
many more by hand."""

from __future__ import annotations

import pytest
from random_specs import everything, parts_used, random_spec
from spec_oracles import check

import flowspec

#: covering_seeds(range(3000)) without seed 1370, and 21, 51, 61, 71, 81, 91, 101 for the image
#: conditioners masked_conv, zero_conv, residual_mlp, patch_transformer, realnvp_resnet
#: (with batch_norm), gated_attention and densenet: recompute when the generator or the
#: registry changes (the coverage test below says what is missing). Seed 1370 (abs, then log,
#: then a slice) puts a peak that the 400-point grid misses: mass 0.975 at n = 400, 1.005 at
#: n = 800 and 1.002 at n = 1200 (reach 12), so the oracle's grid, not the model, is wrong.
SEEDS = [
    1,
    2,
    3,
    5,
    9,
    13,
    14,
    17,
    21,
    25,
    47,
    51,
    61,
    71,
    81,
    91,
    101,
    181,
    350,
    518,
    955,
    1471,
    2546,
    2970,
]


def test_the_seeds_cover_every_kind_part_and_family_with_valid_specs() -> None:
    covered: set[tuple[str, str]] = set()
    for seed in SEEDS:
        spec = random_spec(seed)
        flowspec.check(spec.text)  # valid: raises SpecError otherwise
        covered |= parts_used(spec.doc) | {("family", spec.family)}
    missing = everything() - covered
    assert not missing, f"{sorted(missing)}; covering_seeds(range(3000)) gives new seeds"


@pytest.mark.parametrize("seed", SEEDS)
def test_a_random_spec_agrees_with_its_oracles(seed: int) -> None:
    spec = random_spec(seed)
    assert check(spec) == [], spec.text
