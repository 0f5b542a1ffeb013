"""Reading bundles: from the file a customer sent to members of clean text, never extracted.

Owns the archive containers (tar in any compression, zip, unpacked folders), the caps that bound
what is read, text hygiene (NUL runs, invalid UTF-8, over-long lines, binary files), rotation
sets and the lines two copies share, streamed reading of members too large to hold, and bundles
nested in a bundle. Yields `Bundle` and `Member` (analyzer.reading.bundle).

Imports: plumbing.
"""
