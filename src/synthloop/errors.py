"""The one exception type for user mistakes.

Anything a user can cause (a bad file, an unknown name, a folder holding another run) raises `UserError` with a
message that names the file or field and what was expected. The CLI prints it as one line and exits non-zero;
every other exception is a bug and keeps its traceback. The message is folded to one line when it is made, so a
library's multi-line text quoted in it (a pyarrow schema, a parser's context) cannot break that rule.
"""

import re

LINE_BREAKS = re.compile(r"(:?)\s*[\r\n]+\s*")


def one_line(message: str) -> str:
    """`message` with each run of line breaks (and the spaces around them) replaced by "; " (by " " after ":")."""
    return LINE_BREAKS.sub(lambda match: ": " if match.group(1) else "; ", message.strip())


class UserError(Exception):
    """A mistake in the user's input: printed as one line by the CLI, exit code 2."""

    def __init__(self, message: object = "") -> None:
        super().__init__(one_line(str(message)))
