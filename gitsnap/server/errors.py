"""The error envelope: every non-2xx response is ``{"error", "details"}`` (plus ``result`` when there is one).

The library's ``GitsnapError`` classes carry their HTTP status; the service adds three of its own
(401, 403, 413). FastAPI's validation errors and Starlette's HTTP errors (unknown route, wrong
method) become the same envelope, so no ``{"detail": [...]}`` ever leaves the service.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.responses import Response

from ..errors import GitsnapError, InvalidInput, NotFound
from ..layout import document_path
from .render import json_response

BODY = "request body"


class Unauthorized(GitsnapError):
    """No token, or one that is malformed, badly signed, expired or without the claims needed (401)."""

    exit_code = 2  # these three are the service's; were one raised on the command line, it would be a usage error
    http_status = 401
    title = "Unauthorized"
    headers = {"WWW-Authenticate": "Bearer"}


class Forbidden(GitsnapError):
    """A valid token asking for an org (or a user) outside its claims (403)."""

    exit_code = 2
    http_status = 403
    title = "Forbidden"


class BodyTooLarge(GitsnapError):
    """A request body over the server's limit (413)."""

    exit_code = 2
    http_status = 413
    title = "Request body too large"


class HTTPError(GitsnapError):
    """One of Starlette's own HTTP errors (a method a route does not take, ...), to be rendered as the envelope."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None):
        super().__init__(message, title=_TITLES.get(status, "Error"))
        self.http_status = status
        self.headers = dict(headers or {})


class RefusedBody(HTTPException):
    """A library error met while FastAPI reads a body: FastAPI lets an HTTPException through unchanged."""

    def __init__(self, error: GitsnapError):
        super().__init__(status_code=error.http_status, detail=error.message)
        self.error = error


class ErrorEnvelope(BaseModel):
    """Seed 001's error envelope."""

    error: str
    details: str
    result: dict[str, Any] | None = None


def envelope(error: GitsnapError) -> Response:
    """The JSON error document of a library (or service) error, with its status."""
    document: dict[str, Any] = {"error": error.title, "details": "\n".join(error.lines())}
    if error.result is not None:
        document["result"] = error.result.to_json()
    return json_response(document, error.http_status, getattr(error, "headers", None))


def install_handlers(app: FastAPI) -> None:
    """Render library errors, refused bodies, validation errors and Starlette's HTTP errors as the envelope."""

    @app.exception_handler(GitsnapError)
    async def library_error(_request: Request, error: GitsnapError) -> Response:
        return envelope(error)

    @app.exception_handler(RefusedBody)
    async def refused_body(_request: Request, error: RefusedBody) -> Response:
        return envelope(error.error)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, error: RequestValidationError) -> Response:
        return envelope(validation_error(error.errors()))

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, error: HTTPException) -> Response:
        return envelope(_http_error(request, error))


def _http_error(request: Request, error: HTTPException) -> GitsnapError:
    if error.status_code == 404:
        return NotFound(f"no such endpoint: {request.method} {request.url.path} (GET /docs lists them)")
    return HTTPError(error.status_code, str(error.detail), error.headers)


_TITLES = {400: "Invalid input", 405: "Method not allowed", 413: "Request body too large"}


# --- FastAPI's validation errors, in the library's words -------------------------------------------


def validation_error(items: list[dict[str, Any]]) -> InvalidInput:
    """One InvalidInput naming each field and value pydantic refused (the CLI's wording)."""
    problems = [f"{_where(item['loc'])}{_what(item)}" for item in items]
    if len(problems) == 1:
        return InvalidInput(f"{problems[0]}; nothing was written")
    return InvalidInput(f"{len(problems)} problems in the request; nothing was written:", problems=problems)


def _where(loc: tuple) -> str:
    kind, path = (loc[0], tuple(loc[1:])) if loc else ("body", ())
    if kind == "body":
        return f"{document_path(BODY, path)}: "
    what = {"query": "query parameter", "path": "path parameter", "header": "header"}.get(str(kind), str(kind))
    return f"{what} {'.'.join(map(str, path))}: "


def _what(item: dict[str, Any]) -> str:
    kind, value = item["type"], item.get("input")
    if kind == "missing":
        return "required, but missing" if item["loc"][1:] else "a JSON object is required"
    if kind == "extra_forbidden":
        return "unknown field (it is not part of this endpoint's body)"
    if kind in ("model_attributes_type", "dict_type", "model_type"):
        if isinstance(value, (bytes, bytearray)):
            return "not JSON (send it with Content-Type: application/json)"
        return f"expected a JSON object, got {_json_type(value)}"
    message = item["msg"].removeprefix("Value error, ")
    if isinstance(value, (dict, list)):
        return f"{message} (got {_json_type(value)})"
    shown = repr(value)
    return f"{message} (got {shown if len(shown) <= 80 else shown[:77] + '...'})"


def _json_type(value: Any) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a number",
            float: "a number", type(None): "null"}.get(type(value), type(value).__name__)
