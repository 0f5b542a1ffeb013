"""Rules and findings: which known failures the events show, with the evidence to trust them.

Owns the rule model, loader and tuning (`rules/**/*.yaml`), the record-level matcher, the
windowed kinds (threshold, sequence, absence), findings with their evidence and context,
rule coverage, version ranges, the mining of unknown errors, and rule scaffolding.
Yields `Finding` (analyzer.detection.findings).

Imports: plumbing, reading, parsing.
"""
