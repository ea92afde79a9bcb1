"""Search: candidates (dense + full text), the sentence stage, fusion, rerank -> Hits."""
