"""The collectors every analysis runs.

The registry lives with the pipeline, which runs them, not with the protocol they implement:
so the protocol module imports none of its implementations, and a new collector is one import
and one entry here.
"""

from __future__ import annotations

from analyzer.collectors.identity import IdentityCollector
from analyzer.collectors.protocol import Collector
from analyzer.collectors.services import ServiceStates
from analyzer.collectors.tasks import TaskHistory


def default_collectors() -> list[Collector]:
    """The collectors every analysis runs, in the order their sections appear."""
    return [IdentityCollector(), TaskHistory(), ServiceStates()]
