"""How a command's documents reach its output folder: a folder marked as ours, and the documents
all whole, or none of them.

Engineers attach these files to tickets; a run that fails halfway (a full disk, a Ctrl-C) must
not leave one cut short, or a mix of two runs' documents that disagree.
"""

from __future__ import annotations

from pathlib import Path

from analyzer.errors import UserError
from analyzer.reading.folder import OUTPUT_MARK


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


def output_folder(out: Path, *reading: Path) -> Path:
    """Create the output folder up front: a path that cannot be one is the user's error, said in one
    line before any work, not an internal error after the analysis. It is marked as ours
    (`OUTPUT_MARK`), so a bundle folder holding it does not read it later; it may not be a bundle
    folder being `reading` itself, whose later runs would read these reports as logs."""
    for folder in reading:
        if not folder.is_dir():
            continue
        if out.resolve() == folder.resolve():
            raise UserError(f"{out}: is the bundle folder itself; write the outputs to a folder of their own "
                            "(-o out), or a later run would read them as logs")
        if (out.resolve().is_relative_to(folder.resolve()) and out.is_dir() and not (out / OUTPUT_MARK).exists()
                and any(out.iterdir())):  # checked before anything is written: the input tree stays as it was
            raise UserError(f"{out}: is a folder of the bundle, holding its files; write the outputs to a folder "
                            "of their own (-o out)")
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / OUTPUT_MARK).write_text("ovs-analyzer wrote this folder: a bundle folder holding it does not read it "
                                       "as logs.\n", encoding="utf-8")
    except OSError as exc:
        raise UserError(f"{out}: cannot be used as the output folder ({exc.strerror or exc})") from None
    return out
