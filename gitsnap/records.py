"""Pydantic models of what a platform exports: the inputs an import validates.

Imported only where an export is validated (import, snapshot apply, stub save, upgrade), so commands
that only read or write gitsnap's own objects start without pydantic.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, AliasChoices, BaseModel, ConfigDict, Field, PrivateAttr, StrictStr

from .models import check_identifier

Identifier = Annotated[StrictStr, AfterValidator(check_identifier)]


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
