"""A stub's live state in its org's tree (``stubs/<stubref>/stub.yaml``, ``chats/<chat>.yaml``).

Finding which org holds a stub, reading its state as blob ids, and committing a new state (from
``--from`` or a restore) on the org's live branch by compare-and-swap.
"""

from __future__ import annotations

import stat
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, NamedTuple

from .errors import NotFound
from .gitmessage import format_message
from .gitstore import GitStore
from .gittrees import TREE_MODE, Existing
from .layout import CHATS, STUB_FILE, STUBS, place_of, stub_dir, stub_spec
from .orgs import LiveChange, find_org, write_live

if TYPE_CHECKING:
    from .records import Stub


class LiveStub(NamedTuple):
    """A stub's state as blob ids: its ``stub.yaml`` and each chat's file, by chat name."""

    stub_blob: str
    chats: dict[str, str]


def read_live_stub(store: GitStore, tree: str, stubref: str) -> LiveStub | None:
    """The stub's state in an org tree, or None when the tree has no such stub."""
    directory = store.trees.lookup(tree, stub_dir(stubref))
    if directory is None or not stat.S_ISDIR(directory[0]):
        return None
    stub = store.trees.lookup(directory[1], STUB_FILE)
    if stub is None:
        return None
    chats = store.trees.lookup(directory[1], CHATS)
    entries = store.trees.entries(chats[1]) if chats and stat.S_ISDIR(chats[0]) else []
    files = {place_of(f"{stub_dir(stubref)}/{CHATS}/{name}"): sha for name, _, sha in entries}
    return LiveStub(stub[1], {place.chat: sha for place, sha in files.items() if place is not None})


def live_stub_of(store: GitStore, stub: Stub) -> LiveStub:
    """The blob ids a stub document will have once committed (nothing is written)."""
    spec = stub_spec(stub)
    chats = {name: store.objects.blob_id(data) for name, data in spec.get(CHATS, {}).items()}
    return LiveStub(store.objects.blob_id(spec[STUB_FILE]),
                    {place_of(f"{stub_dir(stub.stubref)}/{CHATS}/{name}").chat: sha for name, sha in chats.items()})


def find_stub_org(store: GitStore, stubref: str, has_snapshots: Callable[[str], bool] | None = None,
                  among: Collection[str] | None = None) -> str:
    """The one org (of ``among``, when given) whose live tree holds the stub (or, with ``has_snapshots``, that has snapshots of it)."""
    return find_org(store, "stub", stubref, lambda tree: read_live_stub(store, tree, stubref) is not None, has_snapshots,
                    among)


def stub_not_found(stubref: str, org: str) -> NotFound:
    return NotFound(f"stub {stubref} not found in org {org}'s live state", title="Stub not found")


def commit_stub_document(store: GitStore, org: str, stub: Stub) -> LiveChange:
    """Make a stub document the stub's live state: its directory replaced wholly, the rest kept."""
    stub_tree = store.trees.build(stub_spec(stub))
    spec = {STUBS: {stub.stubref: Existing(TREE_MODE, stub_tree)}}
    message = format_message(f"Update stub {stub.stubref}", trailers=[("Org", org), ("Stubref", stub.stubref)])
    return write_live(store, org, lambda _tree: spec, message)
