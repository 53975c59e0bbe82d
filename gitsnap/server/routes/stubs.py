"""``/api/stubs/{stubref}/snapshots``: save (seed 002's Snapshot Save), list and restore stub snapshots.

Without ``?orgId=`` the stub is looked for only in the token's orgs.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path
from fastapi.responses import Response

from ...models import StubRestoreResult, StubSnapshotList, StubSnapshotResult
from ...names import DEFAULT_SNAPSHOT_NAME
from ..bodies import StubRestore, StubSnapshotCreate
from ..render import reply
from ..routing import TokenFirstRoute
from ..schemas import documented
from .common import ERRORS, Authorized, OrgQuery, Repository, stub_org

router = APIRouter(prefix="/api/stubs", tags=["Stubs"], route_class=TokenFirstRoute, responses=ERRORS)
Stubref = Annotated[str, Path()]


@router.post("/{stubref}/snapshots", status_code=201, response_model=documented(StubSnapshotResult),
             summary="Snapshot Save")
def save_stub_snapshot(stubref: Stubref, body: StubSnapshotCreate, caller: Authorized, stores: Repository,
                  org_id: OrgQuery = None) -> Response:
    """Save the stub (with all or chosen chats as child snapshots) or one GPT chat task under a name; saving
    again under the same type and name overwrites it (its history stays)."""
    store = stores.here()
    org = stub_org(store, caller, stubref, org_id, live_only=True)
    children = {key: child.chat_name for key, child in (body.child_snapshots or {}).items()}
    name = DEFAULT_SNAPSHOT_NAME if body.snapshot_name is None else body.snapshot_name
    result = store.save_stub_snapshot(stubref, org=org, snapshot_type=body.snapshot_type, name=name,
                                      chat=body.chat_name, all_chats=body.snapshot_gpt_chat_tasks, children=children)
    return reply(result, 201)


@router.get("/{stubref}/snapshots", response_model=documented(StubSnapshotList), summary="List a stub's snapshots")
def list_stub_snapshots(stubref: Stubref, caller: Authorized, stores: Repository, org_id: OrgQuery = None) -> Response:
    store = stores.here()
    return reply(store.list_stub_snapshots(stubref, org=stub_org(store, caller, stubref, org_id)))


@router.post("/{stubref}/snapshots/{type}/{name}/restore", response_model=documented(StubRestoreResult),
             summary="Restore a stub snapshot")
def restore_stub_snapshot(stubref: Stubref, snapshot_type: Annotated[str, Path(alias="type")], name: str,
                     caller: Authorized, stores: Repository, body: Annotated[StubRestore | None, Body()] = None,
                     org_id: OrgQuery = None) -> Response:
    """Put the snapshot back into the org's live state (a stub snapshot with its saved chats, or one chat)."""
    store = stores.here()
    org = stub_org(store, caller, stubref, org_id)
    return reply(store.restore_stub_snapshot(stubref, org=org, snapshot_type=snapshot_type, name=name,
                                             chat=body.chat_name if body else None))
