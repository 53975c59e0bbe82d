"""An org's live state: import (full replace), export, list, log, drift, and a dry run's changes.

Everything that reads or moves ``refs/heads/orgs/<org>`` is here, so the live branch's rules (CAS,
author, the one-document form) are read in one place; the tree's layout is ``layout``'s.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable, Collection
from typing import TYPE_CHECKING, Any, NamedTuple

from . import layout, yamlio
from .errors import InvalidInput, NotFound, RepositoryError, each_readable
from .gitmessage import Identity, check_one_line, format_message, printable
from .gitstore import GitStore
from .gittrees import BLOB_MODE, Existing, TreeSpec
from .models import (
    Counts,
    DiffSide,
    ExportResult,
    ImportResult,
    LogEntry,
    OrgList,
    OrgLog,
    OrgSummary,
    RefChange,
    SnapshotDiff,
    TreeChanges,
    is_identifier,
    iso_utc,
    require_identifier,
    unreadable_refs,
)
from .progress import Progress
from .secretguard import SecretPolicy, guard_export
from .sources import Source, load_export, source_name

if TYPE_CHECKING:
    from .records import OrgExport, User

ORGS_PREFIX = "refs/heads/orgs/"
STAT_CACHE_DIR = "gitsnap/stat-cache"  # inside the repository directory, never in a ref


def org_ref(org_id: str) -> str:
    return ORGS_PREFIX + org_id


def org_tip(store: GitStore, org_id: str) -> str:
    """The live branch's tip; InvalidInput for a name no org can have, NotFound when the org was never imported."""
    require_identifier("org", org_id)
    tip = store.refs.read(org_ref(org_id))
    if tip is None:
        raise org_not_found(store, org_id)
    return tip


def org_not_found(store: GitStore, org_id: str) -> NotFound:
    return NotFound(f"org {org_id} not found in {store.path} (gitsnap org list)", title="Org not found")


def find_org(store: GitStore, kind: str, key: str, in_tree: Callable[[str], bool],
             has_refs: Callable[[str], bool] | None = None, among: Collection[str] | None = None) -> str:
    """The one org whose live tree holds ``key`` (``in_tree(tree)``) or, with ``has_refs``, has refs of it.

    ``kind`` names what is looked for in the errors: ``stub``, ``prompt``. With ``among``, only
    those orgs are searched, and the errors name no other org (the HTTP service's tokens).
    """
    def holds(org: str, tip: str) -> bool:
        return in_tree(store.objects.read_commit(tip).tree) or bool(has_refs and has_refs(org))

    candidates = [(org, tip) for org, tip in org_refs(store) if among is None or org in among]
    matches, _ = each_readable(candidates, lambda org, tip: (org, holds(org, tip)))  # verify names the rest
    found = [org for org, held in matches if held]
    if len(found) > 1:
        raise InvalidInput(f"{kind} {key} is in several orgs: {', '.join(found)}; choose one with --org")
    if not found:
        where = "any org (gitsnap org list)" if among is None else _orgs_text(among)
        raise NotFound(f"{kind} {key} not found in {where}", title=f"{kind.capitalize()} not found")
    return found[0]


def _orgs_text(orgs: Collection[str]) -> str:
    if len(orgs) == 1:
        return f"org {next(iter(orgs))}"
    return f"any of the orgs {', '.join(sorted(orgs))}" if orgs else "any of the orgs given (none)"


class LiveChange(NamedTuple):
    """What one commit on the live branch changed (``commit`` is the tip when nothing did)."""

    commit: str
    skipped: bool
    files: list[str]
    base: str  # the live tree the change was laid over


def write_live(store: GitStore, org: str, spec: Callable[[str], TreeSpec], message: str,
               author: Identity | None = None) -> LiveChange:
    """Lay ``spec(tip tree)`` over the org's live tree in one commit (CAS, rebuilt on a lost race)."""

    def build(tip: str | None) -> tuple[str | None, LiveChange]:
        if tip is None:
            raise org_not_found(store, org)
        base = store.objects.read_commit(tip).tree
        tree = store.trees.build(spec(base), base=base, replace=False)
        files = [path for path, _, _ in store.trees.diff(base, tree)]
        if tree == base:
            return None, LiveChange(tip, True, files, base)
        commit = store.write_commit(tree, [tip], message, author)
        return commit, LiveChange(commit, False, files, base)

    return store.refs.update(org_ref(org), build)


def load_tree_document(store: GitStore, tree: str, name: Callable[[str], str] = str) -> layout.Assembled:
    """The one-document form of an org tree, with a problem for each file that is not a readable part of it."""
    files = {path: (mode, sha) for path, mode, sha in store.trees.walk(tree)}
    problems: list[tuple[str, str]] = []

    def load(path: str) -> Any:
        mode, sha = files[path]
        if not stat.S_ISREG(mode):
            problems.append((name(path), f"not a regular file (mode {mode:o})"))
            return None
        try:
            return yamlio.load(store.objects.read_blob(sha))
        except yamlio.UNREADABLE as error:
            problems.append((name(path), f"cannot be read as YAML ({str(error).splitlines()[0]})"))
            return None

    assembled = layout.assemble(files, load, name)
    assembled.problems[:0] = problems
    if layout.ORG not in assembled.document:
        assembled.problems.append((name(layout.ORG_FILE), "missing: this is not an org tree"))
    return assembled


def read_org_document(store: GitStore, tree: str) -> dict[str, Any]:
    """The one-document form of an org tree; RepositoryError naming each file that does not fit."""
    assembled = load_tree_document(store, tree)
    if assembled.problems:
        lines = [f"  {file}: {problem}" for file, problem in assembled.problems]
        raise RepositoryError(f"tree {tree} is not an org tree gitsnap can read:", problems=lines)
    return assembled.document


def count_config(store: GitStore, tree: str) -> Counts:
    """Entities per config collection, read from the tree's entries (no blob is read)."""
    counts = {}
    for collection in layout.CONFIG_COLLECTIONS:
        subtree = store.trees.lookup(tree, collection)
        counts[collection] = store.trees.size(subtree[1]) if subtree and stat.S_ISDIR(subtree[0]) else 0
    return Counts(**counts)


def find_user(users: list[User], user_id: str, org_id: str) -> User:
    for user in users:
        if user.id == user_id:
            return user
    raise NotFound(f"user {user_id} is not a member of org {org_id}", title="User not found")


def import_org(store: GitStore, source: Source, user_id: str | None = None, message: str | None = None,
               progress: Progress | None = None, name: str | None = None, org: str | None = None,
               secrets: SecretPolicy = SecretPolicy()) -> ImportResult:
    """Replace an org's live state with ``source``; no commit when nothing changed.

    With ``org``, the source must be that org's export (the HTTP service's ``PUT /api/orgs/{orgId}``).
    """
    export = load_source(store, source, progress, name)
    if org is not None and export.org.id != org:
        raise InvalidInput(f"{source_name(source, name)} holds org {export.org.id}, not {org}; nothing was written")
    return commit_export(store, export, user_id, message, secrets)


def load_source(store: GitStore, source: Source, progress: Progress | None = None, name: str | None = None) -> OrgExport:
    """Read and validate ``source``; directory files identical to the live tree's blobs are reused unread."""
    return load_export(source, progress, lambda org_id: _live_entity_files(store, org_id), name,
                       os.path.join(store.path, STAT_CACHE_DIR))


def _live_entity_files(store: GitStore, org_id: str) -> dict[str, str]:
    """path -> blob id of the entity files in an org's live tree (empty for a new org)."""
    if not is_identifier(org_id) or (tip := store.refs.read(org_ref(org_id))) is None:
        return {}
    tree = store.objects.read_commit(tip).tree
    files = {}
    for collection in layout.ENTITY_COLLECTIONS:
        subtree = store.trees.lookup(tree, collection)
        for name, _, sha in store.trees.entries(subtree[1]) if subtree and stat.S_ISDIR(subtree[0]) else []:
            files[f"{collection}/{name}"] = sha
    return files


def commit_export(store: GitStore, export: OrgExport, user_id: str | None, message: str | None,
                  secrets: SecretPolicy = SecretPolicy()) -> ImportResult:
    """Commit a validated export as the org's live state (CAS on the live branch), its secrets refused first."""
    org = export.org
    if message is not None:
        check_one_line("commit message", message)
    author = author_identity(store, _import_user(store, export, user_id)) if user_id else None
    redacted = guard_export(store, export, secrets)
    spec = export_tree_spec(export)

    def build(tip: str | None) -> tuple[str | None, ImportResult]:
        parent_tree = store.objects.read_commit(tip).tree if tip else None
        tree = store.trees.build(spec, base=parent_tree)
        changes = _tree_changes(store, parent_tree, tree)
        counts = count_config(store, tree)
        if tip and tree == parent_tree:
            return None, ImportResult(message="No changes", skipped=True, org_id=org.id, org_name=org.name,
                                      commit=tip, tree=tree, files=changes, counts=counts, redacted=redacted)
        trailers = [("Org", org.id)] + ([("User", user_id)] if user_id else [])
        subject = message or f"Import {printable(org.name)}"
        body = f"{changes.added} files added, {changes.changed} changed, {changes.removed} removed"
        commit = store.write_commit(tree, [tip] if tip else [], format_message(subject, body, trailers), author)
        return commit, ImportResult(message="Imported", skipped=False, org_id=org.id, org_name=org.name,
                                    commit=commit, tree=tree, files=changes, counts=counts, redacted=redacted)

    return store.refs.update(org_ref(org.id), build)


def export_tree_spec(export: OrgExport) -> TreeSpec:
    """The org tree of a validated export, its unchanged directory files reused by blob id."""
    return layout.tree_spec(export, {path: Existing(BLOB_MODE, sha) for path, sha in export._unchanged_files.items()})


def drift(store: GitStore, org_id: str, source: Source, patch: bool = False, name: str | None = None) -> SnapshotDiff:
    """What differs from the org's live state to ``source`` (what the platform exports now); nothing is written.

    Unchanged files of a directory source are compared by blob id without being parsed, and equal
    subtrees are never read: an unchanged org costs reading its files and hashing them.
    """
    from .snapshot_diff import diff_trees

    require_identifier("org", org_id)
    tip = org_tip(store, org_id)
    export = load_source(store, source, name=name)
    shown = source_name(source, name)
    if export.org.id != org_id:
        raise InvalidInput(f"{shown} holds org {export.org.id}, not {org_id}; nothing was compared")
    scratch = store.scratch()  # the source's tree is built in memory only
    tree = scratch.trees.build(export_tree_spec(export))
    live = DiffSide(spec=org_id, kind="org", commit=tip)
    return diff_trees(scratch, live, store.objects.read_commit(tip).tree,
                      DiffSide(spec=shown, kind="source", commit=None), tree, patch)


def _import_user(store: GitStore, export: OrgExport, user_id: str) -> User:
    """The importing user, among the export's users (reused files included)."""
    reused = export._unchanged_files.get(layout.entity_path("users", user_id))
    if reused:
        from .records import User

        return User.model_validate(_load_blob(store, reused))
    return find_user(export.users, user_id, export.org.id)


class Member(NamedTuple):
    """A user of an org as a commit author needs it."""

    id: str
    name: str
    email: str


def author_identity(store: GitStore, user: Member | User) -> Identity:
    """The user as a commit author, at the time git's rules give for now."""
    now = store.identity("AUTHOR")
    return Identity.checked(user.name, user.email, now.time, now.tz, f"user {user.id}")


def _tree_changes(store: GitStore, old: str | None, new: str) -> TreeChanges:
    changes = TreeChanges()
    for _, before, after in store.trees.diff(old, new):
        if before is None:
            changes.added += 1
        elif after is None:
            changes.removed += 1
        else:
            changes.changed += 1
    return changes


def resolve_state(store: GitStore, what: str) -> str:
    """The commit an org id (its live state) or any git revision names."""
    if not is_identifier(what) or (tip := store.refs.read(org_ref(what))) is None:
        tip = store.resolve_commit(what)
    if tip is None:
        raise NotFound(f"{what!r} is neither an org nor a git revision in {store.path} (gitsnap org list)")
    return tip


def export_org(store: GitStore, what: str, out: str | None, fmt: str | None) -> tuple[ExportResult, str | None]:
    """Export an org state as a directory (``out`` without ``fmt``) or one document.

    Returns the result and, for a document without ``out``, the document text for stdout.
    """
    commit = resolve_state(store, what)
    tree = store.objects.read_commit(commit).tree
    if fmt is None and out is None:
        fmt = "yaml"
    if fmt is None:
        files = _write_directory(store, tree, out)
        return ExportResult(org_id=org_field(store, tree, "id"), commit=commit, out=out, files=files), None
    document = read_org_document(store, tree)
    text = json.dumps(document, indent=2, ensure_ascii=False) + "\n" if fmt == "json" else yamlio.dump(document).decode()
    result = ExportResult(org_id=org_field(store, tree, "id"), commit=commit, out=out or "-", files=1)
    if out is None:
        return result, text
    def write(tmp: str) -> None:
        with open(os.path.join(tmp, "doc"), "w", encoding="utf-8") as handle:
            handle.write(text)

    _write_atomically(out, write, single_file=True)
    return result, None


def _load_blob(store: GitStore, sha: str) -> Any:
    """A blob's YAML, or None when it is not YAML (a tree gitsnap did not write: verify names it)."""
    try:
        return yamlio.load(store.objects.read_blob(sha))
    except yamlio.UNREADABLE:
        return None


def org_field(store: GitStore, tree: str, field: str) -> str:
    """One field of an org tree's org.yaml (``id``, ``name``), or "" when it has none."""
    org = store.trees.lookup(tree, layout.ORG_FILE)
    data = _load_blob(store, org[1]) if org and stat.S_ISREG(org[0]) else None
    return str(data.get(field, "")) if isinstance(data, dict) else ""


_UNSAFE_NAMES = {"", ".", "..", ".git"}


def _checked_files(store: GitStore, tree: str, prefix: str = "") -> list[tuple[str, str]]:
    """Every (path, blob id) of a tree, refusing entries that could escape the target directory."""
    files = []
    for name, mode, sha in store.trees.entries(tree):
        path = prefix + name
        if name.lower() in _UNSAFE_NAMES or any(c in name for c in "/\\\x00"):
            raise InvalidInput(f"refusing to export: unsafe entry name {path!r} in tree {tree}")
        if stat.S_ISLNK(mode) or mode == 0o160000:
            kind = "a symlink" if stat.S_ISLNK(mode) else "a submodule"
            raise InvalidInput(f"refusing to export: {path!r} is {kind} (tree {tree})")
        if stat.S_ISDIR(mode):
            files.extend(_checked_files(store, sha, path + "/"))
        else:
            files.append((path, sha))
    return files


def _write_directory(store: GitStore, tree: str, out: str) -> int:
    files = _checked_files(store, tree)

    def write(tmp: str) -> None:
        for path, sha in files:
            target = os.path.join(tmp, *path.split("/"))
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as handle:
                handle.write(store.objects.read_blob(sha))

    _write_atomically(out, write)
    return len(files)


def _write_atomically(out: str, write, single_file: bool = False) -> None:
    """Write into a temporary sibling of ``out``, then rename it into place."""
    import shutil
    import tempfile

    if not single_file and os.path.exists(out) and (not os.path.isdir(out) or os.listdir(out)):
        raise InvalidInput(f"{out} exists and is not an empty directory; choose a new --out")
    parent = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(parent):
        raise NotFound(f"{parent}: no such directory for --out")
    tmp = tempfile.mkdtemp(prefix=".gitsnap-export-", dir=parent)
    try:
        write(tmp)
        if single_file:
            os.replace(os.path.join(tmp, "doc"), out)
        else:
            if os.path.isdir(out):
                os.rmdir(out)
            os.rename(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def org_refs(store: GitStore) -> list[tuple[str, str]]:
    """(org id, tip) of every live branch, sorted; names that are not identifiers are not gitsnap's."""
    found = store.refs.list(ORGS_PREFIX)
    return sorted((ref[len(ORGS_PREFIX):], tip) for ref, tip in found.items()
                  if is_identifier(ref[len(ORGS_PREFIX):]))


def ref_changes(store: GitStore) -> list[RefChange]:
    """The refs a dry run moved, each live branch with the entity/field diff of its change."""
    from .snapshot_diff import diff_trees

    changes = []
    for ref, old, new in store.refs.moves():
        diff = None
        if ref.startswith(ORGS_PREFIX):
            before = DiffSide(spec=ref, kind="revision", commit=old)
            after = DiffSide(spec=ref, kind="revision", commit=new)
            tree = {sha: store.objects.read_commit(sha).tree if sha else None for sha in (old, new)}
            diff = diff_trees(store, before, tree[old], after, tree[new])
        changes.append(RefChange(ref=ref, old=old, new=new, diff=diff))
    return changes


def list_orgs(store: GitStore, among: Collection[str] | None = None) -> OrgList:
    """Every org's live state (or those ``among`` these); an org whose live branch cannot be read is set aside."""

    def summary(org: str, tip: str) -> OrgSummary:
        commit = store.objects.read_commit(tip)
        return OrgSummary(id=org, name=org_field(store, commit.tree, "name"), commit=tip,
                          updated_at=iso_utc(commit.committer.time), counts=count_config(store, commit.tree))

    candidates = [(org, tip) for org, tip in org_refs(store) if among is None or org in among]
    orgs, failures = each_readable(candidates, summary)
    return OrgList(orgs=orgs, unreadable=unreadable_refs([(org_ref(org), problem) for org, problem in failures]))


def org_document(store: GitStore, org_id: str) -> dict[str, Any]:
    """The one-document form of an org's live state (never another revision)."""
    require_identifier("org", org_id)
    return read_org_document(store, store.objects.read_commit(org_tip(store, org_id)).tree)


def org_log(store: GitStore, org_id: str, limit: int | None = None) -> OrgLog:
    entries = []
    for commit in store.objects.history(org_tip(store, org_id)):
        if limit is not None and len(entries) >= limit:
            break
        entries.append(LogEntry(commit=commit.id, subject=commit.subject, author_name=commit.author.name,
                                author_email=commit.author.email, created_at=iso_utc(commit.committer.time)))
    return OrgLog(org_id=org_id, commits=entries)
