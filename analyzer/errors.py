"""The one exception type that turns into a clean one-line error and exit code 2, what the
machine may raise that the user can fix too (a full disk), and what a bug may raise instead
(reported in one line too, as an internal error)."""

import errno
import os
import re

from polars.exceptions import PanicException

from analyzer import _core


class UserError(Exception):
    """Input or arguments the user can fix (not a bug): reported in one line, exit code 2."""


#: A bug in this tool, or a panic in Polars' or the compiled core's Rust code: PyO3's
#: PanicException is a BaseException (one type per PyO3 module), so catching Exception alone
#: would end the run with a traceback (seen with Polars 2.1's string kernels on some filtered frames).
INTERNAL_ERRORS: tuple[type[BaseException], ...] = (Exception, PanicException, _core.PanicException)

#: Failures of the machine, not of the input or of this tool: the user fixes them by freeing space,
#: choosing another output folder or raising a limit, so they are said like a user error.
_MACHINE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM, errno.EMFILE,
                   errno.ENFILE, errno.EIO}
_NO_ROOM = "free some space, or write the outputs elsewhere with -o"
_ADVICE = {errno.ENOSPC: _NO_ROOM, errno.EDQUOT: _NO_ROOM,
           errno.EFBIG: "an output is larger than this shell's file size limit, `ulimit -f`"}
#: Polars reports its own file failures as text ending in Rust's io::Error display.
_RUST_OS_ERROR = re.compile(r"\(os error (\d+)\)")


def machine_problem(exc: BaseException) -> str | None:
    """The one line for a failure the machine caused (a full disk, a read-only or forbidden folder,
    too many open files), from Python's OSError or from Polars' text; None when it is anything else."""
    if isinstance(exc, OSError) and exc.errno is not None:
        code, path = exc.errno, exc.filename
    elif (found := _RUST_OS_ERROR.search(str(exc))) is not None:  # Polars raises OSError with no errno too
        code, path = int(found.group(1)), None
    else:
        return None
    if code not in _MACHINE_ERRNOS:
        return None
    where = f"{path}: " if path else ""
    advice = f" ({_ADVICE[code]})" if code in _ADVICE else ""
    return f"{where}{os.strerror(code)}{advice}"
