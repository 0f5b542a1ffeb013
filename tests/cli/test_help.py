"""`--help` reads like other tools' help: values named by what they are, flags bare, every input kind
a command accepts, and under each command only the exit codes it can give."""

from __future__ import annotations

import re

import pytest
import typer

from analyzer.batch.discovery import discover
from analyzer.cli.app import app
from tests.conftest import cli


def _commands(group=None, path=()):
    """Every command and group of the tool, as the words that name it: (), ("analyze",), ("rules", "test")..."""
    group = group or typer.main.get_command(app)
    yield path
    for name, command in getattr(group, "commands", {}).items():
        yield from _commands(command, (*path, name)) if hasattr(command, "commands") else [(*path, name)]


COMMANDS = list(_commands())


def _help(*words: str) -> str:
    result = cli(*words, "--help")
    assert result.returncode == 0, result.stderr
    return result.stdout


def _text(help_text: str) -> str:
    """The words of a help screen, without its boxes and line wrapping."""
    return " ".join(re.sub("[│╭╮╰╯─]", " ", help_text).split())


@pytest.mark.parametrize("words", COMMANDS, ids=[" ".join(c) or "ovs-analyzer" for c in COMMANDS])
def test_help_names_values_by_what_they_are_and_shows_nothing_after_a_flag(words):
    """No Python type in sight (`<bool>`, `<path>`, `<list[Path]>`), no `{bundle}`: a usage line like
    `ovs-analyzer analyze [OPTIONS] BUNDLE` and `--out DIR`, `--cap NAME=N`, a bare `--json`."""
    text = _help(*words)
    assert not re.search(r"<(?:bool|path|str|int|float|file|list\[.*?\])>", text), text
    usage = next(line for line in text.splitlines() if "Usage:" in line)
    assert "{" not in usage and "}" not in usage, usage
    for flag in ("--help", "--json", "--failed", "--redact", "--timings", "--align-clocks"):
        row = next((line for line in text.splitlines() if f" {flag} " in line), None)
        if row is not None:
            assert re.search(rf"{flag}\s+(?:-\w\s+)?[A-Z][a-z]", row), f"a value shown after {flag}: {row}"


def test_usage_lines_and_metavars_of_the_main_commands():
    assert "Usage: ovs-analyzer analyze [OPTIONS] BUNDLE" in _help("analyze")
    assert "Usage: ovs-analyzer triage [OPTIONS] INPUT..." in _help("triage")
    assert "Usage: ovs-analyzer diff [OPTIONS] OLD NEW" in _help("diff")
    assert "Usage: ovs-analyzer rules test [OPTIONS] [PATH...]" in _help("rules", "test")
    analyze = _text(_help("analyze"))
    for option in ("--out -o DIR", "--fail-on SEVERITY", "--rules DIR", "--config FILE", "--cap NAME=N"):
        assert option in analyze, option


def test_the_cap_help_shows_its_unit_suffixes_instead_of_losing_them_to_markup():
    assert "NAME=NUMBER[k|M|G]" in _text(_help("analyze"))
    assert "NAME=NUMBER[k|M|G]" in _text(_help("inventory"))


@pytest.mark.parametrize("words", COMMANDS, ids=[" ".join(c) or "ovs-analyzer" for c in COMMANDS])
def test_each_command_lists_only_the_exit_codes_it_can_give(words):
    """`--fail-on` (exit 3) only under analyze, triage and diff, exit 4 only under triage (and the
    tool's own help, which names the command of each), a failed example (3) under `rules test`."""
    text = _text(_help(*words))
    codes = text[text.index("Exit codes: "):]
    assert "0 " in codes and "2 unusable input or arguments" in codes and "130 interrupted" in codes
    assert "--debug" in codes and "141 stdout closed early" in codes, "the codes every command gives, and how"
    has_fail_on = "--fail-on SEVERITY" in text
    assert ("--fail-on" in codes) == (has_fail_on or words == ()), words
    assert ("; 4 " in codes) == (words in {("triage",), ()}), words
    assert ("3 an example failed" in codes) == (words[:1] == ("rules",) and words[1:] in {(), ("test",)}), words


@pytest.mark.parametrize("command", ["analyze", "inventory", "tasks", "services", "parse"])
def test_commands_reading_one_bundle_name_every_kind_of_input(command):
    text = _text(_help(command))
    for kind in (".tar,", ".tar.gz/.tgz", ".tar.xz", ".tar.bz2", ".zip", "unpacked folder", "bundle of bundles"):
        assert kind in text, (command, kind)
    assert "a bundle of bundles is read node by node" in text


def test_triage_help_names_the_archives_a_folder_is_searched_for_and_they_are_the_ones_found(tmp_path):
    text = _text(_help("triage"))
    names = ["a.tar", "b.tgz", "c.tar.gz", "d.tar.xz", "e.tar.bz2", "f.zip"]
    for name in names:
        assert name[1:].removesuffix(".gz") in text or name[1:] in text, name
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("not a bundle")
    (tmp_path / "node" / "var" / "log").mkdir(parents=True)
    assert "unpacked bundles (folders holding var/log)" in text
    assert sorted(p.name for p in discover([str(tmp_path)])) == [*names, "node"]
