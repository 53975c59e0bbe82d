"""One exception hierarchy; each class carries its exit code and its JSON ``error`` title."""

from __future__ import annotations


class GitsnapError(Exception):
    """Base of every error gitsnap reports to a user."""

    exit_code = 1
    title = "Error"

    def __init__(self, message: str, *, title: str | None = None, problems: list[str] | None = None):
        super().__init__(message)
        self.message = message
        if title is not None:
            self.title = title
        self.problems = problems or []

    def lines(self) -> list[str]:
        """The message, then one line per problem when there are several."""
        return [self.message, *self.problems] if self.problems else [self.message]


class InvalidInput(GitsnapError):
    """Bad arguments or bad input data (exit 2)."""

    exit_code = 2
    title = "Invalid input"


class NotFound(GitsnapError):
    """An org, user, prompt, snapshot, remote or repository that does not exist (exit 3)."""

    exit_code = 3
    title = "Not found"


class Conflict(GitsnapError):
    """Lost a race after retries, a non-fast-forward, diverged history (exit 4)."""

    exit_code = 4
    title = "Conflict"


class RepositoryError(GitsnapError):
    """The repository is damaged or cannot be written (exit 1)."""

    exit_code = 1
    title = "Repository error"
