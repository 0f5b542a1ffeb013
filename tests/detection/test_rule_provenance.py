"""Where the examples of the shipped rules come from (#23, rules/README.md "Where an example comes from").

Every rule shows a real line: a match example with a `# pasted in <owner>/<repo> #<N> (...)` comment
above it, naming a public thread the rule references. A rule that no public thread pastes says
`Source strings only: ...` above its examples instead, and threads.csv records why (a
`source_only` or `too_little` row naming the rule). Pure text reads: no parser, no engine.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from analyzer.detection.loader import default_rule_dirs

RULES_DIR = default_rule_dirs()[0]
RULE_FILES = sorted(p for p in RULES_DIR.glob("*/*.yaml") if p.parent.name != "links")
LINK_FILES = sorted((RULES_DIR / "links").glob("*.yaml"))
THREADS = list(csv.DictReader((RULES_DIR / "threads.csv").read_text().splitlines()))

# A marker is a comment line of its own that starts with "pasted in <owner>/<repo> #<N>".
MARKER = re.compile(r"^\s*#\s*pasted in (?P<repo>[\w.-]+/[\w.-]+) #(?P<number>\d+)\b")
SOURCE_ONLY = "Source strings only:"
WHY_NO_REAL_LINE = {"source_only", "too_little"}


@dataclass(frozen=True)
class Example:
    section: str  # "match" or "no_match"
    comments: tuple[str, ...]  # the comment lines right above the example's "- " line
    first_line: str

    def threads(self) -> list[tuple[str, int]]:
        found = (MARKER.match(c) for c in self.comments)
        return [(m["repo"], int(m["number"])) for m in found if m]


def examples_of(text: str) -> list[Example]:
    """The examples of a rule file with the comment block above each, read as text (YAML drops
    comments). Sections are the two-space keys under the top-level `examples:`."""
    out: list[Example] = []
    section, comments, in_examples = None, [], False
    for line in text.splitlines():
        if line.rstrip() == "examples:":
            in_examples = True
            continue
        if not in_examples:
            continue
        if line and not line.startswith(" "):  # the next top-level key ends the block
            break
        key = re.match(r"^  (\w+):", line)
        if key:
            section, comments = key[1], []
        elif line.startswith("    #"):
            comments.append(line.strip())
        elif line.startswith("    - "):
            out.append(Example(section, tuple(comments), line))
            comments = []
    return out


def references_of(path: Path) -> set[str]:
    return set(yaml.safe_load(path.read_text()).get("references") or [])


def thread_urls(repo: str, number: int) -> set[str]:
    return {f"https://github.com/{repo}/issues/{number}", f"https://github.com/{repo}/pull/{number}"}


def csv_rule_ids(row: dict) -> set[str]:
    return {r.strip() for r in (row["rule_id"] or "").split(";") if r.strip()}


THREADS_IN_CSV = {(row["repository"], int(row["issue"])) for row in THREADS if row["issue"]}


@pytest.mark.parametrize("path", RULE_FILES, ids=[p.stem for p in RULE_FILES])
def test_a_rule_shows_a_pasted_real_line_or_says_its_examples_are_built_from_source_strings(path):
    text = path.read_text()
    pasted = [ex for ex in examples_of(text) if ex.section == "match" and ex.threads()]
    if pasted:
        references = references_of(path)
        assert any(thread_urls(*t) & references for ex in pasted for t in ex.threads()), (
            f"{path.name}: no '# pasted in' match example names a thread of its references")
        return
    assert SOURCE_ONLY in text, (
        f"{path.name}: no match example is marked '# pasted in <owner>/<repo> #<N>', and the rule "
        f"does not say '{SOURCE_ONLY}' above its examples")
    why = [row for row in THREADS if path.stem in csv_rule_ids(row) and row["decision"] in WHY_NO_REAL_LINE]
    assert why, (f"{path.name} is built from source strings, but no threads.csv row with decision "
                 f"{sorted(WHY_NO_REAL_LINE)} names it to say why")


@pytest.mark.parametrize("path", RULE_FILES, ids=[p.stem for p in RULE_FILES])
def test_every_thread_a_rule_says_a_line_was_pasted_in_is_among_its_references(path):
    references = references_of(path)
    missing = sorted({t for ex in examples_of(path.read_text()) for t in ex.threads()
                      if not thread_urls(*t) & references})
    assert not missing, f"{path.name}: threads named by '# pasted in' but not in references: {missing}"


def test_every_thread_a_pasted_in_marker_names_is_recorded_in_threads_csv():
    named = {}
    for path in RULE_FILES + LINK_FILES:
        for line in path.read_text().splitlines():
            m = MARKER.match(line)
            if m:
                named.setdefault((m["repo"], int(m["number"])), path.name)
    missing = {t: f for t, f in named.items() if t not in THREADS_IN_CSV}
    assert not missing, f"'# pasted in' threads without a threads.csv row: {missing}"


def test_a_pasted_in_marker_is_a_comment_of_its_own_that_names_owner_repo_and_number():
    loose = []
    for path in RULE_FILES + LINK_FILES:
        for n, line in enumerate(path.read_text().splitlines(), 1):
            comment = line.strip()
            if comment.startswith("# pasted in") and not MARKER.match(line):
                loose.append(f"{path.name}:{n}: {comment}")
    assert not loose, "markers must read '# pasted in <owner>/<repo> #<N> (...)':\n" + "\n".join(loose)


def test_threads_csv_names_only_rules_of_the_pack_and_known_decisions():
    pack = {p.stem for p in RULE_FILES}
    decisions = {"rule", "signature", "duplicate", "causal_link", "not_a_log_failure"} | WHY_NO_REAL_LINE
    unknown_rules = sorted({r for row in THREADS for r in csv_rule_ids(row)} - pack)
    unknown_decisions = sorted({row["decision"] for row in THREADS} - decisions)
    assert not unknown_rules, f"threads.csv names rules the pack lacks: {unknown_rules}"
    assert not unknown_decisions, f"threads.csv uses unknown decisions: {unknown_decisions}"


def test_a_thread_has_one_row_in_threads_csv():
    seen, twice = set(), []
    for row in THREADS:
        key = (row["repository"], row["issue"] or row["url"])
        if key in seen:
            twice.append(key)
        seen.add(key)
    assert not twice, f"threads recorded twice in threads.csv: {twice}"
