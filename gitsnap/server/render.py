"""Rendering: a result as the CLI's ``--json`` prints it, and any JSON document."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel
from starlette.responses import Response

from ..store import Store


def reply(result: BaseModel, status: int = 200) -> Response:
    """A result as the CLI's ``--json`` prints it (``model_dump(mode="json", by_alias=True)``)."""
    return Response(result.model_dump_json(by_alias=True), status_code=status, media_type="application/json")


def preview(result: BaseModel, store: Store, status: int = 200) -> Response:
    """A dry run's result: the result, ``"dryRun": true`` and the ``changes`` it would make (as ``--dry-run``)."""
    document = result.model_dump(mode="json", by_alias=True)
    document |= {"dryRun": True, "changes": [c.model_dump(mode="json", by_alias=True) for c in store.planned_changes()]}
    return json_response(document, status)


def json_response(document: dict[str, Any], status: int, headers: dict[str, str] | None = None) -> Response:
    """A JSON document; a lone surrogate in it becomes a JSON escape (backslashreplace), never an encoding error."""
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "backslashreplace")
    return Response(body, status_code=status, headers=headers, media_type="application/json")
