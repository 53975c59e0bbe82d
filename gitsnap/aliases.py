"""Prompt aliases: movable names (``production``, ``staging``) for versions of one prompt.

(The stored format, the moves and the reads are one module: each of them reads the others' trailers.)

A version's label is its own descriptive subject, fixed when it is created; an alias is a name
that points at one version and moves. Each alias is a ref whose first-parent history is every
move of the name, newest first::

    refs/prompt-aliases/<org>/<promptId>/<alias>

A move is a commit whose tree is the version's tree (``git show <ref>:prompt.yaml`` is the text),
whose first parent is the previous move and whose second parent is the version's commit. The
alias's very first move has no parents at all: the version as its only parent would be its
*first* parent, and ``git log --first-parent`` would walk on into the prompt's versions; that move
names its version by ``Version-Id`` (every reader goes by the trailers anyway). The author is who
moved it::

    Move alias production from version 2 to version 3    (first move: Set alias production to version 3)

    Alias: production
    Version: 3
    Version-Id: <the version's commit>
    Previous-Version: 2          (when it moved from a version)
    Reason: Passed the eval      (when given)
    Prompt-Id: <promptId>
    Org: <org>
    User: <userId>               (when moved on behalf of an org member, who is then the author)

A deletion is a move too, and the ref stays on it, so a deletion travels with push and pull as a
fast-forward and ``alias history`` ends with it; a later set continues the same history::

    Delete alias production (was version 3)               tree: the empty tree; one parent

    Alias: production
    Deleted: true
    Previous-Version: 3
    Reason: ... / Prompt-Id / Org / User                  (as above)

``latest`` is reserved: it always means the tip of ``refs/prompts/<org>/<promptId>``. Alias names
are identifiers, and not all digits (a number is always a version number). Resolving or moving an
alias reads the tip of its ref and the version's commit: never the alias's history.
"""

from __future__ import annotations

import re
from typing import NamedTuple, TypeVar

from .errors import Conflict, InvalidInput, NotFound, RepositoryError, each_readable
from .gitmessage import CommitInfo, Identity, check_one_line, format_message
from .gitstore import GitStore
from .models import (
    AliasDeleteResult,
    AliasHistory,
    AliasInfo,
    AliasList,
    AliasMove,
    AliasSetResult,
    identifier_problem,
    iso_utc,
    require_identifier,
    unreadable_refs,
)
from .orgs import author_identity, org_tip
from .prompts import (
    _find_version,
    _live_body,
    _org_of,
    _prompt_not_found,
    _version_not_found,
    prompt_ref,
    version_number,
)
from .snapshots import read_member

REFS_PREFIX = "refs/prompt-aliases/"
LATEST = "latest"
ABSENT = "none"  # --expect none: the alias must not point anywhere
MAX_REASON = 500
_OBJECT_ID = re.compile(r"[0-9a-f]{40}")
_ANYWHERE = object()  # no --expect: the alias may be anywhere
R = TypeVar("R")


def aliases_prefix(org: str, prompt_id: str) -> str:
    return f"{REFS_PREFIX}{org}/{prompt_id}/"


def alias_ref(org: str, prompt_id: str, alias: str) -> str:
    return f"{aliases_prefix(org, prompt_id)}{alias}"


def alias_name_problem(name: object) -> str | None:
    """Why ``name`` cannot be an alias (not an identifier, ``latest``, all digits), or None when it can."""
    problem = identifier_problem(name)
    if problem:
        return problem
    if name == LATEST:
        return f"{LATEST!r} is reserved: it always means the newest version, so it cannot be set or deleted"
    if name.isascii() and name.isdigit():
        return f"{name!r} is a number, which always means a version number; an alias needs a letter or _ . -"
    return None


def check_alias_name(name: object) -> str:
    """``name`` unchanged; InvalidInput naming the value when it cannot be an alias."""
    problem = alias_name_problem(name)
    if problem:
        raise InvalidInput(f"alias {problem}")
    return name


# --- reading a move --------------------------------------------------------------------------------------


class Move(NamedTuple):
    """One commit of an alias ref, as its trailers say: where it moved the alias, or that it deleted it."""

    commit: CommitInfo
    alias: str
    version: int | None  # None: this move deleted the alias
    version_id: str | None
    previous_version: int | None
    reason: str | None
    user_id: str | None
    org: str | None
    prompt_id: str | None

    @property
    def deleted(self) -> bool:
        return self.version is None

    def where(self) -> str:
        """``at version 3``, or ``deleted (it was at version 3)``."""
        return f"deleted (it was at version {self.previous_version})" if self.deleted else f"at version {self.version}"

    def entry(self) -> AliasMove:
        return AliasMove(commit=self.commit.id, version=self.version, version_id=self.version_id,
                         previous_version=self.previous_version, deleted=self.deleted, reason=self.reason,
                         moved_by=_person(self.commit.author), moved_at=iso_utc(self.commit.author.time),
                         user_id=self.user_id)


def read_move(store: GitStore, ref: str, sha: str) -> Move:
    """The move at ``sha``; RepositoryError when it is not a commit gitsnap wrote for an alias."""
    try:
        commit = store.objects.read_commit(sha)
    except NotFound as error:
        raise RepositoryError(f"{ref}: {error.message}") from None
    return move_of(ref, commit)


def move_of(ref: str, commit: CommitInfo) -> Move:
    trailers = commit.trailers

    def first(key: str) -> str | None:
        return trailers.get(key, [None])[0]

    def number(key: str) -> int | None:
        value = first(key)
        if value is None:
            return None
        if not (value.isascii() and value.isdigit() and len(value) < 19):
            raise RepositoryError(f"{ref}: commit {commit.id} has {key} {value!r}, not a version number")
        return int(value)

    alias = first("Alias")
    deleted = first("Deleted") == "true"
    version, version_id = (None, None) if deleted else (number("Version"), first("Version-Id"))
    if alias is None or (not deleted and (version is None or not _OBJECT_ID.fullmatch(version_id or ""))):
        raise RepositoryError(f"{ref}: commit {commit.id} is not a gitsnap alias move "
                              "(no Alias trailer with Version and Version-Id, or Deleted)")
    return Move(commit, alias, version, version_id, number("Previous-Version"), first("Reason"), first("User"),
                first("Org"), first("Prompt-Id"))


def _person(who: Identity) -> str:
    return f"{who.name} <{who.email}>"


def _current(store: GitStore, ref: str, tip: str | None) -> Move | None:
    return read_move(store, ref, tip) if tip else None


def _aliases_of(store: GitStore, org: str, prompt_id: str) -> tuple[list[Move], list[tuple[str, str]]]:
    """The prompt's alias tips (deleted ones included), by name; the refs that cannot be read, set aside."""

    def read(ref: str, sha: str) -> Move:
        name = ref[len(aliases_prefix(org, prompt_id)):]
        if alias_name_problem(name):
            raise RepositoryError(f"{ref}: not a gitsnap alias ref ({alias_name_problem(name)})")
        return read_move(store, ref, sha)

    refs = sorted(store.refs.list(aliases_prefix(org, prompt_id)).items())
    return each_readable(refs, read)


# --- resolving a version: a number, latest or an alias -----------------------------------------------------


def find_version(store: GitStore, prompt_id: str, org: str, spec: int | str) -> CommitInfo:
    """The commit of version ``spec``: a number (``3`` or ``"3"``), ``latest`` or an alias of this prompt."""
    if not isinstance(spec, str):
        return _find_version(store, prompt_id, org, spec)
    if len(spec) > 128:
        raise InvalidInput(f"version {spec[:40]!r}… is not a version number, {LATEST!r} or an alias (too long)")
    if spec.isascii() and spec.isdigit():
        return _find_version(store, prompt_id, org, int(spec))
    if spec == LATEST:
        return _latest(store, prompt_id, org)
    if identifier_problem(spec):
        raise InvalidInput(f"version {spec!r} is not a version number, {LATEST!r} or an alias name")
    return _aliased(store, prompt_id, org, spec)


def _latest(store: GitStore, prompt_id: str, org: str) -> CommitInfo:
    tip = store.refs.read(prompt_ref(org, prompt_id))
    if tip is None:
        if _live_body(store, org, prompt_id) is None:
            raise _prompt_not_found(prompt_id, org)
        raise _version_not_found(prompt_id, org, LATEST, 0)
    return store.objects.read_commit(tip)


def _aliased(store: GitStore, prompt_id: str, org: str, alias: str) -> CommitInfo:
    """The version an alias points at, from its ref's tip: no history is read."""
    ref = alias_ref(org, prompt_id, alias)
    move = _current(store, ref, store.refs.read(ref))
    if move is None or move.deleted:
        raise _alias_not_found(store, prompt_id, org, alias, move)
    commit = store.objects.read_commit(move.version_id)
    if version_number(commit, prompt_ref(org, prompt_id)) != move.version:
        raise RepositoryError(f"{ref}: says version {move.version}, but commit {move.version_id} is version "
                              f"{version_number(commit, prompt_ref(org, prompt_id))} (gitsnap verify)")
    return commit


def _alias_not_found(store: GitStore, prompt_id: str, org: str, alias: str, move: Move | None) -> NotFound:
    """NotFound naming the prompt's aliases (or the prompt, when there is no such prompt)."""
    if store.refs.read(prompt_ref(org, prompt_id)) is None and _live_body(store, org, prompt_id) is None:
        return _prompt_not_found(prompt_id, org)
    moves, _ = _aliases_of(store, org, prompt_id)
    names = [m.alias for m in moves if not m.deleted]
    known = f"its aliases are {', '.join(names)}" if names else "it has no aliases"
    what = f"alias {alias} of prompt {prompt_id} was deleted" if move else f"prompt {prompt_id} has no alias {alias!r}"
    return NotFound(f"{what} in org {org} ({known}; gitsnap prompt alias list {prompt_id} --org {org})",
                    title="Alias not found")


def version_aliases(store: GitStore, org: str, prompt_id: str) -> dict[str, list[str]]:
    """Version id -> the names of the aliases on it (refs that cannot be read are left to verify)."""
    moves, _ = _aliases_of(store, org, prompt_id)
    found: dict[str, list[str]] = {}
    for move in moves:
        if not move.deleted:
            found.setdefault(move.version_id, []).append(move.alias)
    return found


# --- moving -----------------------------------------------------------------------------------------------


def _expected(expect: int | str | None) -> object:
    """What ``expect`` asks: a version number, None (the alias is absent), or _ANYWHERE (no expectation)."""
    if expect is None:
        return _ANYWHERE
    if expect == ABSENT:
        return None
    if isinstance(expect, str) and expect.isascii() and expect.isdigit() and len(expect) < 19:
        expect = int(expect)
    if isinstance(expect, bool) or not isinstance(expect, int) or expect < 1:
        raise InvalidInput(f"expect must be a version number or {ABSENT!r}, got {expect!r}")
    return expect


def _check_expected(expected: object, current: Move | None, what: str) -> None:
    """Conflict naming where the alias is when it is not where ``expected`` says (the compare of a CAS)."""
    if expected is _ANYWHERE:
        return
    at = current.version if current else None
    if at != expected:
        now = current.where() if current else "absent (never set)"
        wanted = "absent" if expected is None else f"at version {expected}"
        raise Conflict(f"{what} is {now}, not {wanted} as expected; nothing was changed", title="Alias moved")


def _checked_reason(reason: str | None) -> str | None:
    if reason is None:
        return None
    if not isinstance(reason, str):
        raise InvalidInput(f"reason must be a string, got {type(reason).__name__}")
    reason = check_one_line("reason", reason).strip(" \t")
    if len(reason) > MAX_REASON:
        raise InvalidInput(f"reason is {len(reason)} characters long; at most {MAX_REASON}")
    return reason or None


def _author(store: GitStore, org: str, user_id: str | None) -> Identity | None:
    """The org member ``user_id`` as the author; None (git's identity rules) when not given."""
    if user_id is None:
        return None
    require_identifier("user", user_id)
    return author_identity(store, read_member(store, store.objects.read_commit(org_tip(store, org)).tree, org, user_id))


def _trailers(alias: str, reason: str | None, prompt_id: str, org: str, user_id: str | None,
              head: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return ([("Alias", alias), *head] + ([("Reason", reason)] if reason else [])
            + [("Prompt-Id", prompt_id), ("Org", org)] + ([("User", user_id)] if user_id else []))


def set_alias(store: GitStore, prompt_id: str, alias: str, version: int | str, org: str | None = None,
              expect: int | str | None = None, reason: str | None = None,
              user_id: str | None = None) -> AliasSetResult:
    """Point ``alias`` at a version (a number, ``latest`` or another alias); a no-op when it is already there.

    ``expect`` makes the move a compare-and-swap: the alias must be at that version number (or absent,
    for ``"none"``), else Conflict naming where it is. Without it a lost race is rebuilt on the winner.
    """
    check_alias_name(alias)
    reason, expected = _checked_reason(reason), _expected(expect)
    org = _org_of(store, prompt_id, org)
    target = find_version(store, prompt_id, org, version)
    number = version_number(target, prompt_ref(org, prompt_id))
    author = _author(store, org, user_id)
    ref = alias_ref(org, prompt_id, alias)
    what = f"alias {alias} of prompt {prompt_id} in org {org}"

    def build(tip: str | None) -> tuple[str | None, AliasSetResult]:
        current = _current(store, ref, tip)
        _check_expected(expected, current, what)
        previous = current.version if current else None
        result = dict(alias=alias, version=number, version_id=target.id, previous_version=previous,
                      prompt_id=prompt_id, org_id=org)
        if current and current.version_id == target.id:
            return None, AliasSetResult(**result, skipped=True, commit=tip)
        subject = (f"Move alias {alias} from version {previous} to version {number}" if previous
                   else f"Set alias {alias} to version {number}")
        head = [("Version", str(number)), ("Version-Id", target.id)]
        head += [("Previous-Version", str(previous))] if previous else []
        message = format_message(subject, "", _trailers(alias, reason, prompt_id, org, user_id, head))
        commit = store.write_commit(target.tree, [tip, target.id] if tip else [], message, author)
        return commit, AliasSetResult(**result, skipped=False, commit=commit)

    return store.refs.update(ref, build)


def delete_alias(store: GitStore, prompt_id: str, alias: str, org: str | None = None,
                 expect: int | str | None = None, reason: str | None = None,
                 user_id: str | None = None) -> AliasDeleteResult:
    """Delete ``alias`` with a last move that points nowhere (its history stays); ``expect`` as for set."""
    check_alias_name(alias)
    reason, expected = _checked_reason(reason), _expected(expect)
    org = _org_of(store, prompt_id, org)
    author = _author(store, org, user_id)
    ref = alias_ref(org, prompt_id, alias)

    def build(tip: str | None) -> tuple[str | None, AliasDeleteResult]:
        current = _current(store, ref, tip)
        _check_expected(expected, current, f"alias {alias} of prompt {prompt_id} in org {org}")
        if current is None or current.deleted:
            raise _alias_not_found(store, prompt_id, org, alias, current)
        empty = store.trees.build({})  # written once; a rebuild finds it there
        head = [("Deleted", "true"), ("Previous-Version", str(current.version))]
        message = format_message(f"Delete alias {alias} (was version {current.version})", "",
                                 _trailers(alias, reason, prompt_id, org, user_id, head))
        commit = store.write_commit(empty, [tip], message, author)
        return commit, AliasDeleteResult(alias=alias, previous_version=current.version,
                                         previous_version_id=current.version_id, prompt_id=prompt_id, org_id=org,
                                         commit=commit)

    return store.refs.update(ref, build)


# --- listing ----------------------------------------------------------------------------------------------


def list_aliases(store: GitStore, prompt_id: str, org: str | None = None) -> AliasList:
    """The prompt's aliases (deleted ones left out), by name, each read from its ref's tip."""
    org = _org_of(store, prompt_id, org)
    moves, failures = _aliases_of(store, org, prompt_id)
    if not moves and not failures and store.refs.read(prompt_ref(org, prompt_id)) is None \
            and _live_body(store, org, prompt_id) is None:
        raise _prompt_not_found(prompt_id, org)
    aliases = [AliasInfo(alias=m.alias, version=m.version, version_id=m.version_id,
                         updated_at=iso_utc(m.commit.author.time), updated_by=_person(m.commit.author))
               for m in moves if not m.deleted]
    return AliasList(prompt_id=prompt_id, org_id=org, aliases=aliases, unreadable=unreadable_refs(failures))


def alias_history(store: GitStore, prompt_id: str, alias: str, org: str | None = None,
                  limit: int | None = None) -> AliasHistory:
    """Every move of the alias, newest first (a deletion included): its ref's first-parent history."""
    check_alias_name(alias)
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise InvalidInput(f"limit must be a whole number of at least 1, got {limit!r}")
    org = _org_of(store, prompt_id, org)
    ref = alias_ref(org, prompt_id, alias)
    tip = store.refs.read(ref)
    if tip is None:
        raise _alias_not_found(store, prompt_id, org, alias, None)
    moves = []
    for commit in store.objects.history(tip):
        if limit is not None and len(moves) == limit:
            break
        moves.append(move_of(ref, commit).entry())
    return AliasHistory(prompt_id=prompt_id, org_id=org, alias=alias, moves=moves)



def with_aliases(store: GitStore, result: R) -> R:
    """A version list (or one version) with each version's aliases filled in."""
    names = version_aliases(store, result.org_id, result.prompt_id)
    for version in getattr(result, "versions", [result]):
        version.aliases = sorted(names.get(version.id, []))
    return result
