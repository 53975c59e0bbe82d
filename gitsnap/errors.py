"""One exception hierarchy; each class carries its exit code, its HTTP status and its JSON ``error`` title.

An error may carry a ``result``: what the operation did before it stopped (a pull that moved some
refs and refused others), so a caller learns exactly what changed. It is the ``result`` member of
the JSON error document.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


class GitsnapError(Exception):
    """Base of every error gitsnap reports to a user."""

    exit_code = 1
    http_status = 500
    title = "Error"

    def __init__(self, message: str, *, title: str | None = None, problems: list[str] | None = None,
                 result: object | None = None):
        super().__init__(message)
        self.message = message
        if title is not None:
            self.title = title
        self.problems = problems or []
        self.result = result  # a models.Result, when the operation did something before it stopped

    def lines(self) -> list[str]:
        """The message, then one line per problem when there are several."""
        return [self.message, *self.problems] if self.problems else [self.message]


def each_readable(items: Iterable[tuple[str, T]], read: Callable[[str, T], R]) -> tuple[list[R], list[tuple[str, str]]]:
    """``read(key, item)`` for each item; one that fails is set aside as (key, message), never stopping the rest.

    Listings read every tenant's refs: one tenant's unreadable ref must not take the listing down.
    """
    results, failures = [], []
    for key, item in items:
        try:
            results.append(read(key, item))
        except GitsnapError as error:
            failures.append((key, error.message))
    return results, failures


class InvalidInput(GitsnapError):
    """Bad arguments or bad input data (exit 2)."""

    exit_code = 2
    http_status = 400
    title = "Invalid input"


class NotFound(GitsnapError):
    """An org, user, prompt, snapshot, remote or repository that does not exist (exit 3)."""

    exit_code = 3
    http_status = 404
    title = "Not found"


class Conflict(GitsnapError):
    """Lost a race after retries, a non-fast-forward, diverged history (exit 4)."""

    exit_code = 4
    http_status = 409
    title = "Conflict"


class RepositoryError(GitsnapError):
    """The repository is damaged or cannot be written (exit 1)."""

    exit_code = 1
    title = "Repository error"
