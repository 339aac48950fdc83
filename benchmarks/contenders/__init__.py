"""Each library's version of a benchmarked model, behind one interface."""
