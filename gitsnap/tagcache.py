"""What tag objects say, by tag id: a listing parses each tag object once, not on every run.

A tag object never changes (its id is the hash of its bytes), so an entry never goes stale: the
refs still say which tags exist, and only the reading of each tag is saved, as git's commit-graph
file saves the parsing of commits. One file per group of tags a command lists together (one org's
snapshots: ``gitsnap/tag-cache/snapshots/<org>.json``, so a listing never reads other tenants'
entries), kept in the repository directory, never in a ref, and only ever an optimisation: a
missing or unreadable file is rebuilt, and an entry the reader does not accept is read from its
tag again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection

from .gitobjects import write_file

DIRECTORY = os.path.join("gitsnap", "tag-cache")


class TagCache:
    """``get(tag)`` a summary recorded before, ``put(tag, summary)`` a new one, ``save`` when done."""

    def __init__(self, git_dir: str, group: str, writable: bool = True):
        """``group``: a relative path of identifiers (``snapshots/<org>``); ``writable`` False: never write (a dry
        run writes nothing)."""
        self.path = os.path.join(git_dir, DIRECTORY, *group.split("/")) + ".json"
        self.writable = writable
        self.entries: dict[str, list] = {}
        self._added = False
        try:
            with open(self.path, "rb") as handle:
                entries = json.loads(handle.read())
            if isinstance(entries, dict):
                self.entries = entries
        except (OSError, ValueError, RecursionError):
            pass  # none yet, or one this version cannot read: rebuilt from the tags

    def get(self, tag: str) -> list | None:
        """The summary recorded for ``tag`` (a list, which the caller checks), or None."""
        entry = self.entries.get(tag)
        return entry if type(entry) is list else None

    def put(self, tag: str, summary: list) -> None:
        self.entries[tag] = summary
        self._added = True

    def save(self, listed: Collection[str]) -> None:
        """Write the cache for the tags ``listed`` (every tag of the group there is now; the rest are dropped),
        when that changes it."""
        entries = {tag: self.entries[tag] for tag in listed if tag in self.entries}
        if not self.writable or not (self._added or len(entries) != len(self.entries)):
            return  # nothing new, nothing dropped (a tag that cannot be read has no entry either way)
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            write_file(self.path, json.dumps(entries, separators=(",", ":"), ensure_ascii=False).encode())
        except (OSError, UnicodeEncodeError):
            pass  # only an optimisation (a read-only repository, a full disk): the next listing reads the tags
