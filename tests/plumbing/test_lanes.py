"""The analysis lane: a chunk's analysis runs beside the next chunk's parsing, never far behind it."""

from __future__ import annotations

import threading

import pytest

from analyzer.collectors.protocol import Collector
from analyzer.detection.loader import default_rule_dirs, load_rules
from analyzer.lanes import Lane
from analyzer.pipeline.analysis import analyze
from tests.conftest import SAMPLE


def test_work_runs_on_another_thread_and_returns_in_order():
    with Lane() as lane:
        futures = [lane.submit(lambda i=i: (i, threading.current_thread().name)) for i in range(5)]
    results = [f.result() for f in futures]
    assert [i for i, _ in results] == list(range(5))
    assert all(name != threading.current_thread().name for _, name in results)


def test_submit_waits_while_a_chunk_is_already_waiting_for_the_lane():
    release = threading.Event()
    returned = threading.Event()
    with Lane() as lane:
        lane.submit(release.wait)

        def second() -> None:
            lane.submit(lambda: None)
            returned.set()

        caller = threading.Thread(target=second)
        caller.start()
        assert not returned.wait(0.2), "a second chunk was queued while the first still ran"
        release.set()
        caller.join(5)
        assert returned.is_set()


def test_with_two_threads_a_long_item_does_not_hold_up_the_short_ones_behind_it():
    release = threading.Event()
    quick: list = []
    with Lane("parse", workers=2) as lane:
        slow = lane.submit(release.wait, 10)

        def feed() -> None:
            quick.extend(lane.submit(lambda i=i: i) for i in range(5))

        feeder = threading.Thread(target=feed)
        feeder.start()
        feeder.join(5)
        held_up = feeder.is_alive()
        release.set()
        feeder.join()
    assert not held_up, "a full queue waited for its oldest item instead of the first to finish"
    assert [f.result() for f in quick] == list(range(5)) and slow.result() is True


def test_an_error_in_the_lane_reaches_the_caller():
    def broken() -> None:
        raise ValueError("collector bug")

    with pytest.raises(ValueError, match="collector bug"), Lane() as lane:
        lane.submit(broken)
        lane.submit(lambda: None)


class _Exploding(Collector):
    name = "exploding"

    def collect(self, batch):
        raise RuntimeError(f"cannot collect {', '.join(batch.sources)}")

    def combine(self, parts, view):
        return {}


def test_an_analysis_that_fails_on_the_lane_fails_analyze():
    with pytest.raises(RuntimeError, match="cannot collect"):
        analyze(SAMPLE, load_rules(default_rule_dirs()), collectors=[_Exploding()])
