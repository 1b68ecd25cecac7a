"""Stand-ins for the models in fast tests of the plumbing (every capability also has
a test with the real models)."""
