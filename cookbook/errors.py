"""The one exception type a user should see as a message, never as a traceback."""


class CookbookError(Exception):
    """Bad input or an unmet precondition, described so the user can act on it.

    The CLI prints the message on one line and exits with status 2.
    """
