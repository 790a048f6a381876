"""Shared GUI plumbing with no feature knowledge: workers, theme, tables, windows, dialogs, empty states."""
