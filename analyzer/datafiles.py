"""Read the YAML files support engineers write (formats, rules): one clear error per broken file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from analyzer.errors import UserError


def load_mapping(path: Path, what: str) -> dict[str, Any]:
    """The YAML document at `path`, which must be a mapping; `what` names it in errors."""
    if not path.is_file():
        raise UserError(f"{path}: {what} not found")
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise UserError(f"{path}: cannot read {what} ({' '.join(str(exc).split())})") from None
    if not isinstance(doc, dict):
        raise UserError(f"{path}: a {what} must be a YAML mapping")
    return doc
