"""ovs-analyzer: offline analysis of Open vStorage support bundles.

Data flows bundle -> members (analyzer.bundle) -> events (analyzer.parse, parsers/)
-> findings (analyzer.rules, rules/) -> outputs (analyzer.report, report_templates/).
"""

__version__ = "0.1.0"
