"""The command line contract: outputs, exit codes, one-line errors, reproducible results."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import pytest
from polars.exceptions import PanicException

from tests.conftest import ROOT, SAMPLE, SCHEMA, build_tar, cli


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory) -> tuple[subprocess.CompletedProcess[str], Path]:
    out = tmp_path_factory.mktemp("sample-report")
    return cli("analyze", str(SAMPLE), "-o", str(out)), out


def test_analyze_writes_report_findings_and_summary_and_says_where(sample_run):
    result, out = sample_run
    assert result.returncode == 0, result.stderr
    for name in ("report.html", "findings.json", "summary.md"):
        assert (out / name).is_file()
        assert str(out / name) in result.stdout
    assert result.stderr == ""


def test_findings_json_follows_its_documented_schema(sample_run):
    _, out = sample_run
    doc = json.loads((out / "findings.json").read_text())
    jsonschema.validate(doc, SCHEMA)
    assert doc["bundle"]["hosts"] == ["ovs-node1"]
    assert doc["verdict"] == "critical"


def test_every_line_of_the_sample_is_accounted_for(sample_run):
    _, out = sample_run
    doc = json.loads((out / "findings.json").read_text())
    text_members = [m for m in doc["bundle"]["inventory"] if not m["binary"]]
    assert sum(m["lines"] for m in text_members) == doc["bundle"]["lines"] > 1000
    assert all(m["records"] <= m["lines"] for m in text_members)


def test_summary_is_paste_ready_markdown(sample_run):
    _, out = sample_run
    summary = (out / "summary.md").read_text()
    assert summary.startswith("**ovs-analyzer verdict: CRITICAL**")
    assert "| Severity | Finding |" in summary


@pytest.mark.parametrize(("fail_on", "code"), [("critical", 3), ("high", 3), (None, 0)])
def test_fail_on_turns_findings_into_exit_code_3(tmp_path, fail_on, code):
    args = ["analyze", str(SAMPLE), "-o", str(tmp_path)] + (["--fail-on", fail_on] if fail_on else [])
    assert cli(*args).returncode == code


def test_a_healthy_bundle_is_clean_and_exits_0_with_fail_on_low(tmp_path):
    from samples.make_sample import write_sample

    bundle = tmp_path / "ovs-node2-20170314102205-logs.tar.gz"
    write_sample(bundle, scenario="healthy", host="ovs-node2")
    result = cli("analyze", str(bundle), "-o", str(tmp_path / "out"), "--fail-on", "low")
    assert result.returncode == 0, result.stdout + result.stderr
    doc = json.loads((tmp_path / "out" / "findings.json").read_text())
    assert doc["verdict"] == "clean"
    assert {f["severity"] for f in doc["findings"]} <= {"info"}, "a healthy node shows facts, no problems"
    assert cli("analyze", str(bundle), "-o", str(tmp_path / "out"), "--fail-on", "info").returncode == 3


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda p: p, "no such file or directory"),
        (lambda p: (p.write_bytes(os.urandom(4096)), p)[1], "not a readable bundle"),
        (lambda p: (p.write_bytes(b""), p)[1], "empty file, not a bundle"),
        (lambda p: (p.write_text("just some text\n" * 50), p)[1], "not an Open vStorage support bundle"),
    ],
    ids=["missing", "random-bytes", "empty-file", "plain-text"],
)
def test_unusable_input_is_one_line_and_exit_2(tmp_path, make, fragment):
    bundle = make(tmp_path / "ovs-x-logs.tar.gz")
    result = cli("analyze", str(bundle), "-o", str(tmp_path / "out"))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and fragment in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


@pytest.mark.parametrize(
    "args",
    [["analyze", str(SAMPLE), "--fail-on", "loud"], ["analyze", "--nope", str(SAMPLE)], ["explode"],
     ["analyze", str(SAMPLE), "--rules", "/nonexistent/rules"]],
    ids=["bad-severity", "unknown-option", "unknown-command", "missing-rules-dir"],
)
def test_bad_arguments_are_one_line_and_exit_2(args):
    result = cli(*args)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("ovs-analyzer: error: ") and result.stderr.count("\n") == 1


def test_a_panic_inside_polars_is_an_internal_error_in_one_line_not_a_traceback(tmp_path, monkeypatch, capsys):
    """pyo3's PanicException is a BaseException: `except Exception` alone let it print a traceback."""
    import analyzer.pipeline.nodes
    from analyzer.cli.app import EXIT_INTERNAL, main

    def panicking(*args, **kwargs):
        raise PanicException("assertion failed: i < self.len()")

    monkeypatch.setattr(analyzer.pipeline.nodes, "analyze_nodes", panicking)
    assert main(["analyze", str(SAMPLE), "-o", str(tmp_path)]) == EXIT_INTERNAL
    err = capsys.readouterr().err
    assert err.startswith("ovs-analyzer: error: internal error: PanicException: assertion failed") and \
        err.count("\n") == 1, err


def test_help_documents_the_exit_codes():
    result = cli("analyze", "--help")
    assert result.returncode == 0
    assert "Exit codes: 0 analyzed, no finding at or above --fail-on; 3 a finding at or above --fail-on" in \
        " ".join(result.stdout.split())
    assert "130 interrupted" in " ".join(result.stdout.split())


def test_a_full_disk_is_said_in_one_line_and_leaves_the_previous_reports_whole(tmp_path):
    """A real full device (/dev/full) under the file the report is written to before it takes its
    name: not an "internal error", and the last run's four documents stay as they were, not some
    cut short or some replaced (each run's findings.json differs by its time of generation)."""
    out = tmp_path / "out"
    assert cli("analyze", str(SAMPLE), "-o", str(out)).returncode == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    (out / ".report.html.partial").symlink_to("/dev/full")
    time.sleep(1)  # a second later: another generation time
    result = cli("analyze", str(SAMPLE), "-o", str(out))
    assert result.returncode == 2, result.stderr
    assert result.stderr == ("ovs-analyzer: error: No space left on device "
                             "(free some space, or write the outputs elsewhere with -o)\n")
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_a_write_failing_inside_polars_is_said_as_the_machines_problem_and_leaves_no_half_table(tmp_path):
    """Polars raises its own file errors as text ("... (os error 27)"); a real file size limit
    (`ulimit -f`) makes `parse` hit one as it streams the sample's table (629 kB) into Parquet."""
    out = tmp_path / "out"
    limit = lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (400 * 1024, resource.RLIM_INFINITY))  # noqa: E731
    result = subprocess.run([sys.executable, "-m", "analyzer.cli.app", "parse", str(SAMPLE), "-o", str(out)],
                            cwd=ROOT, capture_output=True, text=True, timeout=300, preexec_fn=limit)
    assert (result.returncode, result.stderr) == (2, "ovs-analyzer: error: File too large (an output is larger "
                                                     "than this shell's file size limit, `ulimit -f`)\n")
    assert sorted(p.name for p in out.iterdir()) == [".ovs-analyzer-output"]


def test_ctrl_c_stops_with_one_line_and_exit_130(tmp_path):
    """typer ends a command's KeyboardInterrupt with exit code 130 and no word: the user must see why."""
    line = ("2017-03-14 10:16:35 123456 +0100 - ovs-node1 - 4242/0x00007f2e - volumedriverfs/VolManager - "
            "0000000000000001 - info - Volume vd-1 is running fine\n")
    bundle = build_tar(tmp_path / "ovs-node1-logs.tar", {"var/log/ovs/volumedriver/vpool1.log": line * 600_000},
                       compress=False)  # ~100 MiB of lines: seconds of work to interrupt
    out = tmp_path / "out"
    run = subprocess.Popen([sys.executable, "-m", "analyzer.cli.app", "analyze", str(bundle), "-o", str(out)],
                           cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not (out / ".ovs-analyzer-output").exists() and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.005)  # the mark is written once the command has begun its work
    run.send_signal(signal.SIGINT)
    stdout, stderr = run.communicate(timeout=120)
    assert (run.returncode, stderr, stdout) == (130, "ovs-analyzer: error: interrupted\n", "")


def test_the_same_bundle_gives_the_same_bytes_apart_from_the_generation_time(tmp_path):
    outs = [tmp_path / "a", tmp_path / "b"]
    for out in outs:
        assert cli("analyze", str(SAMPLE), "-o", str(out)).returncode == 0
    for name in ("findings.json", "report.html", "summary.md"):
        a, b = ((out / name).read_text() for out in outs)
        stamp = json.loads((outs[0] / "findings.json").read_text())["generated_at"]
        other = json.loads((outs[1] / "findings.json").read_text())["generated_at"]
        assert a == b.replace(other, stamp), name


@pytest.mark.parametrize("command", ["analyze", "parse", "triage"])
def test_an_output_path_that_cannot_be_a_folder_is_a_one_line_error(command, tmp_path):
    blocker = tmp_path / "report.txt"
    blocker.write_text("a file where the output folder should go")
    result = cli(command, str(SAMPLE), "-o", str(blocker))
    assert result.returncode == 2
    assert result.stderr.strip() == f"ovs-analyzer: error: {blocker}: cannot be used as the output folder (File exists)"
    assert blocker.read_text() == "a file where the output folder should go"


@pytest.mark.parametrize("command", ["analyze", "parse", "inventory"])
def test_a_pipe_given_as_the_bundle_is_refused_in_one_line_not_waited_on(command, tmp_path):
    """A bundle is read more than once (sniffed, hashed, read); a pipe would block the second read."""
    pipe = tmp_path / "ovs-node1-logs.tar"
    os.mkfifo(pipe)
    result = cli(command, str(pipe), *([] if command == "inventory" else ["-o", str(tmp_path / "out")]))
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip() == (f"ovs-analyzer: error: {pipe}: not a regular file or folder (a pipe or device "
                                     "can be read only once): save the bundle to a file first")


def _unpacked_crash(folder: Path) -> Path:
    """A bundle unpacked into `folder`: one crash, so its evidence lines land in the reports."""
    (folder / "var/log").mkdir(parents=True)
    (folder / "var/log/syslog").write_text(
        "Mar 14 10:16:35 ovs-node1 systemd[1]: ovs-volumedriver_vpool1.service: Main process exited, "
        "code=killed, status=11/SEGV\n")
    return folder


def test_a_second_run_in_the_bundle_folder_does_not_read_the_first_runs_reports(tmp_path):
    """`cd bundle; ovs-analyzer analyze .` writes ./out inside the bundle: the next run must not take
    those reports (full of evidence lines) for logs and count every finding again."""
    bundle = _unpacked_crash(tmp_path / "ovs-node1-20170314102205-logs")
    runs = [cli("analyze", ".", cwd=bundle) for _ in range(2)]
    assert [r.returncode for r in runs] == [0, 0], runs[1].stderr
    assert runs[0].stdout.splitlines()[0] == runs[1].stdout.splitlines()[0] == (
        "ovs-node1-20170314102205-logs: 2 findings, worst critical; 1 line in 1 member")
    doc = json.loads((bundle / "out" / "findings.json").read_text())
    assert [f["count"] for f in doc["findings"]] == [1, 1]
    assert any("output folders" in w and "out" in w for w in doc["bundle"]["warnings"])


def test_an_output_folder_among_the_bundle_s_own_files_is_refused_and_nothing_is_written_into_them(tmp_path):
    bundle = _unpacked_crash(tmp_path / "unpacked")
    before = sorted(p.relative_to(bundle) for p in bundle.rglob("*"))
    result = cli("analyze", str(bundle), "-o", str(bundle / "var" / "log"))
    assert result.returncode == 2 and "is a folder of the bundle" in result.stderr
    assert sorted(p.relative_to(bundle) for p in bundle.rglob("*")) == before, "the input tree stays as it was"
    assert cli("analyze", str(bundle), "-o", str(tmp_path / "out")).returncode == 0, "and a later run still reads it"


def test_the_output_folder_cannot_be_the_bundle_folder_itself(tmp_path):
    bundle = _unpacked_crash(tmp_path / "unpacked")
    result = cli("analyze", str(bundle), "-o", str(bundle))
    assert result.returncode == 2
    assert result.stderr.strip() == (f"ovs-analyzer: error: {bundle}: is the bundle folder itself; write the outputs "
                                     "to a folder of their own (-o out), or a later run would read them as logs")
    assert [p.name for p in bundle.iterdir()] == ["var"]
