"""Clock skew from causal pairs (Celery tasks, DTL connections) and from simultaneous events (elections)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from analyzer.batch.skew import estimate
from analyzer.isotime import iso

T0 = datetime(2017, 3, 14, 8, 0, tzinfo=UTC)


def at(seconds: float) -> str:
    return iso(T0 + timedelta(seconds=seconds))  # type: ignore[return-value]


def event(kind: str, key: str, seconds: float) -> dict:
    return {"kind": kind, "key": key, "ts": at(seconds), "source": "x.log", "line": 1}


def task(anchors: dict, sender: str, receiver: str, true: float, skew: dict, latency: float = 0.02) -> None:
    """One task: sent by `sender` at true time `true`, received `latency` later; each logs on its own clock."""
    key = f"task-{sender}-{receiver}-{true}"
    anchors[sender].append(event("task_sent", key, true + skew[sender]))
    anchors[receiver].append(event("task_received", key, true + latency + skew[receiver]))


def dtl(anchors: dict, owner: str, target: str, true: float, skew: dict, hop: float = 0.0005) -> None:
    """A volume of `owner` given its DTL on `target`: connect, register one hop later, clear three, go on four."""
    key = f"volume-{owner}-{true}"
    anchors[owner] += [event("dtl_connect", key, true + skew[owner]),
                       event("dtl_cleared", key, true + 4 * hop + skew[owner])]
    anchors[target] += [event("dtl_accept", key, true + hop + skew[target]),
                        event("dtl_clear", key, true + 3 * hop + skew[target])]


def skews_of(anchors: dict) -> dict:
    reference, skews = estimate(anchors)
    return {"reference": reference, **{s.host: s for s in skews}}


def test_celery_tasks_flowing_both_ways_bound_the_offset_from_both_sides_and_it_is_their_middle():
    skew = {"a": 0.0, "b": 37.25}
    anchors: dict = {"a": [], "b": []}
    for i in range(10):
        task(anchors, "a", "b", 60.0 * i, skew)
        task(anchors, "b", "a", 60.0 * i + 30, skew)
    b = skews_of(anchors)["b"]
    assert b.lower_seconds <= 37.25 <= b.upper_seconds and b.upper_seconds - b.lower_seconds < 0.05
    assert b.offset_seconds == pytest.approx(37.25, abs=0.03)
    assert (b.confidence, b.pairs, b.note) == ("high", 20, None) and "Celery" in b.method
    assert json.loads(json.dumps(b.to_dict()))["by_method"][0]["method"] == "celery"


def test_tasks_flowing_one_way_only_bound_the_offset_from_one_side_and_give_no_offset():
    skew = {"a": 0.0, "b": -12.5}
    anchors: dict = {"a": [], "b": []}
    for i in range(5):
        task(anchors, "a", "b", 60.0 * i, skew)
    b = skews_of(anchors)["b"]
    assert (b.offset_seconds, b.confidence, b.lower_seconds) == (None, "none", None)
    assert b.upper_seconds == pytest.approx(-12.48, abs=0.01), "received 20 ms after it was sent, at most"
    assert "one side" in b.note


def test_a_node_that_never_talks_to_the_reference_is_bounded_through_the_nodes_it_talks_to():
    skew = {"a": 0.0, "b": 2.0, "c": -7.0, "d": 1.0}
    anchors: dict = {"a": [], "b": [], "c": [], "d": []}
    for i in range(6):  # a talks to b and d, c only to b
        for one, other, phase in (("a", "b", 0), ("a", "d", 10), ("d", "a", 20), ("a", "d", 25), ("b", "c", 40),
                                  ("c", "b", 50)):
            task(anchors, one, other, 60.0 * i + phase, skew)
        task(anchors, "b", "a", 60.0 * i + 30, skew)
    found = skews_of(anchors)
    assert found["reference"] == "a"
    assert found["c"].offset_seconds == pytest.approx(-7.0, abs=0.05)
    assert found["c"].lower_seconds <= -7.0 <= found["c"].upper_seconds


def test_dtl_connections_one_way_bound_the_offset_from_both_sides_through_the_clear_they_wait_for():
    skew = {"a": 0.0, "b": 37.25}
    anchors: dict = {"a": [], "b": []}
    for i in range(4):
        dtl(anchors, "a", "b", 100.0 * i, skew)
    b = skews_of(anchors)["b"]
    assert b.lower_seconds <= 37.25 <= b.upper_seconds
    assert b.offset_seconds == pytest.approx(37.25, abs=0.01) and "DTL" in b.method and b.confidence == "high"


def test_a_volume_reconnecting_pairs_each_register_with_its_own_connect():
    skew = {"a": 0.0, "b": 3.0}
    anchors: dict = {"a": [], "b": []}
    for true in (100.0, 160.0, 220.0):  # the same volume connects again after each DTL restart
        dtl(anchors, "a", "b", true, skew)
    for item in anchors["a"] + anchors["b"]:
        item["key"] = "one-volume"
    b = skews_of(anchors)["b"]
    assert b.offset_seconds == pytest.approx(3.0, abs=0.01) and b.note is None


def test_elections_give_the_offset_and_causal_bounds_that_exclude_it_lower_the_confidence_and_say_why():
    skew = {"a": 0.0, "b": 5.0}
    anchors: dict = {"a": [], "b": []}
    for i in range(3):
        anchors["a"].append(event("election", f"n{i} is master", 100.0 * i))
        anchors["b"].append(event("election", f"n{i} is master", 100.0 * i + 5.0))
        task(anchors, "a", "b", 100.0 * i + 50, skew)
    agreed = skews_of(anchors)["b"]
    assert (agreed.offset_seconds, agreed.confidence, agreed.note) == (5.0, "high", None)
    assert "elections" in agreed.method and agreed.upper_seconds == pytest.approx(5.02, abs=0.01)

    for item in anchors["b"]:
        if item["kind"] == "task_received":
            item["ts"] = at(float(item["key"].rsplit("-", 1)[1]) + 1.0)  # b received them 4 s before it was sent
    disputed = skews_of(anchors)["b"]
    assert (disputed.offset_seconds, disputed.confidence) == (5.0, "medium")
    assert "elections say +5.000 s but Celery tasks bound it to at most +1.002 s" in disputed.note


def test_celery_and_dtl_bounds_that_do_not_overlap_lower_the_confidence_and_say_so():
    anchors: dict = {"a": [], "b": []}
    for i in range(4):
        task(anchors, "a", "b", 60.0 * i, {"a": 0.0, "b": 10.0})
        task(anchors, "b", "a", 60.0 * i + 30, {"a": 0.0, "b": 10.0})
        dtl(anchors, "a", "b", 60.0 * i + 15, {"a": 0.0, "b": 20.0})  # the clock stepped between the two
    b = skews_of(anchors)["b"]
    assert b.confidence == "medium" and "do not overlap" in b.note
    assert "Celery tasks" in b.note and "DTL connections" in b.note
    assert b.offset_seconds == pytest.approx(20.0, abs=0.01), "the narrowest method alone"


def test_bounds_that_contradict_each_other_say_a_clock_may_have_stepped():
    anchors: dict = {"a": [], "b": []}
    for i in range(4):
        task(anchors, "a", "b", 60.0 * i, {"a": 0.0, "b": 0.0})
        task(anchors, "b", "a", 600.0 + 60.0 * i, {"a": 0.0, "b": 10.0})  # b's clock jumped 10 s ahead
    b = skews_of(anchors)["b"]
    assert "contradict each other" in b.note and "stepped" in b.note
    assert b.confidence == "low" and b.lower_seconds > b.upper_seconds


def test_nodes_that_only_talk_among_themselves_are_not_measured_against_the_reference():
    skew = {"a": 0.0, "b": 1.0, "c": 2.0, "d": 3.0}
    anchors: dict = {h: [] for h in skew}
    for i in range(4):
        for one, other in (("a", "b"), ("b", "a"), ("a", "b"), ("c", "d"), ("d", "c")):
            task(anchors, one, other, 60.0 * i + len(anchors[one]), skew)
    found = skews_of(anchors)
    assert found["reference"] == "a" and found["b"].offset_seconds == pytest.approx(1.0, abs=0.05)
    assert (found["c"].offset_seconds, found["c"].confidence, found["c"].lower_seconds) == (None, "none", None)
