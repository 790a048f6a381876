"""The Models view: the model registry, its reviews, approvals and rollback."""
