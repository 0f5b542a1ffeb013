"""ovs-analyzer: offline analysis of Open vStorage support bundles.

A bundle flows down the stages, one subpackage each (ARCHITECTURE.md draws the map):
`reading` (archive -> members) -> `parsing` (members -> event tables) -> `detection`
(events -> rule hits -> findings) -> `collectors` (what a bundle says beside findings) ->
`pipeline` (drives one bundle through all of them) -> `outputs` (report, documents) ->
`batch` (many bundles: triage, clusters, diff) -> `cli` (the commands).
A stage imports only the stages before it and the plumbing modules at this level (errors,
resources, datafiles, timings, lanes, frames, isotime, output_mark), which import nothing
of the stages; tests/test_architecture.py keeps it so.
"""

import os

__version__ = "0.1.0"

# Polars' allocator (jemalloc) keeps freed pages for 10 s by default; the analysis frees a chunk's
# hundreds of MiB every second, so without this the process holds the sum of recent chunks, not one.
# A shorter decay keeps the peak near one chunk at no cost in time; 0 ms would fault every page in
# again. One arena: the parser, the analysis lane and the read-ahead thread would each keep their
# own freed pages. Read when Polars loads, which is after this package's import; a setting of the
# caller's wins.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:250,muzzy_decay_ms:0,narenas:1")
