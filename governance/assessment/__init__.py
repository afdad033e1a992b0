"""Evidence-gathering assessments run against a model and its data."""
