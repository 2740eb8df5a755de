"""The one exception type for user mistakes.

Anything a user can cause (a bad file, an unknown name, a folder holding another run) raises `UserError` with a
message that names the file or field and what was expected. The CLI prints it as one line and exits non-zero;
every other exception is a bug and keeps its traceback.
"""


class UserError(Exception):
    """A mistake in the user's input: printed as one line by the CLI, exit code 2."""
