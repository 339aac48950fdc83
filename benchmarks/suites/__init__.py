"""The benchmark scripts: each prints one markdown section (see benchmarks/README.md)."""
