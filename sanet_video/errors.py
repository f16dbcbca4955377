"""The one exception type that the command line turns into a single line on stderr."""


class UserError(Exception):
    """Something the user can fix: the message says what was wrong and how to fix it."""
