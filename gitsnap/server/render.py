"""Rendering: a result as the CLI's ``--json`` prints it, and any JSON document."""

from __future__ import annotations

import json
from typing import Any

from starlette.responses import Response

from ..models import Result
from ..store import Store


def reply(result: Result, status: int = 200) -> Response:
    """A result as the CLI's ``--json`` prints it."""
    return json_response(result.to_json(), status)


def preview(result: Result, store: Store, status: int = 200) -> Response:
    """A dry run's result: the result, ``"dryRun": true`` and the ``changes`` it would make (as ``--dry-run``)."""
    document = result.to_json()
    document |= {"dryRun": True, "changes": [c.to_json() for c in store.planned_changes()]}
    return json_response(document, status)


def json_response(document: dict[str, Any], status: int, headers: dict[str, str] | None = None) -> Response:
    """A JSON document; a lone surrogate in it becomes a JSON escape (backslashreplace), never an encoding error."""
    body = json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "backslashreplace")
    return Response(body, status_code=status, headers=headers, media_type="application/json")
