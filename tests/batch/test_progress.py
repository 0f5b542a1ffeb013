"""Triage's progress: a live bar that stays one line on the narrowest usual terminal."""

from __future__ import annotations

import io
import re

import pytest
from rich.console import Console

from analyzer.batch.progress import BarProgress


@pytest.mark.parametrize("width", [80, 120])
def test_the_bar_stays_on_one_line_whatever_the_bundle_names(width):
    screen = io.StringIO()
    console = Console(file=screen, width=width, force_terminal=True, color_system=None, legacy_windows=False)
    row = {"bundle": "ovs-" + "very-long-host-name-" * 4 + "20170314102205-logs.tar.gz"}
    with BarProgress(20, 20 * 2**20, console=console) as bar:
        bar.advance([row], 2**20)
        bar.progress.refresh()
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen.getvalue())  # the cursor moves of a live display
    lines = [line for line in shown.replace("\r", "\n").splitlines() if line.strip()]
    assert lines and all(line.startswith("triage") for line in lines), "no line wrapped onto a second one"
    assert all(len(line.rstrip()) <= width for line in lines), [len(line) for line in lines]
    assert re.search(r"1/20 bundles +\d+\.\d MiB/s ETA \S+ ovs-very-long", lines[-1]), "columns whole"
