"""The Serving view: model servers started from the app, their live figures, and batch scoring."""
