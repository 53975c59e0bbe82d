"""One ``Store`` per threadpool thread, opened on first use and kept: a create over a kept Store costs
about 0.4 ms less than over one opened for the request (the object store's pack list and git config
are read once). A Store is never shared between threads; refs and packs are re-read from disk as
other workers move them (CAS), so a kept Store never acts on a stale tip."""

from __future__ import annotations

import threading

from ..store import Store


class Stores:
    """The repository's Stores, one per thread."""

    def __init__(self, repo: str):
        self.repo = repo
        self._local = threading.local()
        self._opened: list[Store] = []
        self._lock = threading.Lock()

    def here(self) -> Store:
        """This thread's Store (call it in the route's own thread, never in an async dependency)."""
        store = getattr(self._local, "store", None)
        if store is None:
            store = self._local.store = Store(self.repo)
            with self._lock:
                self._opened.append(store)
        return store

    def close(self) -> None:
        with self._lock:
            for store in self._opened:
                store.close()
            self._opened.clear()
