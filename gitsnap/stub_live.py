"""A stub's live state in its org's tree (``stubs/<stubref>/stub.yaml``, ``chats/<chat>.yaml``).

Finding which org holds a stub, reading its state as blob ids, and committing a new state (from
``--from`` or a restore) on the org's live branch by compare-and-swap.
"""

from __future__ import annotations

import stat
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import NotFound
from .gitmessage import format_message
from .gitstore import GitStore
from .gittrees import TREE_MODE, Existing
from .models import Stub
from .orgs import LiveChange, find_org, stub_tree_spec, write_live
from .sources import STUB_FILE

STUBS_DIR = "stubs"
CHATS_DIR = "chats"
YAML = ".yaml"


@dataclass(frozen=True)
class LiveStub:
    """A stub's state as blob ids: its ``stub.yaml`` and each chat's file, by chat name."""

    stub_blob: str
    chats: dict[str, str] = field(default_factory=dict)


def read_live_stub(store: GitStore, tree: str, stubref: str) -> LiveStub | None:
    """The stub's state in an org tree, or None when the tree has no such stub."""
    directory = store.trees.lookup(tree, f"{STUBS_DIR}/{stubref}")
    if directory is None or not stat.S_ISDIR(directory[0]):
        return None
    stub = store.trees.lookup(directory[1], STUB_FILE)
    if stub is None:
        return None
    chats = store.trees.lookup(directory[1], CHATS_DIR)
    entries = store.trees.entries(chats[1]) if chats and stat.S_ISDIR(chats[0]) else []
    return LiveStub(stub[1], {name[: -len(YAML)]: sha for name, _, sha in entries if name.endswith(YAML)})


def live_stub_of(store: GitStore, stub: Stub) -> LiveStub:
    """The blob ids a stub document will have once committed (nothing is written)."""
    spec = stub_tree_spec(stub)
    chats = spec.get(CHATS_DIR, {})
    return LiveStub(store.objects.blob_id(spec[STUB_FILE]), {name[: -len(YAML)]: store.objects.blob_id(data) for name, data in chats.items()})


def find_stub_org(store: GitStore, stubref: str, has_snapshots: Callable[[str], bool] | None = None) -> str:
    """The one org whose live tree holds the stub (or, with ``has_snapshots``, that has snapshots of it)."""
    return find_org(store, "stub", stubref, lambda tree: read_live_stub(store, tree, stubref) is not None, has_snapshots)


def stub_not_found(stubref: str, org: str) -> NotFound:
    return NotFound(f"stub {stubref} not found in org {org}'s live state", title="Stub not found")


def commit_stub_document(store: GitStore, org: str, stub: Stub) -> LiveChange:
    """Make a stub document the stub's live state: its directory replaced wholly, the rest kept."""
    stub_tree = store.trees.build(stub_tree_spec(stub))
    spec = {STUBS_DIR: {stub.stubref: Existing(TREE_MODE, stub_tree)}}
    message = format_message(f"Update stub {stub.stubref}", trailers=[("Org", org), ("Stubref", stub.stubref)])
    return write_live(store, org, lambda _tree: spec, message)
