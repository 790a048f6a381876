"""The Monitoring view: drift, performance and serving health of a served model version."""
