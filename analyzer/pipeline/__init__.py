"""The pipeline: drives one bundle (or each node of a bundle of bundles) through the stages.

Owns the member loop and its lanes, the per-minute counts, the `Analysis` every output reads,
the registry of collectors every analysis runs, the event table `parse` writes, the inventory
document, and the running of rule examples (`rules test`), which is a small analysis.

Imports: plumbing, reading, parsing, detection, collectors.
"""
