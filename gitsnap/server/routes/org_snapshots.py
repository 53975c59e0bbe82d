"""``/api/org-snapshots``: create (seed 000), list, show, delete and apply org snapshots.

A snapshot is looked up only among the token's orgs: one in another org is "not found", in the
same words as one that does not exist.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import Response

from ...models import ApplyResult, SnapshotList, SnapshotResult, SnapshotShow
from ..bodies import SnapshotApply, SnapshotCreate
from ..render import preview, reply
from ..routing import TokenFirstRoute
from ..schemas import documented
from .common import ERRORS, Authorized, OrgQuery, Repository

router = APIRouter(prefix="/api/org-snapshots", tags=["Org Snapshots"], route_class=TokenFirstRoute, responses=ERRORS)
SnapshotId = Annotated[str, Path(alias="id", description="The snapshot id: 24 hex digits.")]


@router.post("", status_code=201, response_model=documented(SnapshotResult), summary="Create an organization snapshot")
def create_snapshot(body: SnapshotCreate, caller: Authorized, stores: Repository) -> Response:
    """Tag the org's live state as a named snapshot (``gitsnap snapshot create``)."""
    org = caller.require(body.source_org_id)
    user = caller.acting_user(body.source_user_id)
    return reply(stores.here().create_snapshot(org, user, body.name, body.description or ""), 201)


@router.get("", response_model=documented(SnapshotList), summary="List organization snapshots")
def list_snapshots(caller: Authorized, stores: Repository, org_id: OrgQuery = None) -> Response:
    """The snapshots of ``?orgId=``, or of every org the token may use; newest first."""
    if org_id is not None:
        return reply(stores.here().list_snapshots(caller.require(org_id)))
    return reply(stores.here().list_snapshots(among=caller.orgs))


@router.get("/{id}", response_model=documented(SnapshotShow), summary="Show an organization snapshot")
def show_snapshot(snapshot_id: SnapshotId, caller: Authorized, stores: Repository) -> Response:
    return reply(stores.here().show_snapshot(snapshot_id, among=caller.orgs))


@router.delete("/{id}", response_model=documented(SnapshotResult), summary="Delete an organization snapshot")
def delete_snapshot(snapshot_id: SnapshotId, caller: Authorized, stores: Repository) -> Response:
    """Delete the snapshot's tag (its commit stays in the org's history)."""
    return reply(stores.here().delete_snapshot(snapshot_id, among=caller.orgs))


@router.post("/{id}/apply", status_code=201, response_model=documented(ApplyResult),
             summary="Apply a snapshot to an org",
             responses={200: {"model": documented(ApplyResult),
                             "description": "An existing org's config replaced (or unchanged)"}})
def apply_snapshot(snapshot_id: SnapshotId, body: SnapshotApply, caller: Authorized, stores: Repository) -> Response:
    """Onboard a new org from the snapshot's config (201), or replace an existing org's (replaceConfig, 200).

    With ``dryRun`` nothing is written: the answer is the result the apply would give, ``"dryRun": true``
    and the ``changes`` (each ref old -> new, the org's entity diff), as the CLI's ``--dry-run`` prints.
    """
    org = caller.require(body.target_org_id)
    user = caller.acting_user(body.user_id)
    store = stores.preview() if body.dry_run else stores.here()
    try:
        result = store.apply_snapshot(snapshot_id, org, body.target_org_name, user, body.replace_config,
                                      among=caller.orgs)
        status = 201 if result.created else 200
        return preview(result, store, status) if body.dry_run else reply(result, status)
    finally:
        if body.dry_run:
            store.close()
