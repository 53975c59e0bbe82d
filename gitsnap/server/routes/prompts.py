"""``/api/prompts/{promptId}/versions``: create (seed 001), list, show and restore prompt versions.

Without ``?orgId=`` the prompt is looked for only in the token's orgs; one held by another org is
"not found", in the same words as one held by none.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path
from fastapi.responses import Response

from ...models import PromptRestoreResult, PromptVersionDetail, PromptVersionList, PromptVersionResult
from ...names import DEFAULT_PROMPT_SOURCE
from ..bodies import PromptRestore, PromptVersionCreate
from ..render import reply
from ..routing import TokenFirstRoute
from ..schemas import documented
from .common import ERRORS, Authorized, OrgQuery, Repository, prompt_org

router = APIRouter(prefix="/api/prompts", tags=["Prompts"], route_class=TokenFirstRoute, responses=ERRORS)
PromptId = Annotated[str, Path(alias="promptId")]
Number = Annotated[str, Path(alias="n", description="A version number, latest, or an alias (production).")]


@router.post("/{promptId}/versions", status_code=201, response_model=documented(PromptVersionResult),
             summary="Create a prompt version checkpoint")
def create_prompt_version(prompt_id: PromptId, body: PromptVersionCreate, caller: Authorized, stores: Repository,
                   org_id: OrgQuery = None) -> Response:
    """Snapshot the prompt's text (``prompt``, or the current body) as a new version; unchanged text is a
    no-op answered with ``skipped: true`` and the latest version (still 201, as the seed says)."""
    store = stores.here()
    org = prompt_org(store, caller, prompt_id, org_id, live_only=True)
    result = store.create_prompt_version(prompt_id, org=org, text=body.prompt, label=body.label,
                                         display_version=body.display_version, title=body.title,
                                         description=body.description, source=body.source or DEFAULT_PROMPT_SOURCE)
    return reply(result, 201)


@router.get("/{promptId}/versions", response_model=documented(PromptVersionList), summary="List a prompt's versions")
def list_prompt_versions(prompt_id: PromptId, caller: Authorized, stores: Repository,
                         org_id: OrgQuery = None) -> Response:
    store = stores.here()
    org = prompt_org(store, caller, prompt_id, org_id)
    return reply(store.list_prompt_versions(prompt_id, org=org))


@router.get("/{promptId}/versions/{n}", response_model=documented(PromptVersionDetail),
            summary="Show one version with its text")
def show_prompt_version(prompt_id: PromptId, number: Number, caller: Authorized, stores: Repository,
                 org_id: OrgQuery = None) -> Response:
    store = stores.here()
    org = prompt_org(store, caller, prompt_id, org_id)
    return reply(store.show_prompt_version(prompt_id, number, org=org))


@router.post("/{promptId}/versions/{n}/restore", response_model=documented(PromptRestoreResult),
             summary="Restore a version as the live prompt")
def restore_prompt_version(prompt_id: PromptId, number: Number, caller: Authorized, stores: Repository,
                    body: Annotated[PromptRestore | None, Body()] = None, org_id: OrgQuery = None) -> Response:
    """Make the version's text the live prompt's body, authored by the token's user."""
    user = caller.acting_user(body.user_id if body else None)
    store = stores.here()
    org = prompt_org(store, caller, prompt_id, org_id)
    return reply(store.restore_prompt_version(prompt_id, number, org=org, user_id=user))
