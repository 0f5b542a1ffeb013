"""Shared fixtures: the shipped formats and rules, and real tar bundles built on the fly."""

from __future__ import annotations

import gzip
import io
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest

from analyzer.formats import FormatSpec, load_formats
from analyzer.parse import ParseContext, parse_member
from analyzer.rules import Rule, default_rule_dirs, load_rules

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "ovs-node1-20170314102205-logs.tar.gz"
BundleFactory = Callable[..., Path]


@pytest.fixture(scope="session")
def formats() -> list[FormatSpec]:
    return load_formats()


@pytest.fixture(scope="session")
def rules() -> list[Rule]:
    return load_rules(default_rule_dirs())


@pytest.fixture(scope="session")
def parse(formats: list[FormatSpec]):
    """Parse text as one member named `source` and return its events."""

    def _parse(text: str | bytes, source: str = "var/log/ovs/lib.log", year: int | None = 2017):
        data = text.encode() if isinstance(text, str) else text
        return parse_member(source, data, formats, ParseContext(year=year))

    return _parse


def build_tar(path: Path, members: dict[str, bytes | str], compress: bool = True) -> Path:
    """Write a real tar (gzipped as a whole, like `ovs collect logs`) with fixed mtimes."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, content in members.items():
            data = content.encode() if isinstance(content, str) else content
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 1489483325, 0o644
            tar.addfile(info, io.BytesIO(data))
    raw = buffer.getvalue()
    path.write_bytes(gzip.compress(raw, mtime=0) if compress else raw)
    return path


@pytest.fixture
def make_bundle(tmp_path: Path) -> BundleFactory:
    def _make(members: dict[str, bytes | str], name: str = "ovs-node1-20170314102205-logs.tar.gz",
              compress: bool = True) -> Path:
        return build_tar(tmp_path / name, members, compress)

    return _make
