"""Benchmarks run by hand, never in the test suite: `python -m benchmarks.suite` runs them all."""
