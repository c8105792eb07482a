"""Worked examples of Hindsight domains other than commerce, plugged in by settings alone."""
