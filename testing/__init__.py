"""Test support, imported by the tests, the scripts and the benchmarks; never installed."""
