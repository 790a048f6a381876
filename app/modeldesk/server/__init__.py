"""Model serving: a Flask app factory (``app.create_app``) that registers the
routes blueprint (``routes.bp``) over the app's state (``state``), run by
waitress (``runner``).

Imports nothing heavy here; ``from modeldesk.server.app import create_app``
and ``from modeldesk.server.runner import ServerHandle, serve``.
"""
