"""From a checked graph to PyTorch: generated source and the module it defines."""
