"""`pip install .` gives a working tool with parsers, rules and templates inside the wheel."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import SAMPLE

ROOT = Path(__file__).resolve().parent.parent


def test_the_wheel_ships_the_knowledge_and_runs_without_the_checkout(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(tmp_path / "dist"), str(ROOT)], check=True, capture_output=True)
    (wheel,) = (tmp_path / "dist").glob("ovs_analyzer-*-cp311-abi3-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for shipped in ("analyzer/_core.abi3.so",
                    "analyzer/_shipped/parsers/ovs_python_c.yaml", "analyzer/_shipped/rules/README.md",
                    "analyzer/_shipped/report_templates/report.html.j2", "analyzer/outputs/findings.schema.json",
                    "analyzer/_shipped/parsers/knowledge/tasks.yaml",
                    "analyzer/_shipped/parsers/knowledge/services.yaml",
                    "analyzer/_shipped/parsers/knowledge/identity.yaml",
                    "analyzer/_shipped/parsers/knowledge/entities.yaml",
                    "analyzer/_shipped/report_templates/sections/tasks.html.j2"):
        assert shipped in names
    site = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, capture_output=True)
    code = ("import analyzer, analyzer.resources as r, sys; from analyzer.cli.app import main; "
            "print(analyzer.__file__); print(r.shipped_dir('rules')); "
            f"sys.exit(main(['analyze', {str(SAMPLE)!r}, '-o', 'out']))")
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(site)})
    assert result.returncode == 0, result.stderr
    module_file, rules_dir = result.stdout.splitlines()[:2]
    assert module_file.startswith(str(site)) and rules_dir.startswith(str(site))
    assert (tmp_path / "out" / "report.html").is_file()
