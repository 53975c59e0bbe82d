"""How a stub snapshot is stored: its ref, its tree, its commit's trailers; reading and moving it.

Each named snapshot is a movable ref whose history holds every save of that name::

    refs/stubs/<org>/<stubref>/stub/<name>                    tree: stub.yaml
    refs/stubs/<org>/<stubref>/gpt_chat_task/<chat>/<name>    tree: chat.yaml

The trees reuse the live tree's blobs. Org, stubref, chat and name are identifiers (no ``/``), so
every ref has a fixed depth and the two shapes differ in their fourth component: no ref can be a
directory of another. A stub snapshot with children pins each child snapshot's commit in a
``Child: KEY=CHAT <commit>`` trailer (next to ``Child-Snapshot: <uuid>``), so every parent commit
says exactly which chat states were saved with it.
"""

from __future__ import annotations

import uuid
from typing import NamedTuple

from . import yamlio
from .errors import InvalidInput, NotFound, RepositoryError
from .gitmessage import CommitInfo, format_message
from .gitstore import GitStore
from .gittrees import BLOB_MODE, Existing
from .layout import CHATS, STUB_FILE
from .models import ChildSnapshot, iso_utc, require_identifier
from .names import CHAT_TYPE, DEFAULT_SNAPSHOT_NAME, SNAPSHOT_TYPES, STUB_TYPE

DEFAULT_NAME = DEFAULT_SNAPSHOT_NAME
CHAT_FILE = "chat.yaml"
REFS_PREFIX = "refs/stubs/"


class Selector(NamedTuple):
    """Which named snapshot of a stub: its type, its name and, for a GPT chat task, the chat."""

    type: str = STUB_TYPE
    name: str = DEFAULT_NAME
    chat: str | None = None

    def check(self) -> None:
        """InvalidInput unless the type is known, the names are identifiers and --chat fits the type."""
        if self.type not in SNAPSHOT_TYPES:
            raise InvalidInput(f"snapshot type {self.type!r} is not one of {', '.join(SNAPSHOT_TYPES)}")
        require_identifier("snapshot name", self.name)
        if self.type == CHAT_TYPE and self.chat is None:
            raise InvalidInput(f"--chat is required with --type {CHAT_TYPE}")
        if self.type == STUB_TYPE and self.chat is not None:
            raise InvalidInput(f"--chat is only for --type {CHAT_TYPE} (a stub snapshot takes --all-chats or --child)")
        if self.chat is not None:
            require_identifier("chat name", self.chat)

    def ref(self, org: str, stubref: str) -> str:
        if self.type == STUB_TYPE:
            return f"{stub_refs_prefix(org, stubref)}/{STUB_TYPE}/{self.name}"
        return f"{stub_refs_prefix(org, stubref)}/{CHAT_TYPE}/{self.chat}/{self.name}"

    def target(self, stubref: str) -> str:
        """What the snapshot is of: ``stub S`` or ``chat C of stub S``."""
        return f"stub {stubref}" if self.type == STUB_TYPE else f"chat {self.chat} of stub {stubref}"

    def describe(self, stubref: str) -> str:
        return f"{self.type} snapshot {self.name!r} of {self.target(stubref)}"

    @property
    def file(self) -> str:
        return STUB_FILE if self.type == STUB_TYPE else CHAT_FILE


class Saved(NamedTuple):
    """A named snapshot's tip commit and what its trailers say."""

    ref: str
    selector: Selector
    commit: CommitInfo
    uuid: str
    created_at: str
    children: list[ChildSnapshot]

    def child_of(self, key: str) -> ChildSnapshot:
        """This snapshot as a parent's ``key`` child."""
        return ChildSnapshot(key=key, chat_name=self.selector.chat, stubber_snapshot_uuid=self.uuid, commit=self.commit.id)


def stub_refs_prefix(org: str, stubref: str) -> str:
    return f"{REFS_PREFIX}{org}/{stubref}"


def selector_of(relative_ref: str) -> Selector | None:
    """The selector a ref below ``refs/stubs/<org>/<stubref>/`` names, or None for a foreign shape."""
    parts = relative_ref.split("/")
    if parts[0] == STUB_TYPE and len(parts) == 2:
        return Selector(STUB_TYPE, parts[1])
    if parts[0] == CHAT_TYPE and len(parts) == 3:
        return Selector(CHAT_TYPE, parts[2], parts[1])
    return None


# --- reading ------------------------------------------------------------------------------------------


def read_saved(store: GitStore, ref: str, selector: Selector, tip: str) -> Saved:
    """A snapshot's tip, from its commit's trailers."""
    commit = store.objects.read_commit(tip)
    trailers = commit.trailers
    if not trailers.get("Snapshot-Uuid") or not trailers.get("Created-At"):
        raise RepositoryError(f"{ref} points at {tip}, which is not a gitsnap stub snapshot (no Snapshot-Uuid trailer)")
    return Saved(ref, selector, commit, trailers["Snapshot-Uuid"][0], trailers["Created-At"][0], _children(ref, trailers))


def _children(ref: str, trailers: dict[str, list[str]]) -> list[ChildSnapshot]:
    uuids, entries = trailers.get("Child-Snapshot", []), trailers.get("Child", [])
    if len(uuids) != len(entries):
        raise RepositoryError(f"{ref}: {len(uuids)} Child-Snapshot trailers but {len(entries)} Child trailers")
    children = []
    for child_uuid, entry in zip(uuids, entries):
        mapping, _, commit = entry.partition(" ")
        key, _, chat = mapping.partition("=")
        children.append(ChildSnapshot(key=key, chat_name=chat, stubber_snapshot_uuid=child_uuid, commit=commit))
    return children


def find_saved(store: GitStore, org: str, stubref: str, selector: Selector) -> Saved:
    """The named snapshot's tip; NotFound when there is none."""
    ref = selector.ref(org, stubref)
    tip = store.refs.read(ref)
    if tip is None:
        raise NotFound(f"no {selector.describe(stubref)} in org {org} (gitsnap stub snapshot list {stubref})",
                       title="Snapshot not found")
    return read_saved(store, ref, selector, tip)


def saved_blob(store: GitStore, commit: CommitInfo, file: str) -> str:
    entry = store.trees.lookup(commit.tree, file)
    if entry is None:
        raise RepositoryError(f"snapshot commit {commit.id} has no {file}")
    return entry[1]


def child_blob(store: GitStore, child: ChildSnapshot) -> str:
    return saved_blob(store, store.objects.read_commit(child.commit), CHAT_FILE)


def snapshot_data(store: GitStore, saved: Saved) -> dict:
    """What was saved: the chat's state, or stub.yaml's data plus each child's chat state by chat name."""
    data = yamlio.load(store.objects.read_blob(saved_blob(store, saved.commit, saved.selector.file)))
    if saved.children:
        data[CHATS] = {c.chat_name: yamlio.load(store.objects.read_blob(child_blob(store, c))) for c in saved.children}
    return data


# --- saving ------------------------------------------------------------------------------------------


def save_one(store: GitStore, org: str, stubref: str, selector: Selector, blob: str,
             children: list[ChildSnapshot]) -> tuple[Saved, bool]:
    """Move the named ref to a commit of ``blob`` (CAS), unless the tip already holds it and these children."""
    ref = selector.ref(org, stubref)
    tree = store.trees.build({selector.file: Existing(BLOB_MODE, blob)})

    def build(tip: str | None) -> tuple[str | None, tuple[str, bool]]:
        old = read_saved(store, ref, selector, tip) if tip else None
        if old and old.commit.tree == tree and old.children == children:
            return None, (tip, False)
        snapshot_uuid = old.uuid if old else str(uuid.uuid4())
        created_at = old.created_at if old else iso_utc(store.identity("COMMITTER").time)
        message = _save_message(org, stubref, selector, snapshot_uuid, created_at, children)
        commit = store.write_commit(tree, [tip] if tip else [], message)
        return commit, (commit, True)

    commit, was_saved = store.refs.update(ref, build)
    return read_saved(store, ref, selector, commit), was_saved


def _save_message(org: str, stubref: str, selector: Selector, snapshot_uuid: str, created_at: str,
                  children: list[ChildSnapshot]) -> str:
    trailers = [("Snapshot-Uuid", snapshot_uuid), ("Snapshot-Type", selector.type),
                ("Snapshot-Name", selector.name), ("Stubref", stubref), ("Org", org)]
    if selector.chat is not None:
        trailers.append(("Chat", selector.chat))
    trailers.append(("Created-At", created_at))
    for child in children:
        trailers.append(("Child-Snapshot", child.stubber_snapshot_uuid))
        trailers.append(("Child", f"{child.key}={child.chat_name} {child.commit}"))
    return format_message(f"Save {selector.target(stubref)} as {selector.name}", trailers=trailers)

