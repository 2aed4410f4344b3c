"""Benchmarks against the alternatives, side by side in one run: `python -m bench`.

Not part of `make test`'s pass/fail: timings are measured and reported here, never
asserted. See bench/results.md for the last full run.
"""
