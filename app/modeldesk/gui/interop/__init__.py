"""Moving data in and out: the Import from MLflow dialog."""
