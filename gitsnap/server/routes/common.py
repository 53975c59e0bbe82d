"""What every route shares: the caller, this thread's Store, ``?orgId=`` and the org it names, the error responses."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query, Request, Security

from ...store import Store
from ..auth import Caller, bearer
from ..errors import ErrorEnvelope
from ..stores import Stores


async def _stores(request: Request) -> Stores:
    return request.app.state.stores


Authorized = Annotated[Caller, Security(bearer)]
Repository = Annotated[Stores, Depends(_stores)]
OrgQuery = Annotated[str | None, Query(alias="orgId", description="The org; without it, the one of the token's "
                                                                   "orgs that holds the id (exactly one must).")]

# Every route documents the envelope for its errors; "default" also keeps FastAPI from documenting
# a 422 {"detail": [...]} the service never sends.
ERRORS = {
    400: {"model": ErrorEnvelope, "description": "Invalid input: the field and the value"},
    401: {"model": ErrorEnvelope, "description": "No token, or one that is malformed, badly signed or expired"},
    403: {"model": ErrorEnvelope, "description": "The token may not use this org (or act for this user)"},
    404: {"model": ErrorEnvelope, "description": "Not found (among the token's orgs)"},
    409: {"model": ErrorEnvelope, "description": "Conflict: lost a race after retries"},
    413: {"model": ErrorEnvelope, "description": "Request body over the server's limit"},
    500: {"model": ErrorEnvelope, "description": "Internal error (no traceback; see X-Request-Id in the log)"},
    "default": {"model": ErrorEnvelope, "description": "Any other error, in the same envelope"},
}


def prompt_org(store: Store, caller: Caller, prompt_id: str, org: str | None, live_only: bool = False) -> str:
    """The org of a prompt route: ``?orgId=`` if the token may use it, else the one of its orgs with the prompt."""
    if org is not None:
        return caller.require(org)
    return store.prompt_org(prompt_id, among=caller.orgs, live_only=live_only)


def stub_org(store: Store, caller: Caller, stubref: str, org: str | None, live_only: bool = False) -> str:
    """The org a stub route works in: ``?orgId=`` if the token may use it, else the one of its orgs with the stub."""
    if org is not None:
        return caller.require(org)
    return store.stub_org(stubref, among=caller.orgs, live_only=live_only)
