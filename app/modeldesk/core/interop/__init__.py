"""Moving data in and out of ModelDesk: MLflow import and export (issue 14)."""
