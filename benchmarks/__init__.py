"""Benchmarks: scripts run with `python -m benchmarks.<name>`, never collected as tests."""
