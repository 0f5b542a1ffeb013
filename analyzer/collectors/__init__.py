"""Collectors: what a bundle says beside rule findings (identity, task history, services).

A `Collector` (analyzer.collectors.protocol) sees each member's events once and turns what it
kept into one section of findings.json; one whose table rules refer to (task history) also
gives rule hits. Also owns what a member is for the inventory (its kind and release era) and
the evidence that ties bundles of one cluster together.

Imports: plumbing, reading, parsing, detection.
"""
