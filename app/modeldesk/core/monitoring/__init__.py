"""Monitoring: is the data a model sees now still like the data it learned from?

``drift`` compares two frames column by column and gives the data-set verdict;
``stattests`` holds the per-column statistics on plain arrays, ``samples``
turns a column into those arrays, ``psi`` the population stability index shown
beside every test, and ``overrides`` the per-column and per-type choices of
test and threshold (``options=`` and the project setting ``drift.options``).
"""
