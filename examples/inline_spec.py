"""Write a spec inline, check it, read the diagnostics of a broken one.

python examples/inline_spec.py
"""

from __future__ import annotations

import torch

import flowspec

GOOD = """
flowspec: "1"
name: tiny
inputs:
  x: {shape: [4]}
nodes:
  a: {kind: affine_coupling, in: x}
  b: {kind: shuffle, in: a}
  c: {kind: affine_coupling, in: b}
  prior: {kind: standard_normal, in: c}
"""

BROKEN = """
flowspec: "1"
name: broken
inputs:
  x: {shape: [4]}
nodes:
  a: {kind: afine_coupling, in: x}
  b: {kind: elementwise, fn: relu, in: x}
  prior: {kind: standard_normal, in: c}
"""


def main() -> None:
    model = flowspec.compile(GOOD)
    x = torch.randn(8, 4)
    print("log_prob:", model.log_prob(x).shape, "is", model.likelihood)
    try:
        flowspec.check(BROKEN)
    except flowspec.SpecError as error:
        print(f"{len(error.diagnostics)} problems found, all at once:")
        print(error.format())


if __name__ == "__main__":
    main()
