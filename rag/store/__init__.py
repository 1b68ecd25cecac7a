"""Where a knowledge base lives: the SQLite catalog, the FAISS and BM25 indexes, the write lock."""
