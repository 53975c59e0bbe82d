"""What tag objects say, by tag id: a listing parses each tag object once, not on every run.

A tag object never changes (its id is the hash of its bytes), so an entry never goes stale: the
refs still say which tags exist, and only the reading of each tag is saved, as git's commit-graph
file saves the parsing of commits. One file per kind of summary, kept in the repository directory
(``gitsnap/tag-cache/<kind>.json``), never in a ref, and only ever an optimisation: a missing or
unreadable file is rebuilt, and an entry the reader does not accept is read from its tag again.
"""

from __future__ import annotations

import json
import os
from collections.abc import Collection

from .gitobjects import write_file

DIRECTORY = os.path.join("gitsnap", "tag-cache")


class TagCache:
    """``get(tag)`` a summary recorded before, ``put(tag, summary)`` a new one, ``save`` when done."""

    def __init__(self, git_dir: str, kind: str, writable: bool = True):
        """``writable`` False: read what is there and never write (a dry run writes nothing)."""
        self.path = os.path.join(git_dir, DIRECTORY, f"{kind}.json")
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

    def save(self, listed: Collection[str] | None = None) -> None:
        """Write the cache if anything was added; ``listed``: every tag of this kind there is (the rest are
        dropped), or None when the caller saw only some of them."""
        stale = listed is not None and len(self.entries) != len(listed)
        if not self.writable or not (self._added or stale):
            return
        entries = self.entries if listed is None else {tag: self.entries[tag] for tag in listed if tag in self.entries}
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            write_file(self.path, json.dumps(entries, separators=(",", ":"), ensure_ascii=False).encode())
        except (OSError, UnicodeEncodeError):
            pass  # only an optimisation (a read-only repository, a full disk): the next listing reads the tags
