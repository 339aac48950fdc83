"""From typed spec models to a checked graph: block expansion, wiring and compiler passes."""
