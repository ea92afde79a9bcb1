"""Evaluation: BEIR retrieval metrics and clustering scores."""
