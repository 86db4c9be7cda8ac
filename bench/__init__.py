"""Benchmarks (not tests): `make bench`, or `python -m bench.console_at_scale`."""
