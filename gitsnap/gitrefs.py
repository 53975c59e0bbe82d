"""Refs: read by name and by prefix, moved only by compare-and-swap (temporary: over dulwich's refs)."""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from dulwich.file import FileLocked
from dulwich.refs import DiskRefsContainer

from .errors import Conflict, RepositoryError
from .gitobjects import write_errors

T = TypeVar("T")


class RefLocked(Exception):
    """Another writer holds the ref's lock."""


@dataclass(frozen=True)
class Patience:
    """How long a CAS loop keeps trying: attempts, how long a held lock is waited for, the sleep between tries."""

    attempts: int = 200
    lock_seconds: float = 2.0
    backoff: Callable[[int], float] = lambda attempt: random.uniform(0, min(0.05, 0.001 * 2 ** min(attempt, 6)))


@contextmanager
def _ref_conflicts(name: str) -> Iterator[None]:
    """A directory/file conflict between refs as one line naming the ref."""
    try:
        yield
    except (NotADirectoryError, IsADirectoryError) as error:
        raise RepositoryError(f"{name} cannot be written: another ref is in its way (a ref named like one of its "
                              "directories, or refs below it); git for-each-ref shows them") from error


def is_object_id(value: str | None) -> bool:
    return value is not None and len(value) == 40 and all(c in "0123456789abcdef" for c in value)


class Refs:
    """A bare repository's refs."""

    def __init__(self, git_dir: str, patience: Patience = Patience()):
        self._git_dir = git_dir
        self._refs = DiskRefsContainer(git_dir)
        self.patience = patience

    def read(self, name: str) -> str | None:
        """One ref's value, read by its path (loose first, then packed-refs)."""
        value = self._refs.read_loose_ref(name.encode())
        if value is None:
            value = self._refs.get_packed_refs().get(name.encode())
        return value.decode("utf-8", "replace") if value else None

    def list(self, prefix: str) -> dict[str, str]:
        """Every ref under ``prefix`` (full names) with its value."""
        base = prefix.rstrip("/").encode()
        found = self._refs.as_dict(base)
        return {f"{prefix.rstrip('/')}/{name.decode()}": sha.decode() for name, sha in found.items()}

    def children(self, prefix: str) -> set[str]:
        """The names one level below ``prefix``, loose and packed, without reading any ref's value."""
        prefix = prefix.rstrip("/")
        directory = self.path(prefix)
        names = set(os.listdir(directory)) if os.path.isdir(directory) else set()
        start = prefix.encode() + b"/"
        for name in self._refs.get_packed_refs():
            if name.startswith(start):
                names.add(name[len(start):].split(b"/", 1)[0].decode("utf-8", "replace"))
        return names

    def swap(self, name: str, old: str | None, new: str | None) -> bool:
        """Compare-and-swap one ref: create (old None), move, or delete (new None)."""
        refs, key = self._refs, name.encode()
        try:
            with write_errors(self._git_dir), _ref_conflicts(name):
                if new is None:
                    return refs.remove_if_equals(key, old.encode() if old else None)
                if old is None:
                    return refs.add_if_new(key, new.encode())
                return refs.set_if_equals(key, old.encode(), new.encode())
        except FileLocked:
            raise RefLocked(name) from None

    def path(self, name: str) -> str:
        return os.path.join(self._git_dir, *name.split("/"))

    def update(self, name: str, build: Callable[[str | None], tuple[str | None, T]]) -> T:
        """Move ``name`` to what ``build(tip)`` returns, by CAS; rebuild and retry on a lost race.

        ``build`` returns (new tip, result); a new tip of None or equal to the tip moves nothing. It
        runs again only when the tip moved: a ref locked by another writer is retried as built.
        """
        patience = self.patience
        tip: str | None = None
        locked_since: float | None = None
        for attempt in range(patience.attempts):
            current = self.read(name)
            if attempt == 0 or current != tip:
                if current is not None and not is_object_id(current):
                    raise RepositoryError(f"{name} holds {current!r}, not an object id; fix or delete the ref")
                tip = current
                new, result = build(tip)
                if new is None or new == tip:
                    return result
            try:
                if self.swap(name, tip, new):
                    return result
                locked_since = None
            except RefLocked:
                locked_since = locked_since or time.monotonic()
                if time.monotonic() - locked_since > patience.lock_seconds:
                    raise Conflict(f"{name} has been locked for over {patience.lock_seconds:g} s: remove "
                                   f"{self.path(name)}.lock if no gitsnap or git is running") from None
            time.sleep(patience.backoff(attempt))
        raise Conflict(f"{name} kept changing under {patience.attempts} attempts to update it; try again")

    def moves(self) -> list[tuple[str, str | None, str | None]]:
        """(ref, old, new) of what a dry run would have moved: nothing for a real repository."""
        return []

    def delete(self, name: str, old: str) -> None:
        """Delete a ref if it still holds ``old``."""
        try:
            removed = self.swap(name, old, None)
        except RefLocked:
            removed = False
        if not removed:
            raise Conflict(f"{name} changed while deleting it; nothing was deleted")


class DryRunRefs(Refs):
    """Refs whose compare-and-swaps are recorded, not made: a dry run computes everything and moves nothing."""

    def __init__(self, git_dir: str, patience: Patience = Patience()):
        super().__init__(git_dir, patience)
        self._moved: dict[str, tuple[str | None, str | None]] = {}  # ref -> (value on disk, value now)

    def read(self, name: str) -> str | None:
        return self._moved[name][1] if name in self._moved else super().read(name)

    def list(self, prefix: str) -> dict[str, str]:
        found = super().list(prefix)
        for name, (_, new) in self._moved.items():
            if name.startswith(prefix) and new is None:
                found.pop(name, None)
            elif name.startswith(prefix):
                found[name] = new
        return found

    def children(self, prefix: str) -> set[str]:
        start = prefix.rstrip("/") + "/"
        moved = {name[len(start):].split("/", 1)[0] for name, (_, new) in self._moved.items()
                 if new is not None and name.startswith(start)}
        return super().children(prefix) | moved

    def swap(self, name: str, old: str | None, new: str | None) -> bool:
        if self.read(name) != old:
            return False
        on_disk = self._moved[name][0] if name in self._moved else old
        if on_disk == new:
            self._moved.pop(name, None)
        else:
            self._moved[name] = (on_disk, new)
        return True

    def moves(self) -> list[tuple[str, str | None, str | None]]:
        return [(name, old, new) for name, (old, new) in sorted(self._moved.items())]
