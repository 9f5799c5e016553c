"""Benchmarks of the targets in docs/benchmarks.md (not tests): each prints its method, the machine and the figures,
and ``python -m bench`` writes them all to docs/benchmarks.md."""
