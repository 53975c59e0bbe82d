"""What an import directory's files were when last read: path, size, times and inode -> blob id.

Like git's index, it lets a re-import skip reading files whose stat data has not changed: their
blob ids are known, and a file whose blob is the live one is reused unread. One cache per source
directory, kept in the repository directory (``gitsnap/stat-cache/``), never in a ref, and only ever
an optimisation: a missing, stale or unreadable cache is rebuilt from the files.

Git's "racy" rule: a file written within one timestamp tick before it was read could change again
after the read without its stat data changing, so an entry is trusted only when the file's mtime is
a tick older than the moment the reading began (recorded with the cache): younger files are read
again next time. A tick is ``COARSE_TICK_NS`` for timestamps in whole seconds (FAT keeps 2 s),
``FINE_TICK_NS`` for nanosecond timestamps, which come from a clock that ticks every few ms.
"""

from __future__ import annotations

import json
import os
import time

from .gitobjects import write_file

COARSE_TICK_NS = 2_000_000_000
FINE_TICK_NS = 20_000_000


def _key(stat: os.stat_result) -> list[int]:
    return [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]


class StatCache:
    """One source directory's cache: ``blob(path, stat)`` when still true, ``record`` what was read, ``save``."""

    def __init__(self, directory: str, root: str):
        import hashlib

        self.root = os.path.abspath(root)
        self.path = os.path.join(directory, hashlib.sha1(os.fsencode(self.root)).hexdigest())
        self.entries: dict[str, list] = {}
        self.reading_from_ns = time.time_ns()  # before any file is read
        self._stored_reading_from_ns = 0
        self._changed = False
        try:
            with open(self.path, "rb") as handle:
                stored = json.loads(handle.read())
            entries, reading_from_ns = stored["entries"], stored["reading_from_ns"]
            if stored["root"] == self.root and isinstance(entries, dict) and type(reading_from_ns) is int:
                self.entries, self._stored_reading_from_ns = entries, reading_from_ns
        except (OSError, ValueError, KeyError, TypeError):
            pass  # no cache yet, or one this version cannot read: it is rebuilt

    def blob(self, path: str, stat: os.stat_result) -> str | None:
        """The blob id of ``path`` when its stat data is what was recorded, and old enough to trust."""
        entry = self.entries.get(path)
        tick = COARSE_TICK_NS if stat.st_mtime_ns % 1_000_000_000 == 0 else FINE_TICK_NS
        if (not isinstance(entry, list) or len(entry) != 5 or entry[:4] != _key(stat)
                or stat.st_mtime_ns >= self._stored_reading_from_ns - tick):
            return None
        return entry[4]

    def record(self, path: str, stat: os.stat_result, blob: str) -> None:
        entry = [*_key(stat), blob]
        if self.entries.get(path) != entry:
            self.entries[path] = entry
            self._changed = True

    def save(self, paths: set[str]) -> None:
        """Write the cache for exactly these paths (files gone since are dropped)."""
        if not self._changed and self.entries.keys() == paths:
            return
        entries = {path: entry for path, entry in self.entries.items() if path in paths}
        document = {"root": self.root, "reading_from_ns": self.reading_from_ns, "entries": entries}
        try:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            write_file(self.path, json.dumps(document, separators=(",", ":")).encode())
        except OSError:
            pass  # only an optimisation: the next import reads the files again
