"""Org snapshots: an org's live commit tagged with a name, a description and who took it.

Each snapshot is an annotated tag, so plain ``git clone`` brings it and ``git show`` reads it::

    refs/tags/snapshots/<org>/<id>    tag object "snapshots/<org>/<id>" -> a commit of the live branch

The tag message is the name, a blank line, the description, then trailers (``Snapshot-Id``,
``Source-Org``, ``Source-Org-Name``, ``Source-User``, ``Source-User-Name``, ``Source-User-Email``,
``Counts``, ``Created-At``): everything a listing shows comes from tag objects, never from trees.
The id is 24 hex digits like a Mongo ObjectId (4 bytes of seconds, 8 random), so ids sort by time.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Collection
from typing import NamedTuple

from . import layout, yamlio
from .errors import Conflict, InvalidInput, NotFound, RepositoryError, each_readable
from .gitmessage import check_one_line, check_text, format_message, printable, split_message
from .gitstore import GitStore
from .gittrees import TREE_MODE, Existing
from .layout import CONFIG_COLLECTIONS, ORG_FILE
from .models import (
    ApplyResult,
    Counts,
    ImportResult,
    OrgSnapshot,
    SnapshotList,
    SnapshotResult,
    SnapshotShow,
    is_identifier,
    iso_utc,
    require_identifier,
    unreadable_refs,
)
from .orgs import (
    Member,
    author_identity,
    commit_export,
    count_config,
    load_source,
    org_field,
    org_ref,
    org_tip,
)
from .progress import Progress
from .secretguard import SecretPolicy
from .sources import Source, source_name
from .tagcache import TagCache

SNAPSHOTS_PREFIX = "refs/tags/snapshots/"
SNAPSHOT_ID = re.compile(r"[0-9a-f]{24}")
NAME_MAX = 120
DESCRIPTION_MAX = 500


class Located(NamedTuple):
    """Where a snapshot's tag is: its org, id, ref and the tag object the ref holds."""

    org: str
    id: str
    ref: str
    tag: str


def snapshot_ref(org: str, snapshot_id: str) -> str:
    return f"{SNAPSHOTS_PREFIX}{org}/{snapshot_id}"


def new_snapshot_id(seconds: int) -> str:
    """4 bytes of seconds (big-endian) and 8 random bytes, as 24 hex digits."""
    return f"{max(0, seconds) & 0xFFFFFFFF:08x}{os.urandom(8).hex()}"


# --- input -------------------------------------------------------------------------------------------


def check_name(name: str) -> str:
    """The snapshot name without surrounding blanks: 1 to 120 characters on one line (it is the tag's subject)."""
    check_one_line("snapshot name", name)
    name = name.strip(" \t")
    if not name:
        raise InvalidInput(f"snapshot name is empty; give --name with 1 to {NAME_MAX} characters")
    if len(name) > NAME_MAX:
        raise InvalidInput(f"snapshot name is {len(name)} characters long; at most {NAME_MAX} are allowed")
    return name


def check_description(description: str) -> str:
    """The description without surrounding blank lines: at most 500 characters, any number of lines."""
    description = check_text("snapshot description", description).strip(" \t\r\n")
    if len(description) > DESCRIPTION_MAX:
        raise InvalidInput(f"snapshot description is {len(description)} characters long; "
                           f"at most {DESCRIPTION_MAX} are allowed")
    return description


def check_snapshot_id(value: str) -> str:
    """The id in lower case; InvalidInput unless it is 24 hex digits."""
    snapshot_id = value.lower()
    if not SNAPSHOT_ID.fullmatch(snapshot_id):
        raise InvalidInput(f"{value!r} is not a snapshot id (24 hex digits, as gitsnap snapshot list shows)")
    return snapshot_id


# --- reading -----------------------------------------------------------------------------------------


def locate(store: GitStore, snapshot_id: str, among: Collection[str] | None = None) -> Located | None:
    """The snapshot's tag, looked up under each org's (or each of ``among``'s) snapshot directory by name."""
    found = []
    for org in sorted(store.refs.children(SNAPSHOTS_PREFIX)):
        if not is_identifier(org) or (among is not None and org not in among):
            continue
        ref = snapshot_ref(org, snapshot_id)
        tag = store.refs.read(ref)
        if tag is not None:
            found.append(Located(org, snapshot_id, ref, tag))
    if len(found) > 1:
        raise RepositoryError(f"snapshot {snapshot_id} is tagged in several orgs: {', '.join(f.ref for f in found)}; "
                              f"delete all but one with git update-ref -d")
    return found[0] if found else None


def find_snapshot(store: GitStore, snapshot_id: str, among: Collection[str] | None = None) -> Located:
    """The snapshot's tag; NotFound when there is none (in the orgs ``among``, when given: the same NotFound)."""
    snapshot_id = check_snapshot_id(snapshot_id)
    located = locate(store, snapshot_id, among)
    if located is None:
        raise NotFound(f"snapshot {snapshot_id} not found in {store.path} (gitsnap snapshot list)",
                       title="Snapshot not found")
    return located


def read_snapshot(store: GitStore, located: Located) -> OrgSnapshot:
    """A snapshot from its tag object alone: the message's subject, body and trailers, and the tagger."""
    try:
        tag = store.objects.read_tag(located.tag)
    except NotFound:
        raise RepositoryError(f"{located.ref} is not an annotated tag, so not a gitsnap snapshot")
    subject, description, trailers = split_message(tag.message)

    def trailer(key: str) -> str:
        values = trailers.get(key)
        if not values:
            raise RepositoryError(f"{located.ref}: tag {tag.id} has no {key} trailer, so it is not a gitsnap snapshot")
        return values[-1]

    if trailer("Snapshot-Id") != located.id:
        raise RepositoryError(f"{located.ref}: tag {tag.id} is snapshot {trailer('Snapshot-Id')}, not {located.id}")
    created_at = iso_utc(tag.tagger.time)
    return OrgSnapshot(
        id=located.id, name=subject, description=description,
        source_org_id=trailer("Source-Org"), source_org_name=trailer("Source-Org-Name"),
        source_user_id=trailer("Source-User"), source_user_email=trailer("Source-User-Email"),
        source_user_name=trailer("Source-User-Name"), counts=_parse_counts(located.ref, trailer("Counts")),
        created_by_name=tag.tagger.name, created_at=created_at, updated_at=created_at,
        commit=tag.target, tag=tag.id)


def _cached_snapshot(store: GitStore, cache: TagCache, located: Located) -> OrgSnapshot:
    """``read_snapshot``, through the summaries of tags read before."""
    summary = cache.get(located.tag)
    if summary is not None and summary[:1] == [located.id] and tuple(map(type, summary)) == _SUMMARY_TYPES:
        *fields, pipelines, automations, prompts, templates, created_by_name, created_at, commit = summary
        return OrgSnapshot.from_values(*fields, Counts.from_values(pipelines, automations, prompts, templates),
                                       created_by_name, created_at, created_at, commit, located.tag)
    snapshot = read_snapshot(store, located)
    counts = snapshot.counts
    cache.put(located.tag, [snapshot.id, snapshot.name, snapshot.description, snapshot.source_org_id,
                            snapshot.source_org_name, snapshot.source_user_id, snapshot.source_user_email,
                            snapshot.source_user_name, counts.pipelines, counts.automations, counts.prompts,
                            counts.templates, snapshot.created_by_name, snapshot.created_at, snapshot.commit])
    return snapshot


# A cached summary: OrgSnapshot's fields from id to source_user_name, the four counts, created_by_name,
# created_at, commit (updated_at is created_at; the tag is the cache's key).
_SUMMARY_TYPES = (str,) * 8 + (int,) * 4 + (str,) * 3


def _parse_counts(ref: str, text: str) -> Counts:
    counts = {}
    for item in text.split():
        key, _, value = item.partition("=")
        if key in CONFIG_COLLECTIONS and value.isdigit():
            counts[key] = int(value)
    if set(counts) != set(CONFIG_COLLECTIONS):
        raise RepositoryError(f"{ref}: cannot read the Counts trailer {text!r}")
    return Counts(**counts)


def _format_counts(counts: Counts) -> str:
    return " ".join(f"{collection}={getattr(counts, collection)}" for collection in CONFIG_COLLECTIONS)


def read_member(store: GitStore, tree: str, org: str, user_id: str) -> Member:
    """A user of the org tree (``users/<id>.yaml``); NotFound naming the user and the org."""
    entry = store.trees.lookup(tree, layout.entity_path("users", user_id))
    data = yamlio.load(store.objects.read_blob(entry[1])) if entry else None
    if not isinstance(data, dict):
        raise NotFound(f"user {user_id} is not a member of org {org}", title="User not found")
    return Member(user_id, str(data.get("name", "")), str(data.get("email", "")))


# --- operations --------------------------------------------------------------------------------------


def create_snapshot(store: GitStore, org: str, user_id: str, name: str, description: str = "",
                    source: Source | None = None, progress: Progress | None = None,
                    secrets: SecretPolicy = SecretPolicy()) -> SnapshotResult:
    """Tag the org's live commit (after importing ``source`` when given) as a new snapshot.

    Everything is checked before anything is written: with ``source``, a bad name, a source for
    another org or a user who is not a member leaves no import commit either.
    """
    name, description = check_name(name), check_description(description)
    require_identifier("org", org)
    require_identifier("user", user_id)
    imported = _import_source(store, org, user_id, source, progress, secrets) if source is not None else None
    tip = imported.commit if imported else org_tip(store, org)
    tree = store.objects.read_commit(tip).tree
    user = read_member(store, tree, org, user_id)
    tagger = store.identity("COMMITTER")
    snapshot_id = new_snapshot_id(tagger.time)
    trailers = [
        ("Snapshot-Id", snapshot_id), ("Source-Org", org), ("Source-Org-Name", org_field(store, tree, "name")),
        ("Source-User", user_id), ("Source-User-Name", user.name), ("Source-User-Email", user.email),
        ("Counts", _format_counts(count_config(store, tree))), ("Created-At", iso_utc(tagger.time)),
    ]
    message = format_message(name, description, trailers)
    tag = store.write_tag(tip, f"snapshots/{org}/{snapshot_id}", message, tagger)
    located = Located(org, snapshot_id, snapshot_ref(org, snapshot_id), tag)
    if not store.refs.swap(located.ref, None, tag):
        raise Conflict(f"{located.ref} already exists; run the command again for a new id")
    return SnapshotResult(message="Snapshot created", snapshot=read_snapshot(store, located), imported=imported)


def _import_source(store: GitStore, org: str, user_id: str, source: Source, progress: Progress | None,
                   secrets: SecretPolicy) -> ImportResult:
    """Make ``source`` the org's live state; the user is checked among its users before the commit."""
    export = load_source(store, source, progress)
    if export.org.id != org:
        raise InvalidInput(f"{source_name(source)} holds org {export.org.id}, not {org} (--org); nothing was written")
    return commit_export(store, export, user_id, None, secrets)


def list_snapshots(store: GitStore, org: str | None = None, among: Collection[str] | None = None) -> SnapshotList:
    """Every snapshot (or one org's, or those of the orgs ``among``), newest first, read from the tag objects only."""
    prefixes = [SNAPSHOTS_PREFIX]
    if org is not None:
        require_identifier("org", org)
        prefixes = [f"{SNAPSHOTS_PREFIX}{org}/"]
    elif among is not None:
        prefixes = [f"{SNAPSHOTS_PREFIX}{name}/" for name in sorted(among) if is_identifier(name)]
    located, orgs = [], {}  # orgs: whether each org's name is an identifier, checked once per org
    for ref, tag in (item for prefix in prefixes for item in store.refs.list(prefix).items()):
        parts = ref[len(SNAPSHOTS_PREFIX):].split("/")
        if len(parts) != 2 or not SNAPSHOT_ID.fullmatch(parts[1]):
            continue
        if parts[0] not in orgs:
            orgs[parts[0]] = is_identifier(parts[0])
        if orgs[parts[0]]:
            located.append((ref, Located(parts[0], parts[1], ref, tag)))  # other refs there are not gitsnap's
    tags: dict[str, list[str]] = {}  # org -> its snapshots' tags; each org's cache is its own file
    for _ref, where in located:
        tags.setdefault(where.org, []).append(where.tag)
    caches = {name: TagCache(store.path, f"snapshots/{name}", writable=not store.dry_run) for name in tags}
    snapshots, failures = each_readable(located, lambda _ref, where: _cached_snapshot(store, caches[where.org], where))
    for name, cache in caches.items():
        cache.save(tags[name])
    if org is not None and not located:
        org_tip(store, org)  # an org never imported is not found; a known org has no snapshots yet
    snapshots.sort(key=lambda snapshot: snapshot.id, reverse=True)
    return SnapshotList(snapshots=snapshots, unreadable=unreadable_refs(failures))


def show_snapshot(store: GitStore, snapshot_id: str, among: Collection[str] | None = None) -> SnapshotShow:
    return SnapshotShow(snapshot=read_snapshot(store, find_snapshot(store, snapshot_id, among)))


def delete_snapshot(store: GitStore, snapshot_id: str, among: Collection[str] | None = None) -> SnapshotResult:
    """Delete the snapshot's tag ref (CAS); the tag object stays until git gc."""
    located = find_snapshot(store, snapshot_id, among)
    snapshot = read_snapshot(store, located)
    store.refs.delete(located.ref, located.tag)
    return SnapshotResult(message="Snapshot deleted", snapshot=snapshot)


# --- apply -------------------------------------------------------------------------------------------


def apply_snapshot(store: GitStore, snapshot_id: str, to_org: str, to_name: str | None = None,
                   user_id: str | None = None, replace_config: bool = False,
                   among: Collection[str] | None = None) -> ApplyResult:
    """Onboard an org from a snapshot: its pipelines, automations, prompts and templates.

    A new org gets a root commit holding them and an org.yaml of its own (no users, no stubs). An
    existing org is refused unless ``replace_config``: then those four collections are replaced in
    a commit on its branch and its org.yaml, users and stubs are kept. Subtrees are reused by id.
    """
    require_identifier("org", to_org)
    if to_name is not None:
        to_name = check_org_name(to_name)
    if user_id is not None:
        require_identifier("user", user_id)
    located = find_snapshot(store, snapshot_id, among)
    snapshot = read_snapshot(store, located)
    tree = store.objects.read_commit(snapshot.commit).tree
    author = author_identity(store, read_member(store, tree, located.org, user_id)) if user_id else None
    config = {collection: _config_subtree(store, tree, collection) for collection in CONFIG_COLLECTIONS}
    _check_target(store, to_org, to_name, replace_config, store.refs.read(org_ref(to_org)))
    trailers = [("Based-On-Snapshot", snapshot.id), ("Org", to_org), ("Source-Org", located.org)]
    trailers += [("User", user_id)] if user_id else []

    def build(tip: str | None) -> tuple[str | None, ApplyResult]:
        org_name = _check_target(store, to_org, to_name, replace_config, tip)
        if tip is None:
            from .records import Org

            org_file = yamlio.dump(Org.model_validate({"id": to_org, "name": org_name}).canonical())
            new_tree = store.trees.build({**{c: e for c, e in config.items() if e}, ORG_FILE: org_file})
        else:
            base = store.objects.read_commit(tip).tree
            new_tree = store.trees.build(config, base=base, replace=False)
            if new_tree == base:
                return None, _applied(store, snapshot, to_org, org_name, tip, new_tree, skipped=True, created=False)
        message = format_message(f"Apply snapshot {snapshot.name} to {printable(org_name)}", trailers=trailers)
        commit = store.write_commit(new_tree, [tip] if tip else [], message, author)
        return commit, _applied(store, snapshot, to_org, org_name, commit, new_tree, skipped=False, created=tip is None)

    return store.refs.update(org_ref(to_org), build)


def check_org_name(name: str) -> str:
    """A new org's name without surrounding blanks: one non-empty line (it goes into the commit subject)."""
    name = check_one_line("org name", name).strip(" \t")
    if not name:
        raise InvalidInput("org name is empty; give --to-name a name")
    return name


def _check_target(store: GitStore, org: str, to_name: str | None, replace_config: bool, tip: str | None) -> str:
    """The target org's name; InvalidInput when applying there is not allowed as asked."""
    if tip is None:
        if to_name is None:
            raise InvalidInput(f"org {org} does not exist yet; give it a name with --to-name")
        return to_name
    if not replace_config:
        raise InvalidInput(f"org {org} already exists; --replace-config replaces its pipelines, automations, "
                           f"prompts and templates (keeping its org.yaml, users and stubs)")
    current = org_field(store, store.objects.read_commit(tip).tree, "name")
    if to_name is not None and to_name != current:
        raise InvalidInput(f"--replace-config keeps org {org}'s org.yaml: it is named {current!r}, not {to_name!r}; "
                           f"leave out --to-name")
    return current


def _config_subtree(store: GitStore, tree: str, collection: str) -> Existing | None:
    entry = store.trees.lookup(tree, collection)
    return Existing(TREE_MODE, entry[1]) if entry and stat.S_ISDIR(entry[0]) else None


def _applied(store: GitStore, snapshot: OrgSnapshot, org: str, org_name: str, commit: str, tree: str,
             skipped: bool, created: bool) -> ApplyResult:
    return ApplyResult(message="No changes" if skipped else "Snapshot applied", org_id=org, org_name=org_name,
                       snapshot_id=snapshot.id, commit=commit, skipped=skipped, counts=count_config(store, tree),
                       created=created)
