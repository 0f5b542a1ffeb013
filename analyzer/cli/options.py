"""The arguments and options several commands share, so each is worded once and agrees with the code."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape  # help text is rich markup: a literal [k|M|G] must not be read as a tag

#: What `analyzer.reading.bundle.describe` accepts; the kind is sniffed from the bytes, not the name.
BUNDLE_KINDS = ("a tar in any compression (.tar, .tar.gz/.tgz, .tar.xz, .tar.bz2), a .zip, an unpacked folder, "
                "or one log file (plain, .gz, .bz2, .xz)")
BundleArgument = Annotated[Path, typer.Argument(
    metavar="BUNDLE", help=f"Bundle: {BUNDLE_KINDS}; a bundle of bundles is read node by node.",
)]
OutOption = Annotated[Path, typer.Option("-o", "--out", metavar="DIR", help="Output folder (created if needed).")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
RulesOption = Annotated[
    list[Path] | None,
    typer.Option("--rules", metavar="DIR", help="Extra rule folder (repeatable), added to the shipped pack."),
]
CapOption = Annotated[
    list[str] | None,
    typer.Option("--cap", metavar="NAME=N", help=escape(
        "Raise or lower a reading cap (repeatable): NAME=NUMBER[k|M|G] (k, M, G: times 1024, 1024², 1024³), "
        "NAME one of member_bytes, total_bytes, members, ratio, ratio_floor, line_bytes, stream_bytes.")),
]
TimingsOption = Annotated[bool, typer.Option(
    "--timings", help="Print to stderr the seconds spent per stage (read, decompress, parse, rules, ...).",
)]
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", metavar="FILE",
                 help="Site tuning (YAML): re-tune a rule's severity or switch it off by id."),
]
AlignClocksOption = Annotated[bool, typer.Option(
    "--align-clocks", help="In cluster reports, move each node's times by its estimated clock offset.",
)]
RedactOption = Annotated[bool, typer.Option(
    "--redact", help="Also replace host names, IPs, MACs and e-mail addresses by pseudonyms, the same in every "
                     "output of the run; the private map goes to OUT/redaction-map.json (never attach it; "
                     "`unredact` reads it). Secrets are always masked.",
)]
