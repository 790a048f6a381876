"""Comparing runs: what differed (table), curves, scatter and parallel coordinates."""
