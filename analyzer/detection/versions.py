"""Which releases a known failure affects, checked against the package versions a bundle states.

A rule may say `versions: {package: openvstorage, introduced: 2.7.0, fixed: 2.7.4}`. Versions
are Debian versions (`2.7.4-1`, `6.16.4~rc1`) and are compared as dpkg compares them, with
python-debian. A rule is never silenced by its version range: a finding on a release that has
the fix is a regression or another cause, and saying so is more useful than hiding it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from debian.debian_support import Version

Verdict = Literal["affected", "not_affected", "unknown"]


@dataclass(frozen=True)
class VersionRange:
    """The releases of one package a failure affects: `introduced <= version < fixed`, either bound open."""

    package: str
    introduced: str | None
    fixed: str | None

    def describe(self) -> str:
        parts = [f"from {self.introduced}" if self.introduced else "", f"fixed in {self.fixed}" if self.fixed else ""]
        return f"{self.package} {', '.join(p for p in parts if p)}"


def is_version(text: str) -> bool:
    try:
        Version(text)
    except ValueError:
        return False
    return bool(text) and text[0].isdigit()


def assess(span: VersionRange, installed: dict[str, str]) -> tuple[Verdict, str]:
    """Whether the bundle's version of the package is in the range, and a sentence saying why."""
    found = installed.get(span.package)
    if not found or not is_version(found):
        return "unknown", f"no {span.package} version found in the bundle (affected: {span.describe()})"
    version = Version(found)
    if span.introduced and version < Version(span.introduced):
        return "not_affected", f"{span.package} {found} predates the failure (introduced in {span.introduced})"
    if span.fixed and version >= Version(span.fixed):
        return "not_affected", f"{span.package} {found} has the fix (fixed in {span.fixed})"
    return "affected", f"{span.package} {found} is affected ({span.describe()})"
