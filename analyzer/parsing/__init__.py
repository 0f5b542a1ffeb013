"""Parsing: one member's text into a table of events (the schema in parsers/README.md).

Owns the formats (`parsers/*.yaml`), line matching, multi-line record assembly, chunking of
large members, the timestamp quirks and time zones, entity extraction, the journal header,
and the copies rsyslog and journald make of one message. Hands `ParsedMember` (events as a
Polars frame) to whoever drives it.

Imports: plumbing, reading.
"""
