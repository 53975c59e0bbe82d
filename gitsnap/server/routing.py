"""The API's route class: the token is checked before anything else, then the body is read as JSON with
the library's rules.

FastAPI reads and parses a route's body before it solves the route's dependencies, so a token checked
only as a dependency would come after a 10 MiB body had been parsed, and a bad body would answer 400
to a caller without a token. Checked here, first, the token makes every such request a 401 that read
nothing; the ``bearer`` dependency then hands the checked caller to the route (and puts the scheme in
the OpenAPI document).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

from ..errors import GitsnapError
from ..sources import load_document
from .errors import BODY, RefusedBody


class LibraryJSONRequest(Request):
    """A request whose JSON body is parsed by the library's loader: duplicate keys, NaN, numbers out of
    range and lone surrogates (``"\\ud800"``) are refused with their place, as in a CLI document."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            try:
                self._json = load_document(await self.body(), BODY, as_json=True)
            except GitsnapError as error:
                raise RefusedBody(error) from None
        return self._json


class TokenFirstRoute(APIRoute):
    """Every API route: the caller's token checked first, then the request handled by FastAPI as usual."""

    def get_route_handler(self):
        handle = super().get_route_handler()

        async def handler(request: Request) -> Response:
            request = LibraryJSONRequest(request.scope, request.receive)
            request.state.caller = request.app.state.verifier.caller(request.headers.get("authorization"))
            return await handle(request)

        return handler
