"""Seeded sample bundles for tests and the demo; see make_sample.py and README.md."""
