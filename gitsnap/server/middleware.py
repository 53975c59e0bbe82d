"""Pure ASGI middleware: a request id on every response and the 500 boundary; the request body limit."""

from __future__ import annotations

import logging
import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import BodyTooLarge, RefusedBody, envelope
from .render import json_response

log = logging.getLogger("gitsnap.server")
REQUEST_ID = "x-request-id"
_SAFE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class RequestIds:
    """Give each request an id (the caller's ``X-Request-Id`` when it is a plain token), send it back, and be
    the last boundary: an exception nothing else handled is logged with the id and answered with a 500
    envelope that names the id, never with a traceback."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        request_id = _request_id(scope)
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("request %s (%s %s) failed", request_id, scope["method"], scope["path"])
            if started:  # the status line is out: all that is left is to drop the connection
                raise
            details = f"the server failed on this request; its log has the details under request id {request_id}"
            document = {"error": "Internal error", "details": details}
            await json_response(document, 500, {"X-Request-Id": request_id})(scope, receive, send)


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"x-request-id":
            given = value.decode("latin-1")
            if _SAFE_ID.fullmatch(given):
                return given
    return uuid.uuid4().hex


class BodyLimit:
    """Refuse a request body over ``limit`` bytes: at once by its Content-Length, or while it is received
    (chunked), so no more than the limit is ever buffered."""

    def __init__(self, app: ASGIApp, limit: int):
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        length = _content_length(scope)
        if length is not None and length > self.limit:
            return await envelope(self.too_large(f"{length} bytes"))(scope, receive, send)
        received = 0

        async def receive_within_limit() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    raise RefusedBody(self.too_large(f"more than {self.limit} bytes"))
            return message

        await self.app(scope, receive_within_limit, send)

    def too_large(self, size: str) -> BodyTooLarge:
        return BodyTooLarge(f"the request body is {size}; this server takes at most {self.limit} "
                            f"(gitsnap serve --max-body); nothing was written")


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None
