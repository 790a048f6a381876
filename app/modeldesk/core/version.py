"""The version of ModelDesk: one place, read by the package metadata and every face."""

__version__ = "0.1.0"
