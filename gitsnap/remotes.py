"""Remotes: which refs travel, the fast-forward rules, and push, pull and clone built on them.

(The wire is ``gitremote``'s; this module is the policy, kept whole so that push and pull read as
the mirror images they are.)

Only gitsnap's namespaces travel (``refs/heads/orgs/*``, ``refs/tags/snapshots/*``,
``refs/prompts/*``, ``refs/stubs/*``, ``refs/prompt-aliases/*``). History is never overwritten: a
push whose refs are not all fast-forwards sends nothing; a pull moves the refs that fast-forward and
leaves diverged ones alone.
Snapshot tags never move once written.
"""

from __future__ import annotations

import os
import shutil
from collections import Counter
from typing import NamedTuple

from .aliases import REFS_PREFIX as ALIASES_PREFIX
from .aliases import alias_name_problem, read_move
from .errors import Conflict, GitsnapError, InvalidInput, NotFound, RepositoryError
from .gitremote import Transport, Url, parse_url, remote_names, remote_values, write_remote
from .gitstore import GitStore
from .models import (
    CloneResult,
    PullResult,
    PushResult,
    RefUpdate,
    RemoteInfo,
    RemoteList,
    RemoteResult,
    identifier_problem,
    require_identifier,
)
from .orgs import ORGS_PREFIX
from .progress import Progress
from .prompts import REFS_PREFIX as PROMPTS_PREFIX
from .prompts import version_number
from .snapshots import SNAPSHOT_ID, SNAPSHOTS_PREFIX, Located, read_snapshot
from .stub_refs import REFS_PREFIX as STUBS_PREFIX
from .stub_refs import read_saved, selector_of

NAMESPACES = (ORGS_PREFIX, SNAPSHOTS_PREFIX, PROMPTS_PREFIX, STUBS_PREFIX, ALIASES_PREFIX)
DEFAULT_REMOTE = "origin"
MOVED = ("created", "updated", "deleted")


# --- which refs travel --------------------------------------------------------------------------------


class Scope(NamedTuple):
    """The refs a push or pull carries: every gitsnap namespace, or one org's part of each."""

    org: str | None = None

    def prefixes(self) -> list[str]:
        if self.org is None:
            return list(NAMESPACES)
        return [ORGS_PREFIX + self.org] + [f"{namespace}{self.org}/" for namespace in NAMESPACES[1:]]

    def holds(self, ref: str) -> bool:
        """Whether ``ref`` is a well-formed gitsnap ref of this scope."""
        namespace = next((n for n in NAMESPACES if ref.startswith(n)), None)
        if namespace is None:
            return False
        parts = ref[len(namespace):].split("/")
        if any(identifier_problem(part) for part in parts):
            return False  # a name gitsnap never writes: it could collide with (or shadow) real refs
        return _shape_ok(namespace, parts) and (self.org is None or parts[0] == self.org)

    def local_refs(self, store: GitStore) -> dict[str, str]:
        """This repository's refs of the scope, with their values."""
        if self.org is not None:
            found = {}
            for prefix in self.prefixes():
                if prefix.endswith("/"):
                    found.update(store.refs.list(prefix))
                elif (value := store.refs.read(prefix)) is not None:
                    found[prefix] = value
        else:
            found = {ref: sha for prefix in NAMESPACES for ref, sha in store.refs.list(prefix).items()}
        return {ref: sha for ref, sha in found.items() if self.holds(ref)}


def _shape_ok(namespace: str, parts: list[str]) -> bool:
    """Whether a ref's parts below its namespace have the one shape gitsnap writes there."""
    if namespace == ORGS_PREFIX:
        return len(parts) == 1
    if namespace == SNAPSHOTS_PREFIX:
        return len(parts) == 2 and SNAPSHOT_ID.fullmatch(parts[1]) is not None
    if namespace == PROMPTS_PREFIX:
        return len(parts) == 2
    if namespace == ALIASES_PREFIX:
        return len(parts) == 3 and alias_name_problem(parts[2]) is None
    return len(parts) > 2 and selector_of("/".join(parts[2:])) is not None


def _is_snapshot(ref: str) -> bool:
    return ref.startswith(SNAPSHOTS_PREFIX)


# --- remote configuration -----------------------------------------------------------------------------


def refspecs() -> list[str]:
    """One non-forced refspec per namespace, mapped to itself (plain git refuses non-fast-forwards too)."""
    return [f"{namespace}*:{namespace}*" for namespace in NAMESPACES]


def add_remote(store: GitStore, name: str, url_text: str) -> RemoteResult:
    """Record a remote as standard git config: url (without credentials), fetch and push refspecs."""
    require_identifier("remote name", name)
    url = parse_url(url_text)
    items = [("url", url.location), *(("fetch", spec) for spec in refspecs()),
             *(("push", spec) for spec in refspecs()), ("tagOpt", "--no-tags")]
    if not write_remote(store, name, items, exists=False):
        existing = remote_url(store, name)
        raise InvalidInput(f"remote {name} already exists ({existing}); remove it first (gitsnap remote remove {name})")
    message = f"Added remote {name}"
    if url.had_credentials:
        message += " (the credentials in the URL were not stored: give them at run time)"
    return RemoteResult(message=message, name=name, url=url.location, credentials_stripped=url.had_credentials)


def remote_url(store: GitStore, name: str) -> str | None:
    values = remote_values(store, name, "url")
    return values[-1] if values else None


def list_remotes(store: GitStore) -> RemoteList:
    names = sorted(set(remote_names(store)))
    return RemoteList(remotes=[RemoteInfo(name=name, url=remote_url(store, name) or "") for name in names])


def remove_remote(store: GitStore, name: str) -> RemoteResult:
    url = remote_url(store, name)
    if not write_remote(store, name, None, exists=True):
        raise NotFound(f"no remote named {name} (gitsnap remote list)", title="Remote not found")
    return RemoteResult(message=f"Removed remote {name}", name=name, url=url or "")


class Target(NamedTuple):
    """Where a push or pull goes: a configured remote (``name``) or a URL given as is."""

    name: str | None
    url: Url

    @property
    def label(self) -> str:
        return self.name or self.url.location


def resolve(store: GitStore, remote_or_url: str | None) -> Target:
    """A configured remote by name, else a URL or path; NotFound for a name that is neither."""
    what = remote_or_url or DEFAULT_REMOTE
    url = remote_url(store, what)
    if url is not None:
        return Target(what, parse_url(url))
    if identifier_problem(what) is None and not os.path.exists(what):
        hint = f"gitsnap remote add {what} URL" if what == DEFAULT_REMOTE else "gitsnap remote list"
        raise NotFound(f"no remote named {what}, and no repository at that path ({hint}; or give a URL)",
                       title="Remote not found")
    return Target(None, parse_url(what))


def _transport(store: GitStore, target: Target, username: str | None, password: str | None,
               progress: Progress | None) -> Transport:
    return Transport(store, target.url, username, password, progress)


# --- push ---------------------------------------------------------------------------------------------


class PushRefused(Conflict):
    """A push that moved nothing (or, on a server without atomic pushes, only some refs)."""

    def __init__(self, message: str, result: PushResult, sent: bool):
        shown = ("rejected", *MOVED) if sent else ("rejected",)  # once sent, say exactly which refs moved
        problems = [f"  {u.ref}: {u.reason if u.status == 'rejected' else u.status}"
                    for u in result.refs if u.status in shown]
        super().__init__(message, problems=problems, result=result)


def plan_push(store: GitStore, local: dict[str, str], remote: dict[str, str], prune: bool,
              label: str) -> tuple[list[RefUpdate], list[str]]:
    """What a push does to each ref (fast-forwards only), and the remote refs it leaves alone."""
    pull = f"gitsnap pull {label}"
    updates = []
    for ref in sorted(local.keys() | (remote.keys() if prune else set())):
        mine, theirs = local.get(ref), remote.get(ref)
        if mine == theirs:
            updates.append(RefUpdate(ref=ref, old=theirs, new=mine, status="up-to-date"))
        elif theirs is None:
            updates.append(RefUpdate(ref=ref, old=None, new=mine, status="created"))
        elif _is_snapshot(ref) and mine is not None:
            updates.append(_rejected(ref, theirs, mine, "the remote's snapshot tag differs from this one and "
                                                        "snapshot tags never move (delete one of them to resolve)"))
        elif not store.objects.has(theirs):
            what = "deleting it here" if mine is None else "this push"
            updates.append(_rejected(ref, theirs, mine, f"the remote has changes this repository never had, so "
                                                        f"{what} would lose them ({pull} first)"))
        elif mine is None:
            updates.append(RefUpdate(ref=ref, old=theirs, new=None, status="deleted"))
        elif store.objects.is_ancestor(theirs, mine):
            updates.append(RefUpdate(ref=ref, old=theirs, new=mine, status="updated"))
        elif store.objects.is_ancestor(mine, theirs):
            updates.append(_rejected(ref, theirs, mine, f"the remote is ahead of this repository ({pull})"))
        else:
            updates.append(_rejected(ref, theirs, mine, f"diverged: each side has commits the other lacks ({pull} "
                                                        "reports it; keep one side, then push)"))
    remote_only = [] if prune else sorted(remote.keys() - local.keys())
    return updates, remote_only


def _rejected(ref: str, old: str | None, new: str | None, reason: str) -> RefUpdate:
    return RefUpdate(ref=ref, old=old, new=new, status="rejected", reason=reason)


def push(store: GitStore, remote_or_url: str | None = None, org: str | None = None, prune: bool = False,
         username: str | None = None, password: str | None = None, progress: Progress | None = None) -> PushResult:
    """Push every gitsnap ref (or one org's) that fast-forwards; refuse the whole push otherwise."""
    if org is not None:
        require_identifier("org", org)
    scope, target = Scope(org), resolve(store, remote_or_url)
    if org is not None and not prune and not scope.local_refs(store):
        raise NotFound(f"org {org} has no refs in {store.path} to push (gitsnap org list)", title="Org not found")
    transport = _transport(store, target, username, password, progress)
    planned: list[RefUpdate] = []
    remote_only: list[str] = []

    def plan(remote_refs: dict[str, str]) -> dict[str, str | None]:
        remote = {ref: sha for ref, sha in remote_refs.items() if scope.holds(ref)}
        updates, left = plan_push(store, scope.local_refs(store), remote, prune, target.label)
        planned[:], remote_only[:] = updates, left
        result = _push_result(target, True, planned, remote_only)
        refused = [u for u in updates if u.status == "rejected"]
        if refused:
            raise PushRefused(f"push to {target.label} refused: {_count(len(refused), 'ref')} would not "
                              "fast-forward; nothing was pushed", result, sent=False)
        return {u.ref: u.new for u in updates if u.status in MOVED}

    outcome = transport.push(plan)
    refs = [u if u.ref not in outcome.statuses or outcome.statuses[u.ref] is None
            else _rejected(u.ref, u.old, u.new, f"refused by {target.label}: {outcome.statuses[u.ref]}")
            for u in planned]
    result = _push_result(target, outcome.atomic, refs, remote_only)
    refused = [u for u in refs if u.status == "rejected"]
    if refused:
        moved = [u for u in refs if u.status in MOVED]
        tail = f"{_count(len(moved), 'other ref')} moved" if moved else "nothing moved"
        raise PushRefused(f"{target.label} refused {_count(len(refused), 'ref')}; {tail}", result, sent=True)
    return result


def _push_result(target: Target, atomic: bool, refs: list[RefUpdate], remote_only: list[str]) -> PushResult:
    counts = Counter(u.status for u in refs)
    if any(counts[s] for s in MOVED):
        done = ", ".join(f"{counts[s]} {s}" for s in MOVED if counts[s])
        message = f"Pushed to {target.label}: {done}"
    else:
        message = f"Everything up-to-date on {target.label}"
    return PushResult(message=message, remote=target.label, url=target.url.location, atomic=atomic, refs=refs,
                      remote_only=remote_only)


def _count(n: int, what: str) -> str:
    return f"{n} {what}" + ("" if n == 1 else "s")


# --- pull ---------------------------------------------------------------------------------------------


LEFT = ("diverged", "invalid")  # what a pull leaves as it is, and reports


class PullDiverged(Conflict):
    """A pull that moved every ref it could and left diverged ones (and any invalid ones) as they are."""


class PullRefused(RepositoryError):
    """A pull that moved every ref it could and refused remote refs gitsnap cannot read."""


def _pull_incomplete(label: str, result: PullResult) -> GitsnapError:
    """The error of a pull that left refs as they are: a conflict when any diverged."""
    left = [u for u in result.refs if u.status in LEFT]
    diverged = sum(u.status == "diverged" for u in left)
    invalid = len(left) - diverged
    what = " and ".join(part for part in (f"{_count(diverged, 'ref')} diverged" if diverged else "",
                                          f"{_count(invalid, 'ref')} gitsnap cannot read" if invalid else "") if part)
    rest = f"the rest pulled ({_moved(result.refs)})" if _moved(result.refs) else "nothing else to pull"
    kind = PullDiverged if diverged else PullRefused
    return kind(f"{label}: {what}, left as they are here; {rest}:",
                problems=[f"  {u.ref}: {u.reason}" for u in left], result=result)


def pull(store: GitStore, remote_or_url: str | None = None, org: str | None = None,
         username: str | None = None, password: str | None = None, progress: Progress | None = None) -> PullResult:
    """Fetch the remote's gitsnap refs and fast-forward each local one; report (exit 4) the diverged ones."""
    if org is not None:
        require_identifier("org", org)
    scope, target = Scope(org), resolve(store, remote_or_url)
    transport = _transport(store, target, username, password, progress)

    def wants(remote_refs: dict[str, str]) -> list[str]:
        return sorted({sha for ref, sha in remote_refs.items() if scope.holds(ref) and not store.objects.has(sha)})

    remote_refs = transport.fetch(scope.prefixes(), wants, _haves(store))
    remote = {ref: sha for ref, sha in remote_refs.items() if scope.holds(ref)}
    refs = [_pull_ref(store, ref, sha, target.label) for ref, sha in sorted(remote.items())]
    result = _pull_result(target, refs)
    if any(u.status in LEFT for u in refs):
        raise _pull_incomplete(target.label, result)
    return result


def unreadable(store: GitStore, ref: str, sha: str) -> str | None:
    """Why gitsnap could not read ``sha`` as the value of ``ref`` (by the ref's namespace), or None."""
    try:
        if ref.startswith(SNAPSHOTS_PREFIX):
            org, snapshot_id = ref[len(SNAPSHOTS_PREFIX):].split("/")
            read_snapshot(store, Located(org, snapshot_id, ref, sha))
        elif ref.startswith(PROMPTS_PREFIX):
            version_number(store.objects.read_commit(sha), ref)
        elif ref.startswith(ALIASES_PREFIX):
            move = read_move(store, ref, sha)
            if not move.deleted and not store.objects.has(move.version_id):
                return f"its version {move.version_id} is not in the repository"
        elif ref.startswith(STUBS_PREFIX):
            org, stubref, relative = ref[len(STUBS_PREFIX):].split("/", 2)
            read_saved(store, ref, selector_of(relative), sha)
        else:
            store.objects.read_commit(sha)
    except GitsnapError as error:
        return error.message
    return None


def _haves(store: GitStore) -> list[str]:
    """Every local gitsnap tip as a commit: what the remote need not send again."""
    haves = set()
    for sha in set(Scope().local_refs(store).values()):
        try:
            haves.add(store.objects.read_commit(sha).id)  # peels a snapshot tag to its commit
        except NotFound:
            continue
    return sorted(haves)


def _pull_ref(store: GitStore, ref: str, theirs: str, label: str) -> RefUpdate:
    """Fast-forward one local ref to the remote's value by CAS (create it when missing), or say why not."""
    if not store.objects.has(theirs):
        raise RepositoryError(f"{label} did not send the objects of {ref} ({theirs}); nothing else was lost, try again")
    problem = unreadable(store, ref, theirs)
    if problem is not None:
        mine = store.refs.read(ref)
        return RefUpdate(ref=ref, old=mine, new=mine, status="invalid", reason=f"{label}'s value cannot be read: {problem}")

    def build(mine: str | None) -> tuple[str | None, RefUpdate]:
        if mine is None:
            return theirs, RefUpdate(ref=ref, old=None, new=theirs, status="created")
        if mine == theirs:
            return None, RefUpdate(ref=ref, old=mine, new=mine, status="up-to-date")
        if not _is_snapshot(ref):
            if store.objects.is_ancestor(mine, theirs):
                return theirs, RefUpdate(ref=ref, old=mine, new=theirs, status="updated")
            if store.objects.is_ancestor(theirs, mine):
                return None, RefUpdate(ref=ref, old=mine, new=mine, status="ahead",
                                       reason=f"this repository is ahead (gitsnap push {label})")
            reason = (f"diverged: local {mine[:12]} and {label}'s {theirs[:12]} each have commits the other lacks "
                      f"(to take {label}'s: git --git-dir {store.path} update-ref {ref} {theirs} {mine})")
        else:
            reason = (f"the snapshot tag differs: local {mine[:12]}, {label}'s {theirs[:12]}; snapshot tags never "
                      "move (delete one of them to resolve)")
        return None, RefUpdate(ref=ref, old=mine, new=mine, status="diverged", reason=reason)

    return store.refs.update(ref, build)


def _moved(refs: list[RefUpdate]) -> str:
    """``2 created, 1 updated``: what a pull did, or empty."""
    counts = Counter(u.status for u in refs)
    return ", ".join(f"{counts[s]} {s}" for s in ("created", "updated", "ahead") if counts[s])


def _pull_result(target: Target, refs: list[RefUpdate]) -> PullResult:
    done = _moved(refs)
    message = f"Pulled from {target.label}: {done}" if done else f"Already up to date with {target.label}"
    return PullResult(message=message, remote=target.label, url=target.url.location, refs=refs)


# --- clone --------------------------------------------------------------------------------------------


def clone(url_text: str, path: str, username: str | None = None, password: str | None = None,
          progress: Progress | None = None) -> CloneResult:
    """A new repository at ``path`` with remote ``origin`` and every gitsnap ref; nothing stays if it fails."""
    url = parse_url(url_text)
    path = os.path.abspath(path)
    if os.path.exists(path) and (not os.path.isdir(path) or os.listdir(path)):
        raise InvalidInput(f"{path} exists and is not empty; clone into a new or empty directory")
    created = _first_missing(path)
    store = None
    try:
        store, _ = GitStore.init(path)
        added = add_remote(store, DEFAULT_REMOTE, url_text)
        pulled = pull(store, DEFAULT_REMOTE, username=url.username or username,
                      password=url.password or password, progress=progress)
    except BaseException:
        if store is not None:
            store.close()
        _remove(path, created)
        raise
    store.close()
    message = f"Cloned {url.location} into {path}: {_count(len(pulled.refs), 'ref')}"
    return CloneResult(message=message, repo=path, remote=DEFAULT_REMOTE, url=added.url,
                       credentials_stripped=added.credentials_stripped, refs=pulled.refs)


def _first_missing(path: str) -> str | None:
    """The outermost directory of ``path`` that does not exist yet (what a failed clone removes)."""
    missing = None
    while not os.path.exists(path):
        missing, parent = path, os.path.dirname(path)
        if parent == path:
            break
        path = parent
    return missing


def _remove(path: str, created: str | None) -> None:
    if created is not None:
        shutil.rmtree(created, ignore_errors=True)
        return
    for name in os.listdir(path):  # the directory was there, empty: empty it again
        entry = os.path.join(path, name)
        shutil.rmtree(entry) if os.path.isdir(entry) else os.remove(entry)
