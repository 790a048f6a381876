"""Serving: the served model, request payloads and their validation, batch scoring, the prediction log."""
