"""Torch modules of the conditioner networks (specs: :mod:`flowspec.conditioners`)."""
