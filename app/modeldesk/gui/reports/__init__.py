"""Audit reports rendered: HTML (Jinja2) and PDF (Qt), and the Models view's Report action."""
