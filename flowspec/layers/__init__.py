"""Torch modules of flowspec: one file per spec module, imported where models are built."""
