"""Local, offline retrieval-augmented Q&A over your own documents."""

import os

# torch and llama.cpp each run an OpenMP pool in this process; with the default (active)
# wait policy the idle pool spins and starves the other on 2 cores (prompt speed fell
# from ~150 to ~40 tokens/s). It must be set before either library loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
