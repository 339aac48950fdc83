"""What the benchmarks share: lockstep training, interleaved timing, memory and instruction probes, tables."""
