"""Finding the passages: hybrid dense + BM25 search, fused."""
