"""The one exception type that turns into a clean one-line error and exit code 2."""


class UserError(Exception):
    """Input or arguments the user can fix (not a bug): reported in one line, exit code 2."""
