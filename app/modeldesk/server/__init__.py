"""Model serving: a Flask app factory (``app.create_app``) run by waitress (``runner``).

Imports nothing heavy here; ``from modeldesk.server.app import create_app``
and ``from modeldesk.server.runner import ServerHandle, serve``.
"""
