"""The habits every command line tool has: --version, -h, completion, a bare call, clean stdout."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from tests.conftest import ROOT, SAMPLE, cli


def test_version_is_an_option_short_and_long():
    for flag in ("--version", "-V"):
        result = cli(flag)
        assert result.returncode == 0 and result.stdout.startswith("ovs-analyzer ") and "core" in result.stdout


def test_dash_h_is_help_for_the_tool_and_for_each_command():
    for args in (["-h"], ["analyze", "-h"], ["rules", "test", "-h"]):
        result = cli(*args)
        assert result.returncode == 0 and "Usage:" in result.stdout, args


def test_a_bare_call_prints_the_help_and_succeeds_without_an_empty_error():
    for args in ([], ["rules"]):
        result = cli(*args)
        assert result.returncode == 0, result.stderr
        assert "Usage:" in result.stdout and "error" not in result.stderr, args


def test_a_shell_completion_script_is_produced_for_the_shell_it_is_typed_in():
    tool = [sys.executable, "-m", "analyzer.cli.app"]
    # typed in bash: bash is the command's parent, not replaced by it (`exit` after it)
    result = subprocess.run(["bash", "-c", '"$@"; exit $?', "bash", *tool, "--show-completion"],
                            capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "_ovs_analyzer_completion" in result.stdout and "complete " in result.stdout


def test_a_shell_completion_script_is_produced_for_a_named_shell_from_a_script():
    result = subprocess.run(["sh", "-c", '"$@"', "sh", *[sys.executable, "-m", "analyzer.cli.app"]],
                            capture_output=True, text=True, cwd=ROOT, timeout=300,
                            env={**os.environ, "_OVS_ANALYZER_COMPLETE": "source_bash"})
    assert result.returncode == 0, result.stderr
    assert "_ovs_analyzer_completion" in result.stdout and "complete " in result.stdout


def test_triage_with_stdout_redirected_leaves_only_the_result_there_and_says_what_it_lost(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copy(SAMPLE, inbox / SAMPLE.name)
    (inbox / "ovs-bad-20170314102205-logs.tar.gz").write_bytes(b"\x1f\x8b\x08\x00garbage" * 100)
    with (tmp_path / "stdout.txt").open("w") as stdout:
        result = subprocess.run([sys.executable, "-m", "analyzer.cli.app", "triage", str(inbox), "-o",
                                 str(tmp_path / "out"), "-j", "2"], stdout=stdout, stderr=subprocess.PIPE,
                                text=True, cwd=ROOT, timeout=300)
    lines = (tmp_path / "stdout.txt").read_text().splitlines()
    assert len(lines) == 1 and lines[0].startswith("2 bundles (1 unreadable)"), lines
    assert "[1/2]" in result.stderr and "[2/2]" in result.stderr, "per-bundle lines go to stderr"
    assert result.returncode == 4, "a batch that lost an input is not a clean run"
    assert "unreadable: ovs-bad-20170314102205-logs.tar.gz" in result.stderr


def test_a_damaged_archive_is_analyzed_up_to_the_damage_and_says_so_on_the_terminal(tmp_path):
    import gzip

    raw = gzip.decompress(SAMPLE.read_bytes())
    cut = tmp_path / "ovs-node1-20170314102205-logs.tar"
    cut.write_bytes(raw[: len(raw) // 2])
    result = cli("analyze", str(cut), "-o", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("ovs-analyzer: warning: ")]
    assert warnings and any("cut" in w or "damage" in w or "truncated" in w for w in warnings), result.stderr


def test_a_reader_that_stops_early_ends_the_command_quietly_as_git_does():
    """`ovs-analyzer tasks BUNDLE --json | head -1`: no traceback, no error line, not the bug code 1."""
    command = subprocess.Popen([sys.executable, "-m", "analyzer.cli.app", "tasks", str(SAMPLE), "--json"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    assert command.stdout is not None and command.stderr is not None
    command.stdout.close()  # before the first line: however large the pipe's buffer, every write fails
    assert command.wait(timeout=300) == 141
    assert command.stderr.read() == b""


def test_analyze_writes_every_output_before_it_prints_a_line(tmp_path):
    """A reader stopping after the first line must not cost the report of a later node."""
    out = tmp_path / "out"
    command = subprocess.Popen([sys.executable, "-m", "analyzer.cli.app", "analyze", str(SAMPLE), "-o", str(out)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    assert command.stdout is not None
    command.stdout.readline()
    assert (out / "report.html").is_file() and (out / "summary.md").is_file()
    command.stdout.close()
    command.wait(timeout=300)


def test_a_dash_for_standard_input_is_answered_with_what_to_do_instead(tmp_path):
    with SAMPLE.open("rb") as bundle:
        result = subprocess.run([sys.executable, "-m", "analyzer.cli.app", "analyze", "-", "-o", str(tmp_path / "o")],
                                stdin=bundle, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 2
    assert result.stderr.strip() == ("ovs-analyzer: error: -: a bundle cannot be read from standard input (it is "
                                     "read more than once): save it to a file and name that file")
