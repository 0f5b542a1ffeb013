"""The arguments and options several commands share, so each is worded once and agrees with the code."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

#: What `analyzer.reading.bundle.describe` accepts; the kind is sniffed from the bytes, not the name.
BundleArgument = Annotated[Path, typer.Argument(
    help="Bundle: a tar in any compression (.tar, .tar.gz/.tgz, .tar.xz, .tar.bz2), a .zip, or an unpacked "
         "folder; a bundle of bundles is read node by node.",
)]
OutOption = Annotated[Path, typer.Option("-o", "--out", help="Output folder (created if needed).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
RulesOption = Annotated[
    list[Path] | None,
    typer.Option("--rules", help="Extra rule folder (repeatable), added to the shipped pack."),
]
CapOption = Annotated[
    list[str] | None,
    typer.Option("--cap", help="Raise or lower a reading cap, NAME=NUMBER[k|M|G] (repeatable): member_bytes, "
                               "total_bytes, members, ratio, ratio_floor, line_bytes, stream_bytes."),
]
TimingsOption = Annotated[bool, typer.Option(
    "--timings", help="Print to stderr the seconds spent per stage (read, decompress, parse, rules, ...).",
)]
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="Site tuning (YAML): re-tune a rule's severity or switch it off by id."),
]
