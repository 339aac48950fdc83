"""Small specs the training tests share: unconditional and conditional moons, and digits."""

MOONS = """\
flowspec: "1"
name: moons-test
inputs:
  x: {shape: [2]}
blocks:
  step:
    - {kind: affine_coupling, net: {kind: mlp, hidden: [32, 32]}}
    - {kind: reverse}
nodes:
  scale: {kind: elementwise, fn: scale_shift, learnable: true, in: x}
  body: {block: step, repeat: 4, in: scale}
  prior: {kind: standard_normal, in: body}
"""

TINY_MOONS = """\
flowspec: "1"
name: tiny-moons
inputs:
  x: {shape: [2]}
blocks:
  step:
    - {kind: affine_coupling, net: {hidden: [16]}}
    - {kind: reverse}
nodes:
  body: {block: step, repeat: 2, in: x}
  prior: {kind: standard_normal, in: body}
"""

CONDITIONAL = """\
flowspec: "1"
name: cond-moons
inputs:
  x: {shape: [2]}
  label: {shape: [1], context: true}
nodes:
  a: {kind: affine_coupling, in: x, context: label, net: {hidden: [32]}}
  r: {kind: reverse, in: a}
  b: {kind: affine_coupling, in: r, context: label, net: {hidden: [32]}}
  prior: {kind: conditional_normal, in: b, context: label}
"""

DIGITS = """\
flowspec: "1"
name: tiny-digits
inputs:
  x: {shape: [64], levels: 17}
nodes:
  deq: {kind: uniform_dequantization, in: x}
  logit: {kind: elementwise, fn: logit, alpha: 0.05, in: deq}
  flow: {kind: affine_coupling, in: logit, net: {hidden: [16]}}
  prior: {kind: standard_normal, in: flow}
"""
