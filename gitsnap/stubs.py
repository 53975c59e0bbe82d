"""Stub snapshots: named, overwritable saves of a stub or of one of its GPT chat tasks.

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
from collections.abc import Mapping
from dataclasses import dataclass

from . import yamlio
from .errors import Conflict, InvalidInput, NotFound, RepositoryError
from .gitstore import BLOB_MODE, CommitInfo, Existing, GitStore, format_message
from .models import (
    ChildSnapshot,
    DeletedStubSnapshot,
    StubDeleteResult,
    StubRestoreResult,
    StubSnapshot,
    StubSnapshotList,
    StubSnapshotResult,
    StubSnapshotSummary,
    iso_utc,
)
from .orgs import org_ref, org_tip
from .sources import STUB_FILE, load_stub
from .stub_live import (
    CHATS_DIR,
    STUBS_DIR,
    YAML,
    LiveStub,
    commit_stub_document,
    find_stub_org,
    live_stub_of,
    read_live_stub,
    require_identifier,
    stub_not_found,
    write_live,
)

STUB_TYPE = "stub"
CHAT_TYPE = "gpt_chat_task"
SNAPSHOT_TYPES = (STUB_TYPE, CHAT_TYPE)
DEFAULT_NAME = "_default"
CHAT_FILE = "chat.yaml"
REFS_PREFIX = "refs/stubs/"


@dataclass(frozen=True)
class Selector:
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

    def describe(self, stubref: str) -> str:
        if self.type == STUB_TYPE:
            return f"stub snapshot {self.name!r} of {stubref}"
        return f"{CHAT_TYPE} snapshot {self.name!r} of chat {self.chat} of stub {stubref}"

    @property
    def file(self) -> str:
        return STUB_FILE if self.type == STUB_TYPE else CHAT_FILE


@dataclass(frozen=True)
class Saved:
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
    commit = store.read_commit(tip)
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
    tip = store.read_ref(ref)
    if tip is None:
        raise NotFound(f"no {selector.describe(stubref)} in org {org} (gitsnap stub snapshot list {stubref})",
                       title="Snapshot not found")
    return read_saved(store, ref, selector, tip)


def _saved_blob(store: GitStore, commit: CommitInfo, file: str) -> str:
    entry = store.lookup(commit.tree, file)
    if entry is None:
        raise RepositoryError(f"snapshot commit {commit.id} has no {file}")
    return entry[1]


def _child_blob(store: GitStore, child: ChildSnapshot) -> str:
    return _saved_blob(store, store.read_commit(child.commit), CHAT_FILE)


def snapshot_data(store: GitStore, saved: Saved) -> dict:
    """What was saved: the chat's state, or stub.yaml's data plus each child's chat state by chat name."""
    data = yamlio.load(store.read_blob(_saved_blob(store, saved.commit, saved.selector.file)))
    if saved.children:
        data[CHATS_DIR] = {c.chat_name: yamlio.load(store.read_blob(_child_blob(store, c))) for c in saved.children}
    return data


def snapshot_result(store: GitStore, org: str, stubref: str, saved: Saved, was_saved: bool = False) -> StubSnapshotResult:
    snapshot = StubSnapshot(
        stubber_snapshot_uuid=saved.uuid,
        child_snapshot_references=[c.stubber_snapshot_uuid for c in saved.children],
        created_at=saved.created_at,
        orguuid=org,
        snapshot=snapshot_data(store, saved),
        snapshot_name=saved.selector.name,
        snapshot_type=saved.selector.type,
        stubref=stubref,
        updated_at=iso_utc(saved.commit.committer.time),
    )
    return StubSnapshotResult(snapshot=snapshot, saved=was_saved, commit=saved.commit.id,
                              chat_name=saved.selector.chat, children=saved.children)


def _snapshot_org(store: GitStore, stubref: str, org: str | None) -> str:
    """The org named, or the one that holds the stub live or has snapshots of it."""
    require_identifier("stubref", stubref)
    if org is not None:
        require_identifier("org", org)
        return org
    return find_stub_org(store, stubref, lambda candidate: bool(store.list_refs(stub_refs_prefix(candidate, stubref))))


def show_snapshot(store: GitStore, stubref: str, org: str | None, selector: Selector) -> StubSnapshotResult:
    selector.check()
    org = _snapshot_org(store, stubref, org)
    return snapshot_result(store, org, stubref, find_saved(store, org, stubref, selector))


def list_snapshots(store: GitStore, stubref: str, org: str | None) -> StubSnapshotList:
    """Every named snapshot of a stub (both types), stub snapshots first, with its number of saves."""
    org = _snapshot_org(store, stubref, org)
    prefix = stub_refs_prefix(org, stubref)
    refs = store.list_refs(prefix)
    if not refs and not _is_live(store, org, stubref):
        raise stub_not_found(stubref, org)
    summaries = []
    for ref, tip in refs.items():
        selector = selector_of(ref[len(prefix) + 1:])
        if selector is None:
            continue
        saved = read_saved(store, ref, selector, tip)
        summaries.append(StubSnapshotSummary(
            snapshot_type=selector.type, snapshot_name=selector.name, chat_name=selector.chat,
            stubber_snapshot_uuid=saved.uuid, created_at=saved.created_at,
            updated_at=iso_utc(saved.commit.committer.time), saves=sum(1 for _ in store.history(tip)),
            commit=tip, children=saved.children))
    summaries.sort(key=lambda s: (s.snapshot_type != STUB_TYPE, s.chat_name or "", s.snapshot_name))
    return StubSnapshotList(orguuid=org, stubref=stubref, snapshots=summaries)


def _is_live(store: GitStore, org: str, stubref: str) -> bool:
    tip = store.read_ref(org_ref(org))
    return tip is not None and read_live_stub(store, store.read_commit(tip).tree, stubref) is not None


# --- saving ------------------------------------------------------------------------------------------


def save_snapshot(store: GitStore, stubref: str, org: str | None = None, selector: Selector = Selector(),
                  all_chats: bool = False, children: Mapping[str, str] | None = None,
                  source: str | None = None) -> StubSnapshotResult:
    """Save the stub's (or one chat's) live state under a name; children first, then the parent.

    Everything is validated before anything is written. With ``source`` the stub document becomes
    the live state first, and exactly that state is saved.
    """
    require_identifier("stubref", stubref)
    selector.check()
    children = dict(children or {})
    _check_children(selector, all_chats, children)
    document = load_stub(source) if source is not None else None
    if document is not None and document.stubref != stubref:
        raise InvalidInput(f"{source}: stubref {document.stubref!r} is not {stubref!r}, the stub being saved")
    org = find_stub_org(store, stubref) if org is None else org
    require_identifier("org", org)
    tip = org_tip(store, org)
    live = live_stub_of(store, document) if document else read_live_stub(store, store.read_commit(tip).tree, stubref)
    if live is None:
        raise stub_not_found(stubref, org)
    chosen = {chat: chat for chat in live.chats} if all_chats else children
    for chat in [selector.chat] if selector.type == CHAT_TYPE else chosen.values():
        _check_chat(live, stubref, chat)

    if document is not None:
        commit_stub_document(store, org, document)
    if selector.type == CHAT_TYPE:
        saved, was_saved = _save(store, org, stubref, selector, live.chats[selector.chat], [])
        return snapshot_result(store, org, stubref, saved, was_saved)
    child_refs = []
    for key, chat in sorted(chosen.items()):
        child, _ = _save(store, org, stubref, Selector(CHAT_TYPE, selector.name, chat), live.chats[chat], [])
        child_refs.append(child.child_of(key))
    saved, was_saved = _save(store, org, stubref, selector, live.stub_blob, child_refs)
    return snapshot_result(store, org, stubref, saved, was_saved)


def _check_children(selector: Selector, all_chats: bool, children: dict[str, str]) -> None:
    if (all_chats or children) and selector.type != STUB_TYPE:
        raise InvalidInput(f"--all-chats and --child are for --type {STUB_TYPE} only")
    if all_chats and children:
        raise InvalidInput("use --all-chats or --child, not both")
    seen: dict[str, str] = {}
    for key, chat in children.items():
        require_identifier("child key", key)
        require_identifier("chat name", chat)
        if chat in seen:
            raise InvalidInput(f"chat {chat} is chosen twice (--child {seen[chat]}={chat} and --child {key}={chat})")
        seen[chat] = key


def _check_chat(live: LiveStub, stubref: str, chat: str) -> None:
    if chat not in live.chats:
        known = ", ".join(sorted(live.chats)) or "none"
        raise NotFound(f"chat {chat} not found in stub {stubref} (its chats: {known})", title="Chat not found")


def _save(store: GitStore, org: str, stubref: str, selector: Selector, blob: str,
          children: list[ChildSnapshot]) -> tuple[Saved, bool]:
    """Move the named ref to a commit of ``blob`` (CAS), unless the tip already holds it and these children."""
    ref = selector.ref(org, stubref)
    tree = store.build_tree({selector.file: Existing(BLOB_MODE, blob)})

    def build(tip: str | None) -> tuple[str | None, tuple[str, bool]]:
        old = read_saved(store, ref, selector, tip) if tip else None
        if old and old.commit.tree == tree and old.children == children:
            return None, (tip, False)
        snapshot_uuid = old.uuid if old else str(uuid.uuid4())
        created_at = old.created_at if old else iso_utc(store.identity("COMMITTER").time)
        message = _save_message(org, stubref, selector, snapshot_uuid, created_at, children)
        commit = store.write_commit(tree, [tip] if tip else [], message)
        return commit, (commit, True)

    commit, was_saved = store.update_ref(ref, build)
    return read_saved(store, ref, selector, commit), was_saved


def _save_message(org: str, stubref: str, selector: Selector, snapshot_uuid: str, created_at: str,
                  children: list[ChildSnapshot]) -> str:
    what = f"stub {stubref}" if selector.type == STUB_TYPE else f"chat {selector.chat} of stub {stubref}"
    trailers = [("Snapshot-Uuid", snapshot_uuid), ("Snapshot-Type", selector.type),
                ("Snapshot-Name", selector.name), ("Stubref", stubref), ("Org", org)]
    if selector.chat is not None:
        trailers.append(("Chat", selector.chat))
    trailers.append(("Created-At", created_at))
    for child in children:
        trailers.append(("Child-Snapshot", child.stubber_snapshot_uuid))
        trailers.append(("Child", f"{child.key}={child.chat_name} {child.commit}"))
    return format_message(f"Save {what} as {selector.name}", trailers=trailers)


# --- restoring and deleting --------------------------------------------------------------------------


def restore_snapshot(store: GitStore, stubref: str, org: str | None, selector: Selector) -> StubRestoreResult:
    """Write a snapshot's stub.yaml and its children's chats (or its one chat) back in one live commit.

    Live chats the snapshot does not hold are kept.
    """
    selector.check()
    org = _snapshot_org(store, stubref, org)
    saved = find_saved(store, org, stubref, selector)
    blob = _saved_blob(store, saved.commit, selector.file)
    if selector.type == CHAT_TYPE:
        chats = {selector.chat: blob}
        stub_files: dict = {}
    else:
        chats = {child.chat_name: _child_blob(store, child) for child in saved.children}
        stub_files = {STUB_FILE: Existing(BLOB_MODE, blob)}
    if chats:
        stub_files[CHATS_DIR] = {f"{chat}{YAML}": Existing(BLOB_MODE, sha) for chat, sha in chats.items()}

    def spec(tree: str) -> dict:
        if selector.type == CHAT_TYPE and read_live_stub(store, tree, stubref) is None:
            raise NotFound(f"stub {stubref} is not in org {org}'s live state; restore a stub snapshot of it first",
                           title="Stub not found")
        return {STUBS_DIR: {stubref: stub_files}}

    def kept_chats(tree: str) -> list[str]:
        live = read_live_stub(store, tree, stubref)
        return sorted(set(live.chats) - set(chats)) if live and selector.type == STUB_TYPE else []

    trailers = [("Org", org), ("Stubref", stubref), ("Snapshot-Type", selector.type), ("Snapshot-Name", selector.name)]
    trailers += [("Chat", selector.chat)] if selector.chat else []
    trailers += [("Snapshot-Uuid", saved.uuid), ("Snapshot-Commit", saved.commit.id)]
    what = f"stub {stubref}" if selector.type == STUB_TYPE else f"chat {selector.chat} of stub {stubref}"
    message = format_message(f"Restore {what} from snapshot {selector.name}", trailers=trailers)
    change = write_live(store, org, spec, message, kept_chats)
    return StubRestoreResult(
        message="No changes" if change.skipped else "Restored", skipped=change.skipped, commit=change.commit,
        orguuid=org, stubref=stubref, snapshot_type=selector.type, snapshot_name=selector.name,
        chat_name=selector.chat, stubber_snapshot_uuid=saved.uuid, files=change.files, kept_chats=change.kept_chats)


def delete_snapshot(store: GitStore, stubref: str, org: str | None, selector: Selector,
                    with_children: bool = False) -> StubDeleteResult:
    """Delete a named snapshot (CAS); with ``with_children`` also the child snapshots it still references.

    The parent goes first, so a failure part-way leaves children without a parent, never a parent
    referencing deleted children. A child is deleted only while its tip has the uuid the parent
    recorded; one re-created or moved meanwhile is kept and reported.
    """
    selector.check()
    if with_children and selector.type != STUB_TYPE:
        raise InvalidInput(f"--with-children is for --type {STUB_TYPE} only")
    org = _snapshot_org(store, stubref, org)
    saved = find_saved(store, org, stubref, selector)
    store.delete_ref(saved.ref, saved.commit.id)
    deleted, kept = [_deleted(saved)], []
    for child in saved.children:
        removed = with_children and _delete_child(store, org, stubref, selector.name, child)
        if removed:
            deleted.append(removed)
        else:
            kept.append(child)
    return StubDeleteResult(message="Snapshot deleted", orguuid=org, stubref=stubref, deleted=deleted, kept_children=kept)


def _delete_child(store: GitStore, org: str, stubref: str, name: str, child: ChildSnapshot) -> DeletedStubSnapshot | None:
    selector = Selector(CHAT_TYPE, name, child.chat_name)
    ref = selector.ref(org, stubref)
    tip = store.read_ref(ref)
    current = read_saved(store, ref, selector, tip) if tip else None
    if current is None or current.uuid != child.stubber_snapshot_uuid:
        return None
    try:
        store.delete_ref(ref, tip)
    except Conflict:  # saved again meanwhile: it is reported as kept
        return None
    return _deleted(current)


def _deleted(saved: Saved) -> DeletedStubSnapshot:
    return DeletedStubSnapshot(snapshot_type=saved.selector.type, snapshot_name=saved.selector.name,
                               chat_name=saved.selector.chat, stubber_snapshot_uuid=saved.uuid,
                               ref=saved.ref, commit=saved.commit.id)
