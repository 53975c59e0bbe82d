"""Pydantic models: what platforms export (inputs) and what gitsnap returns (the JSON shapes)."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Annotated, Any

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
    """``2026-05-15T09:00:00.000Z`` for a POSIX time."""
    moment = datetime.fromtimestamp(seconds, tz=timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


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


CONFIG_COLLECTIONS = ("pipelines", "automations", "prompts", "templates")
ENTITY_COLLECTIONS = ("users", *CONFIG_COLLECTIONS)


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


class ImportResult(Result):
    message: str
    skipped: bool
    org_id: str = Field(serialization_alias="orgId")
    org_name: str = Field(serialization_alias="orgName")
    commit: str
    tree: str
    files: TreeChanges
    counts: Counts


class OrgSummary(Result):
    id: str = Field(serialization_alias="_id")
    name: str
    commit: str
    updated_at: str = Field(serialization_alias="updatedAt")
    counts: Counts


class OrgList(Result):
    orgs: list[OrgSummary]


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
    ahead (local has more; left as is) | diverged (left as is; exit 4).
    """

    ref: str
    old: str | None
    new: str | None
    status: str
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
