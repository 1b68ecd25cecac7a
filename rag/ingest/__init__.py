"""Files in, chunks out: loaders, chunking, the ingest run."""
