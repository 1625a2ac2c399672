"""The one exception type a user should see as a message, never as a traceback."""


class CookbookError(Exception):
    """Bad input or an unmet precondition, described so the user can act on it.

    The CLI prints the message on one line and exits with `exit_code`: 2 for input the
    user can correct, 1 for a run that went wrong after it started (finished work kept).
    """

    def __init__(self, message, exit_code=2):
        super().__init__(message)
        self.exit_code = exit_code
