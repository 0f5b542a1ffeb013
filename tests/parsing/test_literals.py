"""The literal pre-filters: each must give exactly what testing every literal on every row gives."""

from __future__ import annotations

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from analyzer.parsing.literals import contains_any_literal, literal_masks, literals_present

#: Few letters, so that literals occur in the texts, overlap and nest; regex metacharacters too,
#: since the alternation must escape them.
_TEXT = st.text(alphabet="ab]: .*(", max_size=12)
_LITERALS = st.lists(st.text(alphabet="ab]: .*(", min_size=1, max_size=3), min_size=1, max_size=5, unique=True)
_ROWS = st.lists(st.one_of(st.none(), _TEXT), max_size=8)


def _holds(text: str | None, literal: str) -> bool:
    return text is not None and literal in text


@given(rows=_ROWS, literals=_LITERALS)
def test_a_row_is_a_candidate_exactly_when_it_holds_one_of_the_literals(rows, literals):
    frame = pl.DataFrame({"text": rows}, schema={"text": pl.String})
    picked = frame.select(contains_any_literal(pl.col("text"), literals).fill_null(False)).to_series().to_list()
    assert picked == [any(_holds(text, literal) for literal in literals) for text in rows]


@given(rows=_ROWS, literals=_LITERALS)
def test_the_literals_present_are_those_some_row_holds_even_inside_another(rows, literals):
    frame = pl.DataFrame({"text": rows}, schema={"text": pl.String})
    assert literals_present(frame, "text", literals) == {
        literal for literal in literals if any(_holds(text, literal) for text in rows)}


@given(rows=_ROWS, literals=_LITERALS)
def test_each_literal_held_somewhere_has_the_mask_of_the_rows_holding_it(rows, literals):
    frame = pl.DataFrame({"text": rows}, schema={"text": pl.String})
    masks = literal_masks(frame, "text", literals)
    expected = {literal: [_holds(text, literal) for text in rows] for literal in literals}
    assert {literal: mask.to_list() for literal, mask in masks.items()} == {
        literal: rows_holding for literal, rows_holding in expected.items() if any(rows_holding)}


def test_no_literal_picks_no_row():
    frame = pl.DataFrame({"text": ["a"]})
    assert frame.select(contains_any_literal(pl.col("text"), [])).item() is False
    assert literals_present(frame, "text", []) == set()
    assert literal_masks(frame, "text", []) == {}
