"""Elementwise transformers: the invertible maps coupling and autoregressive layers apply to
each feature, with parameters computed by a conditioner (one spec file per kind; the torch
side lives in :mod:`flowspec.layers.transformers`)."""
