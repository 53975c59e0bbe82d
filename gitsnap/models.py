"""What gitsnap returns: the results, as dataclasses, and their JSON shapes (``Result.to_json``).

One module on purpose, past the usual size: it is the whole JSON contract, what ``--json`` prints
and what the HTTP service serves and ``/openapi.json`` documents, read in one place. Results are
plain dataclasses, not pydantic models: every command returns one, and pydantic's import and
model building cost more than half of a short command's run; gitsnap builds each result from
values it has read or checked itself. Pydantic validates what comes from outside (``records``: a
platform's exports; the service's request bodies) and documents these shapes in ``/openapi.json``.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import MISSING, Field, dataclass, field, fields, replace
from datetime import datetime, timedelta
from functools import cache
from typing import Any, Literal

from .errors import InvalidInput

IDENTIFIER_RULE = "[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}, no '..', not ending in '.lock' or '.'"
_IDENTIFIER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")


def identifier_problem(value: object) -> str | None:
    """Why ``value`` cannot be a path or ref component, or None when it can."""
    if not isinstance(value, str):
        return f"must be a string, got {type(value).__name__}"
    if (
        not _IDENTIFIER.fullmatch(value)
        or ".." in value
        or value.endswith(".lock")
        or value.endswith(".")
    ):
        return f"{value!r} is not a valid identifier (must match {IDENTIFIER_RULE})"
    return None


def is_identifier(value: object) -> bool:
    return identifier_problem(value) is None


def check_identifier(value: str) -> str:
    problem = identifier_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def require_identifier(what: str, value: str) -> None:
    """InvalidInput naming ``what`` and the rule when ``value`` cannot be a path or ref component."""
    problem = identifier_problem(value)
    if problem:
        raise InvalidInput(f"{what} {problem}")


def iso_utc(seconds: int | float) -> str:
    """``2026-05-15T09:00:00.000Z`` for a POSIX time; a time beyond year 1 to 9999 shows as the nearest end."""
    if isinstance(seconds, int) and 0 <= seconds <= _LAST_SECOND:  # git's times: whole seconds since 1970
        return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(seconds))
    try:
        moment = _EPOCH + timedelta(seconds=seconds)
    except OverflowError:
        moment = datetime.max if seconds > 0 else datetime.min
    return f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


_EPOCH = datetime(1970, 1, 1)
_LAST_SECOND = 253402300799  # 9999-12-31T23:59:59Z


# --- results ---------------------------------------------------------------------------------------


def result(cls: type) -> type:
    """Mark a result class. It becomes a dataclass (``result_fields``) when first built or read, not at import:
    dataclass's processing of the fifty-odd classes was most of this module's import, at every command's start.
    Result's own __init__, __eq__ and __repr__ serve them all (dataclass would compile three methods for each)."""
    return cls


_DATACLASS_LOCK = threading.Lock()


@cache
def result_fields(cls: type) -> tuple[Field, ...]:
    """The fields of a result class, in declaration order (the class, and its bases first, made dataclasses)."""
    with _DATACLASS_LOCK:  # once per class, even when two threads of the service meet it together
        for klass in reversed(cls.__mro__):
            if issubclass(klass, Result) and klass is not Result and "__dataclass_fields__" not in klass.__dict__:
                dataclass(init=False, repr=False, eq=False)(klass)
    return fields(cls)


class Result:
    """A result: its fields in declaration order are its JSON document, unless a field says otherwise."""

    def __init__(self, **values: Any):
        names, defaults, factories, _order = _init_plan(type(self))
        if values.keys() == names:  # every field given: a listing builds thousands of results this way
            self.__dict__.update(values)
            return
        if unknown := values.keys() - names:
            raise TypeError(f"{type(self).__name__}: no field {', '.join(sorted(unknown))}")
        state = {**defaults, **{name: make() for name, make in factories.items() if name not in values}, **values}
        if missing := names - state.keys():
            raise TypeError(f"{type(self).__name__}: missing field {', '.join(sorted(missing))}")
        self.__dict__.update(state)

    @classmethod
    def from_values(cls, *values: Any) -> Any:
        """A result from the value of every field, in declaration order (a listing builds thousands this way)."""
        built = cls.__new__(cls)
        built.__dict__.update(zip(_init_plan(cls)[3], values, strict=True))
        return built

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and vars(other) == vars(self)

    def __repr__(self) -> str:
        shown = ", ".join(f"{f.name}={getattr(self, f.name)!r}" for f in result_fields(type(self)))
        return f"{type(self).__name__}({shown})"

    def to_json(self) -> dict[str, Any]:
        """The JSON document ``--json`` prints and the service answers (JSON types only)."""
        document = {}
        for name, key, omit in _json_fields(type(self)):
            value = getattr(self, name)
            if omit is None or not omit(value):
                document[key] = _json_value(value)
        return document

    def replace(self, **changes: Any) -> Any:
        """A copy with ``changes`` (field name -> value)."""
        result_fields(type(self))
        return replace(self, **changes)


def renamed(key: str, **options: Any) -> Any:
    """A field the JSON document names ``key`` (the platform's spelling, camelCase or ``_id``)."""
    return field(metadata={"json": key}, **options)


def hidden(**options: Any) -> Any:
    """A field for the caller and the human rendering, never in the JSON document."""
    return field(metadata={"hidden": True}, **options)


def omitted_when_empty() -> Any:
    """A list, empty by default, that the JSON document leaves out while it is empty."""
    return field(default_factory=list, metadata={"omit": _is_empty})


def omitted_when_none() -> Any:
    """A field, None by default, that the JSON document leaves out while it is None."""
    return field(default=None, metadata={"omit": _is_none})


def _is_empty(value: Any) -> bool:
    return not value


def _is_none(value: Any) -> bool:
    return value is None


@cache
def _init_plan(cls: type) -> tuple[frozenset[str], dict[str, Any], dict[str, Callable[[], Any]], tuple[str, ...]]:
    """A result class's field names, default values, default factories, and names in declaration order."""
    items = result_fields(cls)
    return (frozenset(f.name for f in items), {f.name: f.default for f in items if f.default is not MISSING},
            {f.name: f.default_factory for f in items if f.default_factory is not MISSING}, tuple(f.name for f in items))


@cache
def _json_fields(cls: type) -> tuple[tuple[str, str, Callable[[Any], bool] | None], ...]:
    """(field name, JSON key, when to leave it out) of each field the JSON document holds."""
    return tuple((f.name, f.metadata.get("json", f.name), f.metadata.get("omit"))
                 for f in result_fields(cls) if not f.metadata.get("hidden"))


def json_keys(cls: type) -> set[str]:
    """The keys a result class's JSON document can hold."""
    return {key for _name, key, _omit in _json_fields(cls)}


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _json_value(value: Any) -> Any:
    if type(value) in _SCALARS:  # most values: checked first, as a listing's --json meets thousands
        return value
    if isinstance(value, Result):
        return value.to_json()
    if isinstance(value, (list, tuple)):
        return [_json_value(item) for item in value]
    if isinstance(value, dict):
        return {key: _json_value(item) for key, item in value.items()}
    return value


@result
class InitResult(Result):
    message: str
    repo: str
    created: bool


@result
class Counts(Result):
    pipelines: int = 0
    automations: int = 0
    prompts: int = 0
    templates: int = 0


@result
class TreeChanges(Result):
    added: int = 0
    removed: int = 0
    changed: int = 0


@result
class SecretFinding(Result):
    """A value that looks like a credential: where it is, what kind, its keyed fingerprint; never the value."""

    where: str  # the file, or the document and entity path, or ref:path for what is already stored
    field: str
    kind: str
    fingerprint: str


@result
class ScanResult(Result):
    """``gitsnap scan``: the secrets already in the repository."""

    scanned: int  # blobs read
    findings: list[SecretFinding]


@result
class ImportResult(Result):
    message: str
    skipped: bool
    org_id: str = renamed("orgId")
    org_name: str = renamed("orgName")
    commit: str
    tree: str
    files: TreeChanges
    counts: Counts
    redacted: list[SecretFinding] = omitted_when_empty()


@result
class OrgSummary(Result):
    id: str = renamed("_id")
    name: str
    commit: str
    updated_at: str = renamed("updatedAt")
    counts: Counts


@result
class UnreadableRef(Result):
    """A ref a listing could not read (``gitsnap verify`` says more); the listing shows the rest."""

    ref: str
    problem: str


def unreadable_refs(failures: list[tuple[str, str]]) -> list[UnreadableRef]:
    return [UnreadableRef(ref=ref, problem=problem) for ref, problem in failures]



@result
class OrgList(Result):
    orgs: list[OrgSummary]
    unreadable: list[UnreadableRef] = omitted_when_empty()


@result
class LogEntry(Result):
    commit: str
    subject: str
    author_name: str = renamed("authorName")
    author_email: str = renamed("authorEmail")
    created_at: str = renamed("createdAt")


@result
class OrgLog(Result):
    org_id: str = renamed("orgId")
    commits: list[LogEntry]


@result
class ExportResult(Result):
    org_id: str = renamed("orgId")
    commit: str
    out: str
    files: int


# --- stub snapshots --------------------------------------------------------------------------------


@result
class ChildSnapshot(Result):
    """A GPT chat task snapshot a stub snapshot references, pinned to the commit saved with it."""

    key: str
    chat_name: str
    stubber_snapshot_uuid: str
    commit: str


@result
class StubSnapshot(Result):
    """A named stub or GPT chat task snapshot, in the platform's Snapshot Save result shape."""

    stubber_snapshot_uuid: str
    child_snapshot_references: list[str]
    created_at: str = renamed("createdAt")
    orguuid: str
    snapshot: dict[str, Any]
    snapshot_name: str
    snapshot_type: str
    stubref: str
    updated_at: str = renamed("updatedAt")


@result
class StubSnapshotResult(Result):
    """``{"snapshot": ...}`` exactly; the excluded fields serve the human rendering only."""

    snapshot: StubSnapshot
    saved: bool = hidden(default=False)
    commit: str = hidden()
    redacted: list[SecretFinding] = omitted_when_empty()
    chat_name: str | None = hidden(default=None)
    children: list[ChildSnapshot] = hidden(default_factory=list)


@result
class StubSnapshotSummary(Result):
    snapshot_type: str
    snapshot_name: str
    chat_name: str | None
    stubber_snapshot_uuid: str
    created_at: str = renamed("createdAt")
    updated_at: str = renamed("updatedAt")
    saves: int
    commit: str
    children: list[ChildSnapshot]


@result
class StubSnapshotList(Result):
    orguuid: str
    stubref: str
    snapshots: list[StubSnapshotSummary]
    unreadable: list[UnreadableRef] = omitted_when_empty()


@result
class StubRestoreResult(Result):
    message: str
    skipped: bool
    commit: str
    orguuid: str
    stubref: str
    snapshot_type: str
    snapshot_name: str
    chat_name: str | None
    stubber_snapshot_uuid: str
    files: list[str]
    kept_chats: list[str] = renamed("keptChats")


@result
class DeletedStubSnapshot(Result):
    snapshot_type: str
    snapshot_name: str
    chat_name: str | None
    stubber_snapshot_uuid: str
    ref: str
    commit: str


@result
class StubDeleteResult(Result):
    message: str
    orguuid: str
    stubref: str
    deleted: list[DeletedStubSnapshot]
    kept_children: list[ChildSnapshot] = renamed("keptChildren")


# --- org snapshots ---------------------------------------------------------------------------------


@result
class OrgSnapshot(Result):
    """An org snapshot in the platform's shape, plus the tagged commit and the tag object."""

    id: str = renamed("_id")
    name: str
    description: str
    source_org_id: str = renamed("sourceOrgId")
    source_org_name: str = renamed("sourceOrgName")
    source_user_id: str = renamed("sourceUserId")
    source_user_email: str = renamed("sourceUserEmail")
    source_user_name: str = renamed("sourceUserName")
    counts: Counts
    created_by_name: str = renamed("createdByName")
    created_at: str = renamed("createdAt")
    updated_at: str = renamed("updatedAt")
    commit: str
    tag: str


@result
class SnapshotResult(Result):
    """``{"message", "snapshot"}``: what create and delete return."""

    message: str
    snapshot: OrgSnapshot
    imported: ImportResult | None = hidden(default=None)  # create --from: the import made first


@result
class SnapshotShow(Result):
    snapshot: OrgSnapshot


@result
class SnapshotList(Result):
    snapshots: list[OrgSnapshot]
    unreadable: list[UnreadableRef] = omitted_when_empty()


@result
class FieldChange(Result):
    """One field of an entity that differs; ``path`` is dotted, list items as ``[2]``."""

    path: str
    change: Literal["added", "removed", "changed"]
    old: Any = None
    new: Any = None


@result
class EntityRef(Result):
    id: str
    name: str | None = None


@result
class EntityChange(EntityRef):
    fields: list[FieldChange]


@result
class CollectionDiff(Result):
    added: list[EntityRef] = field(default_factory=list)
    removed: list[EntityRef] = field(default_factory=list)
    changed: list[EntityChange] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


@result
class DiffSide(Result):
    """What one side of a diff named: a snapshot, an org's live state, or a git revision."""

    spec: str
    kind: Literal["snapshot", "org", "revision", "source"]
    commit: str | None  # None for a source (what the platform exports now) and for an org not created yet
    snapshot_id: str | None = renamed("snapshotId", default=None)
    name: str | None = None  # the snapshot's name


@result
class SnapshotDiff(Result):
    """Entity-level differences between two org states: ``org`` is org.yaml's field changes."""

    from_: DiffSide = renamed("from")
    to: DiffSide
    org: list[FieldChange]
    collections: dict[str, CollectionDiff]
    other_files: list[str] = renamed("otherFiles")
    patch: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.org or self.other_files or any(not c.empty for c in self.collections.values()))


@result
class RefChange(Result):
    """A ref a dry run would move: its value now and after (None: absent); for a live branch, the entity diff."""

    ref: str
    old: str | None
    new: str | None
    diff: SnapshotDiff | None = omitted_when_none()


@result
class ApplyResult(Result):
    message: str
    org_id: str = renamed("orgId")
    org_name: str = renamed("orgName")
    snapshot_id: str = renamed("snapshotId")
    commit: str
    skipped: bool
    counts: Counts
    created: bool = hidden()  # a new org, not a --replace-config of an existing one
# --- prompt versions -------------------------------------------------------------------------------


@result
class PromptVersionSnapshot(Result):
    """One version of a prompt, in the platform's PromptVersionSummary shape."""

    id: str = renamed("_id")
    version: int
    label: str
    display_version: str | None = renamed("displayVersion")
    title: str | None
    description: str | None
    source: str
    created_at: str = renamed("createdAt")
    matches_current_prompt: bool = renamed("matchesCurrentPrompt")
    preview: str | None  # None when a list was asked for without previews
    # The aliases on this version (version list and show); left out of version create's platform shape.
    aliases: list[str] | None = omitted_when_none()


@result
class PromptVersionResult(Result):
    """``version create``: exactly the platform's checkpoint response; the excluded fields serve humans."""

    message: str
    skipped: bool
    version: int
    version_id: str = renamed("versionId")
    version_snapshot: PromptVersionSnapshot = renamed("versionSnapshot")
    prompt_id: str = hidden()
    org_id: str = hidden()


@result
class PromptVersionList(Result):
    prompt_id: str = renamed("promptId")
    org_id: str = renamed("orgId")
    versions: list[PromptVersionSnapshot]


@result
class PromptVersionDetail(PromptVersionSnapshot):
    """``version show``: a version's summary and its full text."""

    text: str
    prompt_id: str = hidden()
    org_id: str = hidden()


@result
class PromptVersionDiff(Result):
    prompt_id: str = renamed("promptId")
    org_id: str = renamed("orgId")
    from_version: int = renamed("fromVersion")
    to_version: int = renamed("toVersion")
    from_version_id: str = renamed("fromVersionId")
    to_version_id: str = renamed("toVersionId")
    identical: bool
    diff: str


@result
class PromptRestoreResult(Result):
    message: str
    skipped: bool
    commit: str
    prompt_id: str = renamed("promptId")
    org_id: str = renamed("orgId")
    version: int
    version_id: str = renamed("versionId")


# --- prompt aliases --------------------------------------------------------------------------------


@result
class AliasSetResult(Result):
    """``alias set``: where the alias points now, and where it pointed before (None: nowhere)."""

    alias: str
    version: int
    version_id: str = renamed("versionId")
    previous_version: int | None = renamed("previousVersion")
    skipped: bool
    prompt_id: str = hidden()
    org_id: str = hidden()
    commit: str = hidden()  # the alias ref's tip


@result
class AliasDeleteResult(Result):
    alias: str
    deleted: bool = True
    previous_version: int = renamed("previousVersion")
    previous_version_id: str = renamed("previousVersionId")
    prompt_id: str = hidden()
    org_id: str = hidden()
    commit: str = hidden()


@result
class AliasInfo(Result):
    alias: str
    version: int
    version_id: str = renamed("versionId")
    updated_at: str = renamed("updatedAt")
    updated_by: str = renamed("updatedBy")  # the move's author: "Name <email>"


@result
class AliasList(Result):
    prompt_id: str = renamed("promptId")
    org_id: str = renamed("orgId")
    aliases: list[AliasInfo]
    unreadable: list[UnreadableRef] = omitted_when_empty()


@result
class AliasMove(Result):
    """One entry of an alias's history: a move to a version, or its deletion (``version`` None)."""

    commit: str
    version: int | None
    version_id: str | None = renamed("versionId")
    previous_version: int | None = renamed("previousVersion")
    deleted: bool
    reason: str | None
    moved_by: str = renamed("movedBy")
    moved_at: str = renamed("movedAt")
    user_id: str | None = renamed("userId")


@result
class AliasHistory(Result):
    prompt_id: str = renamed("promptId")
    org_id: str = renamed("orgId")
    alias: str
    moves: list[AliasMove]


# --- verify ------------------------------------------------------------------------------------------


@result
class VerifyCounts(Result):
    orgs: int = 0
    snapshots: int = 0
    prompts: int = 0
    versions: int = 0
    stub_snapshots: int = renamed("stubSnapshots", default=0)
    saves: int = 0
    aliases: int = 0
    alias_moves: int = renamed("aliasMoves", default=0)


@result
class VerifyProblem(Result):
    ref: str
    problem: str


@result
class VerifyResult(Result):
    ok: bool
    checked: VerifyCounts
    problems: list[VerifyProblem]
# --- remotes ---------------------------------------------------------------------------------------


@result
class RemoteInfo(Result):
    name: str
    url: str


@result
class RemoteResult(Result):
    """``remote add`` / ``remote remove``."""

    message: str
    name: str
    url: str
    credentials_stripped: bool = renamed("credentialsStripped", default=False)


@result
class RemoteList(Result):
    remotes: list[RemoteInfo]


@result
class RefUpdate(Result):
    """One ref of a push or pull: its value before and after, and what happened to it.

    Push: created | updated | deleted | up-to-date | rejected. Pull: created | updated | up-to-date |
    ahead (local has more; left as is) | diverged (left as is; exit 4) | invalid (the remote's value is
    not something gitsnap can read; not taken).
    """

    ref: str
    old: str | None
    new: str | None
    status: Literal["created", "updated", "deleted", "up-to-date", "rejected", "ahead", "diverged", "invalid"]
    reason: str | None = None


@result
class PushResult(Result):
    message: str
    remote: str
    url: str
    atomic: bool
    refs: list[RefUpdate]
    remote_only: list[str] = renamed("remoteOnly")


@result
class PullResult(Result):
    message: str
    remote: str
    url: str
    refs: list[RefUpdate]


@result
class CloneResult(Result):
    message: str
    repo: str
    remote: str
    url: str
    credentials_stripped: bool = renamed("credentialsStripped")
    refs: list[RefUpdate]
