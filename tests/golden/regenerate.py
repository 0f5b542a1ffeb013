"""Rewrite the golden outputs from today's code: only when a change means to change them.

Adding a rule changes findings.json here (its coverage entry, and its findings where it fires):
run `.venv/bin/python tests/golden/regenerate.py`, read `git diff tests/golden`, and commit the
files with the change, saying in its message why they changed.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
from pathlib import Path

GOLDEN = Path(__file__).resolve().parent
ROOT = GOLDEN.parents[1]
sys.path.insert(0, str(ROOT))

from tests.pipeline.test_golden_outputs import BUNDLES, _bundle  # noqa: E402


def main() -> None:
    for name in sorted(BUNDLES):
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            bundle = _bundle(name, folder)
            run = [sys.executable, "-m", "analyzer.cli.app"]
            subprocess.run([*run, "analyze", str(bundle), "-o", str(folder / "a")], check=True, cwd=ROOT,
                           capture_output=True)
            text = (folder / "a" / "findings.json").read_text(encoding="utf-8")
            (GOLDEN / name / "findings.json").write_text(re.sub(r'"generated_at": "[^"]*"', '"generated_at": ""', text),
                                                         encoding="utf-8")
            if (GOLDEN / name / "events.parquet").is_file():
                subprocess.run([*run, "parse", str(bundle), "-o", str(folder / "p")], check=True, cwd=ROOT,
                               capture_output=True)
                (GOLDEN / name / "events.parquet").write_bytes((folder / "p" / "events.parquet").read_bytes())
        print(f"rewrote tests/golden/{name}")


if __name__ == "__main__":
    main()
