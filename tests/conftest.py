"""Shared fixtures: the shipped formats and rules, real tar bundles built on the fly, the real command
in its own process, and a real headless Chromium."""

from __future__ import annotations

import gzip
import io
import json
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Callable
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from analyzer.detection.loader import default_rule_dirs, load_rules
from analyzer.detection.rule import Rule
from analyzer.parsing.context import ParseContext
from analyzer.parsing.formats import FormatSpec, load_formats
from analyzer.parsing.member import parse_member

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "ovs-node1-20170314102205-logs.tar.gz"
BundleFactory = Callable[..., Path]
SCHEMA = json.loads((ROOT / "analyzer" / "outputs" / "findings.schema.json").read_text())
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", "--disable-quic"]


def cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real command in its own process, as an engineer would."""
    env = {**os.environ, "COLUMNS": "200"}
    return subprocess.run([sys.executable, "-m", "analyzer.cli.app", *args], capture_output=True, text=True,
                          cwd=cwd or ROOT, env=env, timeout=300)


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


def tar_bytes(members: dict[str, bytes | str]) -> bytes:
    """A real GNU tar of `members` in memory, with fixed mtimes."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name, content in members.items():
            data = content.encode() if isinstance(content, str) else content
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), 1489483325
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def build_tar(path: Path, members: dict[str, bytes | str], compress: bool = True) -> Path:
    """Write a real tar (gzipped as a whole, like `ovs collect logs`) with fixed mtimes."""
    raw = tar_bytes(members)
    path.write_bytes(gzip.compress(raw, mtime=0) if compress else raw)
    return path


@pytest.fixture
def make_bundle(tmp_path: Path) -> BundleFactory:
    def _make(members: dict[str, bytes | str], name: str = "ovs-node1-20170314102205-logs.tar.gz",
              compress: bool = True) -> Path:
        return build_tar(tmp_path / name, members, compress)

    return _make


@pytest.fixture(scope="module")
def browser():
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def open_report(browser, report: Path, screenshot: str):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    seen = {"requests": [], "errors": [], "dialogs": []}
    page.on("request", lambda r: seen["requests"].append(r.url))
    page.on("console", lambda m: seen["errors"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
    page.goto(report.as_uri())
    page.wait_for_load_state("load")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / screenshot), full_page=True)
    return page, seen
