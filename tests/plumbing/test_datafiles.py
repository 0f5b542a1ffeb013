"""The YAML files support engineers write: read fast, and a broken one explained in one line."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from analyzer.datafiles import load_mapping
from analyzer.errors import UserError
from analyzer.resources import shipped_dir

SHIPPED = sorted(p for name in ("rules", "parsers") for p in shipped_dir(name).rglob("*.yaml"))


def test_every_shipped_file_reads_as_the_pure_python_loader_reads_it() -> None:
    assert len(SHIPPED) > 100
    for path in SHIPPED:
        assert load_mapping(path, "file") == yaml.safe_load(path.read_text(encoding="utf-8")), path


def test_a_broken_file_is_one_error_that_quotes_the_line_and_points_at_the_column(tmp_path: Path) -> None:
    path = tmp_path / "MY_RULE.yaml"
    path.write_text("id: MY_RULE\nmatch:\n\t- literal: x\n", encoding="utf-8")
    with pytest.raises(UserError) as caught:
        load_mapping(path, "rule file")
    message = str(caught.value)
    assert message.startswith(f"{path}: cannot read rule file (")
    assert "\n" not in message
    assert "found character '\\t' that cannot start any token" in message
    assert "line 3, column 1" in message and "^" in message


def test_a_file_that_is_no_mapping_or_no_text_is_refused(tmp_path: Path) -> None:
    listed = tmp_path / "list.yaml"
    listed.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(UserError, match="must be a YAML mapping"):
        load_mapping(listed, "rule file")
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"id: \xff\xfe\n")
    with pytest.raises(UserError, match="cannot read rule file"):
        load_mapping(binary, "rule file")
    with pytest.raises(UserError, match="rule file not found"):
        load_mapping(tmp_path / "absent.yaml", "rule file")
