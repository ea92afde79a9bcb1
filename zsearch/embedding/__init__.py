"""Embedding models: profiles, weights, token handling, batching, the torch runner, rerankers."""
