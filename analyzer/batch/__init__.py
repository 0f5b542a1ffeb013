"""Many bundles: triage of a folder, clusters and their clock skew, diff of two sides.

Owns the per-bundle job and its `Outcome`, the executors (worker processes, Dask), the
triage index, the recognition of clusters and their cross-node report, clock-skew estimation,
the comparison of two analyses, and the batch progress display.

Imports: plumbing, reading, parsing, detection, collectors, pipeline, outputs.
"""
