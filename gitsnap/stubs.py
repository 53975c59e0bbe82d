"""Stub snapshots: save, list, show, restore and delete named snapshots of a stub or its chats.

How a snapshot is stored (refs, trees, trailers) is ``stub_refs``; the stub's live state in its
org's tree is ``stub_live``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from .errors import Conflict, InvalidInput, NotFound, each_readable
from .gitmessage import format_message
from .gitstore import GitStore
from .gittrees import BLOB_MODE, Existing
from .layout import STUBS, Place, nest
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
    require_identifier,
    unreadable_refs,
)
from .orgs import org_ref, org_tip, write_live
from .secretguard import SecretPolicy, guard_stub
from .sources import Source, load_stub, source_name
from .stub_live import (
    LiveStub,
    commit_stub_document,
    find_stub_org,
    live_stub_of,
    read_live_stub,
    stub_not_found,
)
from .stub_refs import (
    CHAT_TYPE,
    STUB_TYPE,
    Saved,
    Selector,
    child_blob,
    find_saved,
    read_saved,
    save_one,
    saved_blob,
    selector_of,
    snapshot_data,
    stub_refs_prefix,
)


def snapshot_result(store: GitStore, org: str, stubref: str, saved: Saved, was_saved: bool = False) -> StubSnapshotResult:
    """The platform's result shape for a snapshot's tip."""
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
    return stub_org(store, stubref)


def stub_org(store: GitStore, stubref: str, among: Collection[str] | None = None, live_only: bool = False) -> str:
    """The one org (of ``among``, when given) that holds the stub live or, unless ``live_only``, has snapshots of it."""
    require_identifier("stubref", stubref)

    def has_snapshots(candidate: str) -> bool:
        return bool(store.refs.list(stub_refs_prefix(candidate, stubref) + "/"))

    return find_stub_org(store, stubref, None if live_only else has_snapshots, among)


def show_snapshot(store: GitStore, stubref: str, org: str | None, selector: Selector) -> StubSnapshotResult:
    selector.check()
    org = _snapshot_org(store, stubref, org)
    return snapshot_result(store, org, stubref, find_saved(store, org, stubref, selector))


def list_snapshots(store: GitStore, stubref: str, org: str | None) -> StubSnapshotList:
    """Every named snapshot of a stub (both types), stub snapshots first, with its number of saves."""
    org = _snapshot_org(store, stubref, org)
    prefix = stub_refs_prefix(org, stubref)
    refs = store.refs.list(prefix + "/")
    if not refs and not _is_live(store, org, stubref):
        raise stub_not_found(stubref, org)
    def summary(ref: str, tip: str) -> StubSnapshotSummary:
        saved = read_saved(store, ref, selector_of(ref[len(prefix) + 1:]), tip)
        return StubSnapshotSummary(
            snapshot_type=saved.selector.type, snapshot_name=saved.selector.name, chat_name=saved.selector.chat,
            stubber_snapshot_uuid=saved.uuid, created_at=saved.created_at,
            updated_at=iso_utc(saved.commit.committer.time), saves=sum(1 for _ in store.objects.history(tip)),
            commit=tip, children=saved.children)

    ours = [(ref, tip) for ref, tip in sorted(refs.items()) if selector_of(ref[len(prefix) + 1:]) is not None]
    summaries, failures = each_readable(ours, summary)
    summaries.sort(key=lambda s: (s.snapshot_type != STUB_TYPE, s.chat_name or "", s.snapshot_name))
    return StubSnapshotList(orguuid=org, stubref=stubref, snapshots=summaries, unreadable=unreadable_refs(failures))


def _is_live(store: GitStore, org: str, stubref: str) -> bool:
    tip = store.refs.read(org_ref(org))
    return tip is not None and read_live_stub(store, store.objects.read_commit(tip).tree, stubref) is not None


# --- saving ------------------------------------------------------------------------------------------


def save_snapshot(store: GitStore, stubref: str, org: str | None = None, selector: Selector = Selector(),
                  all_chats: bool = False, children: Mapping[str, str] | None = None,
                  source: Source | None = None, secrets: SecretPolicy = SecretPolicy()) -> StubSnapshotResult:
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
        raise InvalidInput(f"{source_name(source)}: stubref {document.stubref!r} is not {stubref!r}, the stub being saved")
    redacted = []
    if document is not None:
        document, redacted = guard_stub(store, document, source_name(source), secrets)
    if org is None:
        org = find_stub_org(store, stubref)
    else:
        require_identifier("org", org)
    tip = org_tip(store, org)
    live = live_stub_of(store, document) if document else read_live_stub(store, store.objects.read_commit(tip).tree, stubref)
    if live is None:
        raise stub_not_found(stubref, org)
    chosen = {chat: chat for chat in live.chats} if all_chats else children
    for chat in [selector.chat] if selector.type == CHAT_TYPE else chosen.values():
        _check_chat(live, stubref, chat)

    if document is not None:
        commit_stub_document(store, org, document)
    if selector.type == CHAT_TYPE:
        saved, was_saved = save_one(store, org, stubref, selector, live.chats[selector.chat], [])
        return snapshot_result(store, org, stubref, saved, was_saved).replace(redacted=redacted)
    child_refs = []
    for key, chat in sorted(chosen.items()):
        child, _ = save_one(store, org, stubref, Selector(CHAT_TYPE, selector.name, chat), live.chats[chat], [])
        child_refs.append(child.child_of(key))
    saved, was_saved = save_one(store, org, stubref, selector, live.stub_blob, child_refs)
    return snapshot_result(store, org, stubref, saved, was_saved).replace(redacted=redacted)


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


# --- restoring and deleting --------------------------------------------------------------------------


def restore_snapshot(store: GitStore, stubref: str, org: str | None, selector: Selector) -> StubRestoreResult:
    """Write a snapshot's stub.yaml and its children's chats (or its one chat) back in one live commit.

    Live chats the snapshot does not hold are kept.
    """
    selector.check()
    org = _snapshot_org(store, stubref, org)
    saved = find_saved(store, org, stubref, selector)
    blob = saved_blob(store, saved.commit, selector.file)
    if selector.type == CHAT_TYPE:
        chats = {selector.chat: blob}
        files: dict = {}
    else:
        chats = {child.chat_name: child_blob(store, child) for child in saved.children}
        files = {Place(STUBS, stubref).path: Existing(BLOB_MODE, blob)}
    files.update({Place(STUBS, stubref, chat).path: Existing(BLOB_MODE, sha) for chat, sha in chats.items()})

    def spec(tree: str) -> dict:
        if selector.type == CHAT_TYPE and read_live_stub(store, tree, stubref) is None:
            raise NotFound(f"stub {stubref} is not in org {org}'s live state; restore a stub snapshot of it first",
                           title="Stub not found")
        return nest(files)

    def kept_chats(tree: str) -> list[str]:
        live = read_live_stub(store, tree, stubref)
        return sorted(set(live.chats) - set(chats)) if live and selector.type == STUB_TYPE else []

    trailers = [("Org", org), ("Stubref", stubref), ("Snapshot-Type", selector.type), ("Snapshot-Name", selector.name)]
    trailers += [("Chat", selector.chat)] if selector.chat else []
    trailers += [("Snapshot-Uuid", saved.uuid), ("Snapshot-Commit", saved.commit.id)]
    message = format_message(f"Restore {selector.target(stubref)} from snapshot {selector.name}", trailers=trailers)
    change = write_live(store, org, spec, message)
    return StubRestoreResult(
        message="No changes" if change.skipped else "Restored", skipped=change.skipped, commit=change.commit,
        orguuid=org, stubref=stubref, snapshot_type=selector.type, snapshot_name=selector.name,
        chat_name=selector.chat, stubber_snapshot_uuid=saved.uuid, files=change.files, kept_chats=kept_chats(change.base))


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
    store.refs.delete(saved.ref, saved.commit.id)
    deleted, kept = [_deleted(saved)], []
    for child in saved.children:
        removed = _delete_child(store, org, stubref, selector.name, child) if with_children else None
        if removed:
            deleted.append(removed)
        else:
            kept.append(child)
    return StubDeleteResult(message="Snapshot deleted", orguuid=org, stubref=stubref, deleted=deleted, kept_children=kept)


def _delete_child(store: GitStore, org: str, stubref: str, name: str, child: ChildSnapshot) -> DeletedStubSnapshot | None:
    selector = Selector(CHAT_TYPE, name, child.chat_name)
    ref = selector.ref(org, stubref)
    tip = store.refs.read(ref)
    current = read_saved(store, ref, selector, tip) if tip else None
    if current is None or current.uuid != child.stubber_snapshot_uuid:
        return None
    try:
        store.refs.delete(ref, tip)
    except Conflict:  # saved again meanwhile: it is reported as kept
        return None
    return _deleted(current)


def _deleted(saved: Saved) -> DeletedStubSnapshot:
    return DeletedStubSnapshot(snapshot_type=saved.selector.type, snapshot_name=saved.selector.name,
                               chat_name=saved.selector.chat, stubber_snapshot_uuid=saved.uuid,
                               ref=saved.ref, commit=saved.commit.id)
