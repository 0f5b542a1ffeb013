"""How a command's documents reach its output folder: all whole, or none of them.

Engineers attach these files to tickets; a run that fails halfway (a full disk, a Ctrl-C) must
not leave one cut short, or a mix of two runs' documents that disagree.
"""

from __future__ import annotations

from pathlib import Path


def write_together(texts: dict[Path, str]) -> None:
    """Write each text beside its file, then give them all their names: a failure while writing
    removes what it wrote and leaves the previous run's documents as they were."""
    partials = {path: path.with_name(f".{path.name}.partial") for path in texts}
    try:
        for path, text in texts.items():
            partials[path].write_text(text, encoding="utf-8", newline="")
    except BaseException:
        for partial in partials.values():
            partial.unlink(missing_ok=True)
        raise
    for path, partial in partials.items():
        partial.replace(path)
