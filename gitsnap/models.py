"""Pydantic models: what platforms export (inputs) and what gitsnap returns (the JSON shapes).

One module on purpose, past the usual size: it is the whole JSON contract, what ``--json`` prints
and what the HTTP service serves and ``/openapi.json`` documents, read in one place.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AliasChoices, BaseModel, ConfigDict, Field, PrivateAttr, StrictStr

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


Identifier = Annotated[StrictStr, AfterValidator(check_identifier)]


def iso_utc(seconds: int | float) -> str:
    """``2026-05-15T09:00:00.000Z`` for a POSIX time; a time beyond year 1 to 9999 shows as the nearest end."""
    try:
        moment = _EPOCH + timedelta(seconds=seconds)
    except OverflowError:
        moment = datetime.max if seconds > 0 else datetime.min
    return f"{moment.year:04d}-{moment:%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


_EPOCH = datetime(1970, 1, 1)


# --- inputs: what a platform exports -------------------------------------------------------------


class _Record(BaseModel):
    """An exported record: known fields validated, every other field kept as is."""

    model_config = ConfigDict(extra="allow", populate_by_name=True, strict=True, defer_build=True)

    def canonical(self) -> dict[str, Any]:
        """The record as it is stored: the field names, extras included."""
        return self.model_dump(exclude_none=False)


class _Identified(_Record):
    id: Identifier = Field(validation_alias=AliasChoices("id", "_id"))


class Org(_Identified):
    name: StrictStr


class User(_Identified):
    name: StrictStr
    email: StrictStr


class Pipeline(_Identified):
    name: StrictStr


class Automation(_Identified):
    name: StrictStr


class Template(_Identified):
    name: StrictStr


class Prompt(_Identified):
    body: StrictStr
    title: StrictStr | None = None

    def canonical(self) -> dict[str, Any]:
        data = super().canonical()
        if data.get("title") is None:
            data.pop("title", None)
        return data


class Stub(_Record):
    stubref: Identifier
    data: dict[str, Any]
    chats: dict[Identifier, dict[str, Any]] = {}


def _dotted(loc: tuple) -> str:
    return ".".join(map(str, loc))


class OrgExport(BaseModel):
    """The one-document form of an org; missing collections are empty."""

    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True)

    org: Org
    users: list[User] = []
    pipelines: list[Pipeline] = []
    automations: list[Automation] = []
    prompts: list[Prompt] = []
    templates: list[Template] = []
    stubs: list[Stub] = []
    # Entity files of a directory import that are byte-identical to the live tree's blobs (path ->
    # blob id): they were validated when first imported, so they are reused, not re-read.
    _unchanged_files: dict[str, str] = PrivateAttr(default_factory=dict)
    # Names the file (or document path) a location points to: ("pipelines", 3) -> "dir/pipelines/x.yaml".
    _where: Callable[[tuple], str] = PrivateAttr(default_factory=lambda: _dotted)  # a factory: a default
    # function would be found on the class and bound as a method




# --- results ---------------------------------------------------------------------------------------


class Result(BaseModel):
    model_config = ConfigDict(populate_by_name=True, defer_build=True)


class InitResult(Result):
    message: str
    repo: str
    created: bool


class Counts(Result):
    pipelines: int = 0
    automations: int = 0
    prompts: int = 0
    templates: int = 0


class TreeChanges(Result):
    added: int = 0
    removed: int = 0
    changed: int = 0


class SecretFinding(Result):
    """A value that looks like a credential: where it is, what kind, its keyed fingerprint; never the value."""

    where: str  # the file, or the document and entity path, or ref:path for what is already stored
    field: str
    kind: str
    fingerprint: str


class ScanResult(Result):
    """``gitsnap scan``: the secrets already in the repository."""

    scanned: int  # blobs read
    findings: list[SecretFinding]


class ImportResult(Result):
    message: str
    skipped: bool
    org_id: str = Field(serialization_alias="orgId")
    org_name: str = Field(serialization_alias="orgName")
    commit: str
    tree: str
    files: TreeChanges
    counts: Counts
    redacted: list[SecretFinding] = Field(default=[], exclude_if=lambda found: not found)


class OrgSummary(Result):
    id: str = Field(serialization_alias="_id")
    name: str
    commit: str
    updated_at: str = Field(serialization_alias="updatedAt")
    counts: Counts


class UnreadableRef(Result):
    """A ref a listing could not read (``gitsnap verify`` says more); the listing shows the rest."""

    ref: str
    problem: str


def unreadable_refs(failures: list[tuple[str, str]]) -> list[UnreadableRef]:
    return [UnreadableRef(ref=ref, problem=problem) for ref, problem in failures]


Unreadable = Field(default=[], exclude_if=lambda refs: not refs)


class OrgList(Result):
    orgs: list[OrgSummary]
    unreadable: list[UnreadableRef] = Unreadable


class LogEntry(Result):
    commit: str
    subject: str
    author_name: str = Field(serialization_alias="authorName")
    author_email: str = Field(serialization_alias="authorEmail")
    created_at: str = Field(serialization_alias="createdAt")


class OrgLog(Result):
    org_id: str = Field(serialization_alias="orgId")
    commits: list[LogEntry]


class ExportResult(Result):
    org_id: str = Field(serialization_alias="orgId")
    commit: str
    out: str
    files: int


# --- stub snapshots --------------------------------------------------------------------------------


class ChildSnapshot(Result):
    """A GPT chat task snapshot a stub snapshot references, pinned to the commit saved with it."""

    key: str
    chat_name: str
    stubber_snapshot_uuid: str
    commit: str


class StubSnapshot(Result):
    """A named stub or GPT chat task snapshot, in the platform's Snapshot Save result shape."""

    stubber_snapshot_uuid: str
    child_snapshot_references: list[str]
    created_at: str = Field(serialization_alias="createdAt")
    orguuid: str
    snapshot: dict[str, Any]
    snapshot_name: str
    snapshot_type: str
    stubref: str
    updated_at: str = Field(serialization_alias="updatedAt")


class StubSnapshotResult(Result):
    """``{"snapshot": ...}`` exactly; the excluded fields serve the human rendering only."""

    snapshot: StubSnapshot
    saved: bool = Field(default=False, exclude=True)
    commit: str = Field(exclude=True)
    redacted: list[SecretFinding] = Field(default=[], exclude_if=lambda found: not found)
    chat_name: str | None = Field(default=None, exclude=True)
    children: list[ChildSnapshot] = Field(default=[], exclude=True)


class StubSnapshotSummary(Result):
    snapshot_type: str
    snapshot_name: str
    chat_name: str | None
    stubber_snapshot_uuid: str
    created_at: str = Field(serialization_alias="createdAt")
    updated_at: str = Field(serialization_alias="updatedAt")
    saves: int
    commit: str
    children: list[ChildSnapshot]


class StubSnapshotList(Result):
    orguuid: str
    stubref: str
    snapshots: list[StubSnapshotSummary]
    unreadable: list[UnreadableRef] = Unreadable


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
    kept_chats: list[str] = Field(serialization_alias="keptChats")


class DeletedStubSnapshot(Result):
    snapshot_type: str
    snapshot_name: str
    chat_name: str | None
    stubber_snapshot_uuid: str
    ref: str
    commit: str


class StubDeleteResult(Result):
    message: str
    orguuid: str
    stubref: str
    deleted: list[DeletedStubSnapshot]
    kept_children: list[ChildSnapshot] = Field(serialization_alias="keptChildren")


# --- org snapshots ---------------------------------------------------------------------------------


class OrgSnapshot(Result):
    """An org snapshot in the platform's shape, plus the tagged commit and the tag object."""

    id: str = Field(serialization_alias="_id")
    name: str
    description: str
    source_org_id: str = Field(serialization_alias="sourceOrgId")
    source_org_name: str = Field(serialization_alias="sourceOrgName")
    source_user_id: str = Field(serialization_alias="sourceUserId")
    source_user_email: str = Field(serialization_alias="sourceUserEmail")
    source_user_name: str = Field(serialization_alias="sourceUserName")
    counts: Counts
    created_by_name: str = Field(serialization_alias="createdByName")
    created_at: str = Field(serialization_alias="createdAt")
    updated_at: str = Field(serialization_alias="updatedAt")
    commit: str
    tag: str


class SnapshotResult(Result):
    """``{"message", "snapshot"}``: what create and delete return."""

    message: str
    snapshot: OrgSnapshot
    imported: ImportResult | None = Field(default=None, exclude=True)  # create --from: the import made first


class SnapshotShow(Result):
    snapshot: OrgSnapshot


class SnapshotList(Result):
    snapshots: list[OrgSnapshot]
    unreadable: list[UnreadableRef] = Unreadable


class FieldChange(Result):
    """One field of an entity that differs; ``path`` is dotted, list items as ``[2]``."""

    path: str
    change: Literal["added", "removed", "changed"]
    old: Any = None
    new: Any = None


class EntityRef(Result):
    id: str
    name: str | None = None


class EntityChange(EntityRef):
    fields: list[FieldChange]


class CollectionDiff(Result):
    added: list[EntityRef] = []
    removed: list[EntityRef] = []
    changed: list[EntityChange] = []

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


class DiffSide(Result):
    """What one side of a diff named: a snapshot, an org's live state, or a git revision."""

    spec: str
    kind: Literal["snapshot", "org", "revision", "source"]
    commit: str | None  # None for a source (what the platform exports now) and for an org not created yet
    snapshot_id: str | None = Field(default=None, serialization_alias="snapshotId")
    name: str | None = None  # the snapshot's name


class SnapshotDiff(Result):
    """Entity-level differences between two org states: ``org`` is org.yaml's field changes."""

    from_: DiffSide = Field(serialization_alias="from")
    to: DiffSide
    org: list[FieldChange]
    collections: dict[str, CollectionDiff]
    other_files: list[str] = Field(serialization_alias="otherFiles")
    patch: str | None = None

    @property
    def empty(self) -> bool:
        return not (self.org or self.other_files or any(not c.empty for c in self.collections.values()))


class RefChange(Result):
    """A ref a dry run would move: its value now and after (None: absent); for a live branch, the entity diff."""

    ref: str
    old: str | None
    new: str | None
    diff: SnapshotDiff | None = Field(default=None, exclude_if=lambda diff: diff is None)


class ApplyResult(Result):
    message: str
    org_id: str = Field(serialization_alias="orgId")
    org_name: str = Field(serialization_alias="orgName")
    snapshot_id: str = Field(serialization_alias="snapshotId")
    commit: str
    skipped: bool
    counts: Counts
    created: bool = Field(exclude=True)  # a new org, not a --replace-config of an existing one
# --- prompt versions -------------------------------------------------------------------------------


class PromptVersionSnapshot(Result):
    """One version of a prompt, in the platform's PromptVersionSummary shape."""

    id: str = Field(serialization_alias="_id")
    version: int
    label: str
    display_version: str | None = Field(serialization_alias="displayVersion")
    title: str | None
    description: str | None
    source: str
    created_at: str = Field(serialization_alias="createdAt")
    matches_current_prompt: bool = Field(serialization_alias="matchesCurrentPrompt")
    preview: str | None  # None when a list was asked for without previews
    # The aliases on this version (version list and show); left out of version create's platform shape.
    aliases: list[str] | None = Field(default=None, exclude_if=lambda names: names is None)


class PromptVersionResult(Result):
    """``version create``: exactly the platform's checkpoint response; the excluded fields serve humans."""

    message: str
    skipped: bool
    version: int
    version_id: str = Field(serialization_alias="versionId")
    version_snapshot: PromptVersionSnapshot = Field(serialization_alias="versionSnapshot")
    prompt_id: str = Field(exclude=True)
    org_id: str = Field(exclude=True)


class PromptVersionList(Result):
    prompt_id: str = Field(serialization_alias="promptId")
    org_id: str = Field(serialization_alias="orgId")
    versions: list[PromptVersionSnapshot]


class PromptVersionDetail(PromptVersionSnapshot):
    """``version show``: a version's summary and its full text."""

    text: str
    prompt_id: str = Field(exclude=True)
    org_id: str = Field(exclude=True)


class PromptVersionDiff(Result):
    prompt_id: str = Field(serialization_alias="promptId")
    org_id: str = Field(serialization_alias="orgId")
    from_version: int = Field(serialization_alias="fromVersion")
    to_version: int = Field(serialization_alias="toVersion")
    from_version_id: str = Field(serialization_alias="fromVersionId")
    to_version_id: str = Field(serialization_alias="toVersionId")
    identical: bool
    diff: str


class PromptRestoreResult(Result):
    message: str
    skipped: bool
    commit: str
    prompt_id: str = Field(serialization_alias="promptId")
    org_id: str = Field(serialization_alias="orgId")
    version: int
    version_id: str = Field(serialization_alias="versionId")


# --- prompt aliases --------------------------------------------------------------------------------


class AliasSetResult(Result):
    """``alias set``: where the alias points now, and where it pointed before (None: nowhere)."""

    alias: str
    version: int
    version_id: str = Field(serialization_alias="versionId")
    previous_version: int | None = Field(serialization_alias="previousVersion")
    skipped: bool
    prompt_id: str = Field(exclude=True)
    org_id: str = Field(exclude=True)
    commit: str = Field(exclude=True)  # the alias ref's tip


class AliasDeleteResult(Result):
    alias: str
    deleted: bool = True
    previous_version: int = Field(serialization_alias="previousVersion")
    previous_version_id: str = Field(serialization_alias="previousVersionId")
    prompt_id: str = Field(exclude=True)
    org_id: str = Field(exclude=True)
    commit: str = Field(exclude=True)


class AliasInfo(Result):
    alias: str
    version: int
    version_id: str = Field(serialization_alias="versionId")
    updated_at: str = Field(serialization_alias="updatedAt")
    updated_by: str = Field(serialization_alias="updatedBy")  # the move's author: "Name <email>"


class AliasList(Result):
    prompt_id: str = Field(serialization_alias="promptId")
    org_id: str = Field(serialization_alias="orgId")
    aliases: list[AliasInfo]
    unreadable: list[UnreadableRef] = Unreadable


class AliasMove(Result):
    """One entry of an alias's history: a move to a version, or its deletion (``version`` None)."""

    commit: str
    version: int | None
    version_id: str | None = Field(serialization_alias="versionId")
    previous_version: int | None = Field(serialization_alias="previousVersion")
    deleted: bool
    reason: str | None
    moved_by: str = Field(serialization_alias="movedBy")
    moved_at: str = Field(serialization_alias="movedAt")
    user_id: str | None = Field(serialization_alias="userId")


class AliasHistory(Result):
    prompt_id: str = Field(serialization_alias="promptId")
    org_id: str = Field(serialization_alias="orgId")
    alias: str
    moves: list[AliasMove]


# --- verify ------------------------------------------------------------------------------------------


class VerifyCounts(Result):
    orgs: int = 0
    snapshots: int = 0
    prompts: int = 0
    versions: int = 0
    stub_snapshots: int = Field(default=0, serialization_alias="stubSnapshots")
    saves: int = 0
    aliases: int = 0
    alias_moves: int = Field(default=0, serialization_alias="aliasMoves")


class VerifyProblem(Result):
    ref: str
    problem: str


class VerifyResult(Result):
    ok: bool
    checked: VerifyCounts
    problems: list[VerifyProblem]
# --- remotes ---------------------------------------------------------------------------------------


class RemoteInfo(Result):
    name: str
    url: str


class RemoteResult(Result):
    """``remote add`` / ``remote remove``."""

    message: str
    name: str
    url: str
    credentials_stripped: bool = Field(default=False, serialization_alias="credentialsStripped")


class RemoteList(Result):
    remotes: list[RemoteInfo]


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


class PushResult(Result):
    message: str
    remote: str
    url: str
    atomic: bool
    refs: list[RefUpdate]
    remote_only: list[str] = Field(serialization_alias="remoteOnly")


class PullResult(Result):
    message: str
    remote: str
    url: str
    refs: list[RefUpdate]


class CloneResult(Result):
    message: str
    repo: str
    remote: str
    url: str
    credentials_stripped: bool = Field(serialization_alias="credentialsStripped")
    refs: list[RefUpdate]
