"""The models, each kind behind one small interface: embeddings/ and llm/."""
