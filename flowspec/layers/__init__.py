"""The torch modules of node kinds and their parts, one file per spec file (see the
spec modules under ``flowspec/nodes``); the spec layer imports them lazily in ``build``."""
