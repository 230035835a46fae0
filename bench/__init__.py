"""Benchmarks of cost and speed per event, run with `python -m bench` (see bench/README.md)."""
