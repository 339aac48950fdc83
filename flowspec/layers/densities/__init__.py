"""Torch modules of the conditional densities (specs in ``flowspec.densities``)."""
