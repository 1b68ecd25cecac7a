"""Local, offline retrieval-augmented Q&A over your own documents."""

import os

# torch and llama.cpp each run an OpenMP pool in this process; with the default (active)
# wait policy the idle pool spins and starves the other on 2 cores (MODELS.md saw
# generation swing from 32 down to 0.75 tokens/s). It must be set before either loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
