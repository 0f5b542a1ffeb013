"""Entity columns: every example of parsers/knowledge/entities.yaml, and the parse command's table."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.errors import UserError
from analyzer.parsing.entities import EntityPattern, entity_columns, load_entity_patterns, with_entities
from analyzer.pipeline.event_table import write_events
from tests.conftest import SAMPLE

PATTERNS = load_entity_patterns()
CASES = [(p, text, expect) for p in PATTERNS for text, expect in p.examples]


def frame_for(pattern: EntityPattern, text: str) -> pl.DataFrame:
    row = {"message": "", "raw": "", "source": "var/log/x.log", "producer": (pattern.producers or ("framework",))[0]}
    row[pattern.field] = text
    return pl.DataFrame([row], schema={k: pl.String for k in row})


@pytest.mark.parametrize(("pattern", "text", "expect"), CASES,
                         ids=[f"{p.column}:{t[:40]}" for p, t, _ in CASES])
def test_each_entity_example_yields_its_value(pattern, text, expect):
    assert frame_for(pattern, text).select(pattern.extract())[0, 0] == expect


def test_the_producer_filter_keeps_an_entity_to_the_producers_that_write_it():
    (volumedriver,) = [p for p in PATTERNS if p.column == "volume" and p.producers == ("volumedriver",)]
    text = "do_wrap_: 67314f06-0f9f-4680-b2de-5db8d76049f7: problem with connection"
    other = frame_for(volumedriver, text).with_columns(pl.lit("framework").alias("producer"))
    assert other.select(volumedriver.extract())[0, 0] is None


def test_a_stated_vpool_is_kept_and_missing_entities_are_null():
    events = pl.DataFrame({"message": ["Disqualifying osd 5: timeout", "nothing here"], "raw": ["", ""],
                           "source": ["var/log/alba/x.log", "var/log/arakoon/ovsdb/n1.log"],
                           "producer": ["alba", "arakoon"], "vpool": ["vpool1", None]})
    out = with_entities(events)
    assert out["vpool"].to_list() == ["vpool1", None]
    assert out["osd"].to_list() == ["5", None] and out["arakoon_cluster"].to_list() == [None, "ovsdb"]
    assert set(entity_columns()) <= set(out.columns) and out.height == 2


@settings(deadline=None)  # a shared CI machine may be slow; the property is about results
@given(st.lists(st.text(max_size=200), max_size=20))
def test_any_text_gives_one_row_per_event_and_no_error(messages):
    events = pl.DataFrame({"message": messages, "raw": messages, "source": ["s"] * len(messages),
                           "producer": ["alba"] * len(messages)}, schema={k: pl.String for k in
                                                                          ("message", "raw", "source", "producer")})
    assert with_entities(events).height == len(messages)


def test_events_parquet_carries_the_entity_columns(tmp_path):
    (table,) = write_events(SAMPLE, tmp_path)
    events = pl.read_parquet(table.path)
    for column in ("volume", "volume_name", "osd", "arakoon_cluster", "task", "task_id"):
        assert events[column].drop_nulls().len() > 0, f"the sample names some {column}"


def test_a_pattern_without_its_named_group_is_refused(tmp_path):
    path = tmp_path / "entities.yaml"
    path.write_text("entities:\n  - {column: osd, pattern: 'osd (\\d+)', examples: [{text: osd 1, expect: '1'}]}\n")
    with pytest.raises(UserError, match=r"\(\?P<osd>"):
        load_entity_patterns(path)


def test_an_edited_entity_file_is_read_as_it_now_stands_and_the_shipped_one_once(tmp_path):
    path = tmp_path / "entities.yaml"
    entry = ("entities:\n  - {{column: osd, pattern: '{word} (?P<osd>\\d+)', "
             "examples: [{{text: {word} 1, expect: '1'}}]}}\n")
    path.write_text(entry.format(word="osd"))
    assert [p.pattern for p in load_entity_patterns(path)] == ["osd (?P<osd>\\d+)"]
    path.write_text(entry.format(word="disk"))
    assert [p.pattern for p in load_entity_patterns(path)] == ["disk (?P<osd>\\d+)"]
    assert load_entity_patterns() is load_entity_patterns() == PATTERNS
