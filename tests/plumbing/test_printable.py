"""Customer text printed on a terminal shows its control characters instead of obeying them."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from analyzer.printable import visible


def test_escape_sequences_bells_and_carriage_returns_are_shown_as_escapes():
    assert visible("a\x1b]0;title\x07b\x1b[2Jc\rd\x7f\x9b") == "a\\x1b]0;title\\x07b\\x1b[2Jc\\x0dd\\x7f\\x9b"


def test_a_bidirectional_override_is_shown_not_obeyed():
    assert visible("ovs-node1\u202eexe.log") == "ovs-node1\\u202eexe.log"


def test_a_crlf_line_end_is_a_line_end_and_a_lone_carriage_return_is_shown():
    assert visible("id: X\r\ntitle: progress 10%\rprogress 90%\r\n") == "id: X\ntitle: progress 10%\\x0dprogress 90%\n"


def test_tabs_newlines_and_ordinary_text_in_any_script_are_kept():
    text = "node\tstate\nvPool \u2018vpool1\u2019 \u2013 \U0001f4be na\u00efve \u65e5\u672c"
    assert visible(text) == text


@given(st.text())
def test_what_is_printed_holds_no_control_character_but_tab_and_newline(text):
    shown = visible(text)
    assert all(c in "\t\n" or not (ord(c) < 0x20 or 0x7f <= ord(c) <= 0x9f) for c in shown)
    assert visible(shown) == shown
