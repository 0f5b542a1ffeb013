"""Write formats.json: the shipped formats as analyzer.parsing.matching describes them to the core.

Run from the repository root with the project's venv: `.venv/bin/python core/fuzz/export_formats.py`.
tests/parsing/test_matching.py fails when the file no longer matches parsers/.
"""

from __future__ import annotations

import json
from pathlib import Path

from analyzer.parsing.formats import load_formats
from analyzer.parsing.matching import core_definitions

if __name__ == "__main__":
    target = Path(__file__).resolve().parent / "formats.json"
    text = json.dumps(core_definitions(load_formats()), indent=1, ensure_ascii=False)
    target.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {target}")
