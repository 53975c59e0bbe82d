"""``/api/orgs``: import an org's export (PUT), list the orgs, read one org's live state."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response

from ...errors import InvalidInput
from ...models import ImportResult, OrgList
from ...records import OrgExport
from ..errors import BODY
from ..render import json_response, reply
from ..routing import TokenFirstRoute
from ..schemas import documented
from .common import ERRORS, Authorized, Repository

router = APIRouter(prefix="/api/orgs", tags=["Organizations"], route_class=TokenFirstRoute, responses=ERRORS)
OrgId = Annotated[str, Path(alias="orgId")]
# The export is read by the library from the body's bytes (its own JSON rules, every problem named
# with its document path), so FastAPI is only told its schema.
EXPORT_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": {"$ref": "#/components/schemas/OrgExport"}}}}}


async def export_bytes(request: Request) -> bytes:
    """The body of a PUT: a JSON object's bytes (the body limit applies while they arrive)."""
    if not _is_json(request.headers.get("content-type")):
        raise InvalidInput(f"{BODY}: not JSON (send it with Content-Type: application/json); nothing was written")
    data = await request.body()
    if data.lstrip()[:1] != b"{":
        raise InvalidInput(f"{BODY}: expected a JSON object (an org export: org, users, pipelines, ...); "
                           "nothing was written")
    return data


def _is_json(content_type: str | None) -> bool:
    kind = (content_type or "").split(";", 1)[0].strip().lower()
    return kind == "application/json" or (kind.startswith("application/") and kind.endswith("+json"))


@router.put("/{orgId}", response_model=documented(ImportResult), openapi_extra=EXPORT_BODY,
            summary="Import an org's export")
def import_org(org_id: OrgId, caller: Authorized, document: Annotated[bytes, Depends(export_bytes)],
               stores: Repository) -> Response:
    """Replace the org's live state with a platform export (the one-document form); ``skipped`` when unchanged.

    The token's user is the commit's author and must be one of the export's users.
    """
    caller.require(org_id)
    return reply(stores.here().import_org(document, caller.user, name=BODY, org=org_id))


@router.get("", response_model=documented(OrgList), summary="List the orgs")
def list_orgs(caller: Authorized, stores: Repository) -> Response:
    """The orgs the token may use, each with its live commit and counts."""
    return reply(stores.here().list_orgs(among=caller.orgs))


@router.get("/{orgId}", response_model=OrgExport, summary="Export an org's live state")
def export_org(org_id: OrgId, caller: Authorized, stores: Repository) -> Response:
    """The org's live state as one export document (``gitsnap org export ORG --format json``)."""
    document: dict[str, Any] = stores.here().org_document(caller.require(org_id))
    return json_response(document, 200)
