"""Projection logic (pure) and the PyFlink dataflow that runs it."""
