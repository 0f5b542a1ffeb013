"""What the commands print reads as English: a count agrees with its noun, a table has its header."""

from __future__ import annotations

from analyzer.cli.wording import counted
from tests.conftest import SAMPLE, cli


def test_a_count_of_one_takes_the_singular_and_any_other_the_plural():
    assert [counted(n, "rule") for n in (0, 1, 2)] == ["0 rules", "1 rule", "2 rules"]
    assert counted(1, "real example") == "1 real example" and counted(2, "causal link") == "2 causal links"
    assert counted(12_345, "line") == "12,345 lines"


def test_rules_test_of_one_rule_says_one_rule():
    result = cli("rules", "test", "rules/celery/CELERY_NOT_RESPONDING.yaml")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("1 rule, ") and "0 causal links, 0 examples: 0 failed" in result.stdout


def test_rules_scaffold_counts_hosts_and_templates_in_agreement():
    result = cli("rules", "scaffold", str(SAMPLE))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert all("host(s)" not in line and "1 hosts" not in line for line in lines)
    assert lines[-1].endswith("; write one with --template N") and " templates;" in lines[-1]


def test_rules_list_starts_with_a_header_row_naming_its_columns():
    lines = cli("rules", "list").stdout.splitlines()
    assert lines[0].split() == ["id", "severity", "kind", "component", "title"]
    assert lines[1].split()[0].isupper(), "then one rule per line"
    assert lines[0].index("severity") == lines[1].index(lines[1].split()[1]), "the header sits over its column"
