"""A spec that uses every SurVAE and discrete node kind and density (issue 8), shared by the
limits (meta-device bookkeeping) and torch.compile tests."""

SURVAE_KINDS = """\
flowspec: "1"
name: survae-kinds
inputs:
  image: {shape: [1, 4, 4], levels: 4}
  points: {shape: [3, 2]}
  tokens: {shape: [3], levels: 4}
  bits: {shape: [6], levels: 2}
  counts: {shape: [4], levels: 5}
  ordinal: {shape: [2], levels: 3}
  labels: {shape: [2], levels: 3}
nodes:
  vd: {kind: variational_dequantization, in: image, dequantizer: {net: {hidden: [8]}}}
  lg: {kind: elementwise, fn: logit, alpha: 0.05, in: vd}
  mp: {kind: max_pool, in: lg, decoder: {kind: gaussian, net: {hidden: [8]}}}
  f1: {kind: flatten, in: mp}
  ab: {kind: abs, in: f1, sign: {kind: bernoulli, net: {hidden: [8]}}}
  lo: {kind: elementwise, fn: log, in: ab}
  p1: {kind: standard_normal, in: lo}
  so: {kind: sort, in: points}
  og: {kind: ordered_to_real, in: so}
  f2: {kind: flatten, in: og}
  p2: {kind: standard_normal, in: f2}
  am: {kind: argmax, in: tokens, encoder: {net: {hidden: [8]}}}
  p3: {kind: standard_normal, in: am}
  va: {kind: vae, in: bits, latent: 2, decoder: {kind: bernoulli, net: {hidden: [8]}}}
  p4: {kind: standard_normal, in: va}
  df: {kind: discrete_flow, in: counts, scale: true, net: {hidden: [8]}}
  id: {kind: integer_discrete_flow, in: df, net: {hidden: [8]}}
  p5: {kind: discretized_logistic, in: id, mixtures: 2}
  rd: {kind: rounding, in: ordinal}
  sg: {kind: elementwise, fn: scale_shift, scale: 0.3333333, in: rd}
  lt: {kind: elementwise, fn: logit, in: sg}
  p6: {kind: standard_normal, in: lt}
  p7: {kind: categorical, in: labels}
"""
