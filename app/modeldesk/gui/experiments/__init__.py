"""The Experiments view: experiment list, filter bar, and the lazily paged runs table."""
