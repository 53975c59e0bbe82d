"""``/api/prompts/{promptId}/aliases``: movable names for versions (``production``, ``staging``).

Moving or deleting an alias the server protects (``serve --protect-alias production``) needs a token
whose role is ``admin``; reading never does.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Path, Request
from fastapi.responses import Response

from ...models import AliasDeleteResult, AliasHistory, AliasList, AliasSetResult
from ..auth import Caller
from ..bodies import AliasDelete, AliasSet
from ..render import reply
from ..routing import TokenFirstRoute
from ..schemas import documented
from .common import ERRORS, Authorized, OrgQuery, Repository, prompt_org

router = APIRouter(prefix="/api/prompts", tags=["Prompt aliases"], route_class=TokenFirstRoute, responses=ERRORS)
PromptId = Annotated[str, Path(alias="promptId")]
AliasName = Annotated[str, Path(alias="alias", description="An alias name (an identifier; not latest).")]


@router.get("/{promptId}/aliases", response_model=documented(AliasList), summary="List a prompt's aliases")
def list_prompt_aliases(prompt_id: PromptId, caller: Authorized, stores: Repository,
                        org_id: OrgQuery = None) -> Response:
    store = stores.here()
    return reply(store.list_prompt_aliases(prompt_id, org=prompt_org(store, caller, prompt_id, org_id)))


@router.put("/{promptId}/aliases/{alias}", response_model=documented(AliasSetResult),
            summary="Point an alias at a version")
def set_prompt_alias(prompt_id: PromptId, alias: AliasName, body: AliasSet, caller: Authorized, stores: Repository,
                     request: Request, org_id: OrgQuery = None) -> Response:
    """Move the alias to ``version`` (a number, ``latest`` or another alias); already there is a no-op with
    ``skipped: true``. With ``expect`` (a version number, or ``none`` for absent) it is a compare-and-swap:
    409 naming where the alias is when it is elsewhere."""
    _may_move(request, caller, alias)
    store = stores.here()
    org = prompt_org(store, caller, prompt_id, org_id)
    return reply(store.set_prompt_alias(prompt_id, alias, body.version, org=org, expect=body.expect,
                                        reason=body.reason, user_id=caller.acting_user(None)))


@router.delete("/{promptId}/aliases/{alias}", response_model=documented(AliasDeleteResult), summary="Delete an alias")
def delete_prompt_alias(prompt_id: PromptId, alias: AliasName, caller: Authorized, stores: Repository,
                        request: Request, body: Annotated[AliasDelete | None, Body()] = None,
                        org_id: OrgQuery = None) -> Response:
    """Delete the alias; its history stays readable (the deletion is its last entry)."""
    _may_move(request, caller, alias)
    store = stores.here()
    org = prompt_org(store, caller, prompt_id, org_id)
    return reply(store.delete_prompt_alias(prompt_id, alias, org=org, expect=body.expect if body else None,
                                           reason=body.reason if body else None, user_id=caller.acting_user(None)))


@router.get("/{promptId}/aliases/{alias}/history", response_model=documented(AliasHistory),
            summary="Every move of an alias")
def prompt_alias_history(prompt_id: PromptId, alias: AliasName, caller: Authorized, stores: Repository,
                         org_id: OrgQuery = None) -> Response:
    store = stores.here()
    return reply(store.prompt_alias_history(prompt_id, alias, org=prompt_org(store, caller, prompt_id, org_id)))


def _may_move(request: Request, caller: Caller, alias: str) -> None:
    caller.may_move_alias(alias, request.app.state.protected_aliases)
