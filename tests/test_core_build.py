"""The compiled core (`analyzer._core`, Rust sources in core/) is built from this checkout, for the stable ABI."""

from __future__ import annotations

import tomllib
from pathlib import Path

import analyzer._core

ROOT = Path(__file__).resolve().parent.parent


def test_the_core_reports_the_crate_version():
    crate = tomllib.loads((ROOT / "Cargo.toml").read_text(encoding="utf-8"))
    assert analyzer._core.version() == crate["package"]["version"]


def test_the_core_is_an_abi3_extension():
    # One wheel for every CPython >= 3.11 (pyo3's abi3-py311 feature): the module file says so.
    assert analyzer._core.__file__.endswith(".abi3.so")


def test_a_panic_of_the_compiled_core_counts_as_an_internal_error():
    """PyO3 gives each module its own PanicException (a BaseException): the CLI must list the
    core's, or a panic would end a run with a traceback instead of one line."""
    from analyzer import _core
    from analyzer.errors import INTERNAL_ERRORS

    assert issubclass(_core.PanicException, BaseException)
    assert _core.PanicException in INTERNAL_ERRORS
