"""The one exception type that turns into a clean one-line error and exit code 2, and what a
bug may raise instead (reported in one line too, as an internal error)."""

from polars.exceptions import PanicException


class UserError(Exception):
    """Input or arguments the user can fix (not a bug): reported in one line, exit code 2."""


#: A bug in this tool, or a panic in Polars' Rust code: pyo3's PanicException is a BaseException,
#: so catching Exception alone would end the run with a traceback (seen with Polars 2.1's
#: string kernels on some filtered frames).
INTERNAL_ERRORS: tuple[type[BaseException], ...] = (Exception, PanicException)
