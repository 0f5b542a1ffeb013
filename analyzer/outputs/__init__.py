"""Outputs: the documents an analysis leaves for people and tools.

Owns report.html (Jinja2, report_templates/), findings.json and its JSON Schema, summary.md,
findings.csv, redaction, the rendering of standalone pages, and writing a set of documents
all whole or none.

Imports: plumbing, reading, parsing, detection, collectors, pipeline.
"""
