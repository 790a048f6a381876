"""The model registry: versions, aliases, settings, gates, approvals, model URIs, and summaries for screens."""
