"""ovs-analyzer: offline analysis of Open vStorage support bundles.

Data flows bundle -> members (analyzer.bundle) -> events (analyzer.parse, parsers/)
-> findings (analyzer.rules, rules/) -> outputs (analyzer.report, report_templates/).
"""

import os

__version__ = "0.1.0"

# Polars' allocator (jemalloc) keeps freed pages for 10 s by default; the analysis frees a chunk's
# hundreds of MiB every second, so without this the process holds the sum of recent chunks, not one.
# 1 GiB bench, mean of 3: decay 1000 ms peaks at 834 MiB, 250 ms at 668 MiB in the same time; 0 ms
# costs 50 % more time (every page faulted in again).
# One arena: the parser, the analysis lane and the read-ahead thread would each keep their own
# freed pages (1 GiB bench: peak -50 MiB, system time -0.5 s, wall unchanged or better).
# Read when Polars loads, which is after this package's import; a setting of the caller's wins.
os.environ.setdefault("_RJEM_MALLOC_CONF", "dirty_decay_ms:250,muzzy_decay_ms:0,narenas:1")
