"""Read the YAML files support engineers write (formats, rules): one clear error per broken file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from analyzer.errors import UserError

#: libyaml's loader where PyYAML was built with it (its wheels are): every run reads some 150
#: files of rules, formats and knowledge before its first line, and the pure-Python loader was
#: a large part of the start-up.
_FAST_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_mapping(path: Path, what: str) -> dict[str, Any]:
    """The YAML document at `path`, which must be a mapping; `what` names it in errors."""
    if not path.is_file():
        raise UserError(f"{path}: {what} not found")
    try:
        text = path.read_text(encoding="utf-8")
        doc = yaml.load(text, Loader=_FAST_LOADER)
    except yaml.YAMLError:
        doc = _explained(path, what, text)
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{path}: cannot read {what} ({' '.join(str(exc).split())})") from None
    if not isinstance(doc, dict):
        raise UserError(f"{path}: a {what} must be a YAML mapping")
    return doc


def _explained(path: Path, what: str, text: str) -> Any:
    """The pure-Python loader's error for a broken file: it quotes the line and points at the
    column, where libyaml's says less. (Raises; returns only if the two loaders disagree.)"""
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise UserError(f"{path}: cannot read {what} ({' '.join(str(exc).split())})") from None
