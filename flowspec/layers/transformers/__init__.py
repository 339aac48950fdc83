"""The torch side of elementwise transformers (specs in :mod:`flowspec.transformers`)."""
