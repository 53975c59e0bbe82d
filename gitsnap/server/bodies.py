"""Request bodies: the seeds' schemas as pydantic models (read as JSON with the CLI's rules: ``routing``).

The fields' values are the library's to check (snapshot names, labels, identifiers, one-line text),
exactly as it checks CLI arguments; these models check only shape and types. Seed 001's body is
open (``additionalProperties: true``: other fields are ignored); the others are closed (an unknown
field is a 400 naming it).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from ..names import CHAT_TYPE, PROMPT_SOURCES, SNAPSHOT_TYPES

PromptSource = Literal[PROMPT_SOURCES]  # type: ignore[valid-type]
SnapshotType = Literal[SNAPSHOT_TYPES]  # type: ignore[valid-type]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=False)


class SnapshotCreate(Body):
    """Seed 000: create an organization snapshot."""

    name: str = Field(description="Snapshot display name: 1 to 120 characters, one line.",
                      json_schema_extra={"minLength": 1, "maxLength": 120})
    description: str | None = Field(None, description="Free-form notes: at most 500 characters.",
                                    json_schema_extra={"maxLength": 500})
    source_org_id: str = Field(alias="sourceOrgId", description="Organization whose state is captured.")
    source_user_id: str = Field(alias="sourceUserId",
                                description="User triggering the snapshot (recorded for audit): the token's own user.")


class SnapshotApply(Body):
    """Onboard an org from a snapshot (``gitsnap snapshot apply``)."""

    target_org_id: str = Field(alias="targetOrgId", description="The org to create (or, with replaceConfig, replace).")
    target_org_name: str | None = Field(None, alias="targetOrgName", description="The new org's name.")
    user_id: str | None = Field(None, alias="userId", description="The token's own user (the default).")
    replace_config: bool = Field(False, alias="replaceConfig",
                                 description="Replace an existing org's pipelines, automations, prompts and templates.")
    dry_run: bool = Field(False, alias="dryRun", description="Compute the apply and answer what it would change; "
                                                          "write nothing.")


class PromptVersionCreate(Body):
    """Seed 001: create a prompt version checkpoint (other fields are ignored)."""

    model_config = ConfigDict(extra="ignore")

    prompt: str | None = Field(None, description="The text; defaults to the current prompt body.")
    label: str | None = None
    display_version: str | None = Field(None, alias="displayVersion")
    title: str | None = None
    description: str | None = None
    source: PromptSource | None = None


class AliasSet(Body):
    """Move an alias to a version."""

    version: int | str = Field(description="A version number, latest, or another alias.")
    expect: int | str | None = Field(None, description="Where the alias must be now: a version number, or none "
                                                       "for absent (409 otherwise).")
    reason: str | None = Field(None, description="Why it moves (one line, kept in its history).")


class AliasDelete(Body):
    """Delete an alias (optional body)."""

    expect: int | str | None = Field(None, description="The version the alias must be at (409 otherwise).")
    reason: str | None = Field(None, description="Why it is deleted (one line).")


class PromptRestore(Body):
    user_id: str | None = Field(None, alias="userId", description="The token's own user (the default).")


class ChildChat(Body):
    """One chat of seed 002's ``child_snapshots``."""

    snapshot_type: Literal[CHAT_TYPE]  # type: ignore[valid-type]
    chat_name: str


class StubSnapshotCreate(Body):
    """Seed 002: Snapshot Save."""

    snapshot_type: SnapshotType
    snapshot_name: str | None = Field(None, description="Default: _default.")
    snapshot_gpt_chat_tasks: bool = Field(False, description="With snapshot_type stub: every chat as a child snapshot.")
    chat_name: str | None = Field(None, description="The chat, for snapshot_type gpt_chat_task.")
    child_snapshots: dict[str, ChildChat] | None = Field(None, description="Chosen chats, by key.")


class StubRestore(Body):
    chat_name: str | None = Field(None, description="The chat, for a gpt_chat_task snapshot.")
