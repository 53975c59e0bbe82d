"""Bearer tokens: who is calling (``sub``) and which orgs it may use (``orgs``; ``["*"]`` is every org).

HS256 tokens are checked with the secret, RS256/ES256 tokens with the public key, each key only
with its own algorithm: the token's header picks which key, never which algorithm a key accepts,
so ``none`` and an HS256 token "signed" with the public key's bytes are refused. ``exp`` is
required and honoured.
"""

from __future__ import annotations

from dataclasses import dataclass

import jwt
from fastapi.security import HTTPBearer
from starlette.requests import HTTPConnection

from .errors import Forbidden, Unauthorized
from .keys import PublicKey
from .tokens import EVERY_ORG


@dataclass(frozen=True)
class Caller:
    """A verified token: the user, the orgs it may use (None: every org) and its role."""

    user: str
    orgs: frozenset[str] | None  # what Store's lookups take as ``among``
    role: str | None = None

    def require(self, org: str) -> str:
        """``org`` when the token may use it; Forbidden otherwise (whether or not the org exists)."""
        if self.orgs is not None and org not in self.orgs:
            raise Forbidden(f"this token (user {self.user}) may not use org {org!r}; its orgs: "
                            f"{', '.join(sorted(self.orgs)) or 'none'}")
        return org

    def may_move_alias(self, alias: str, protected: frozenset[str]) -> None:
        """Forbidden unless the alias is unprotected or the token's role is admin."""
        if alias in protected and self.role != "admin":
            raise Forbidden(f"alias {alias!r} is protected on this server: moving or deleting it needs a token "
                            "with role admin")

    def acting_user(self, named: str | None) -> str:
        """The user a write is recorded for: the token's own, which a body may name but not change."""
        if named is not None and named != self.user:
            raise Forbidden(f"this token is user {self.user}'s; it may not act for user {named!r}")
        return self.user


class Verifier:
    """Checks a token with the key its header names."""

    def __init__(self, secret: bytes | None, public_key: PublicKey | None):
        self.keys = {}
        if secret is not None:
            self.keys["HS256"] = secret
        if public_key is not None:
            self.keys[public_key.algorithm] = public_key.key

    def caller(self, authorization: str | None) -> Caller:
        """The caller an ``Authorization`` header proves; Unauthorized saying what is wrong with it."""
        claims = self.claims(_bearer_token(authorization))
        orgs = claims.get("orgs")
        if not isinstance(orgs, list) or not all(isinstance(org, str) for org in orgs):
            raise Unauthorized("the token's orgs claim must be a list of org ids (or [\"*\"])")
        role = claims.get("role")
        if role is not None and not isinstance(role, str):
            raise Unauthorized("the token's role claim must be a string")
        return Caller(claims["sub"], None if EVERY_ORG in orgs else frozenset(orgs), role)

    def claims(self, token: str) -> dict:
        try:
            algorithm = jwt.get_unverified_header(token).get("alg")
        except jwt.DecodeError:
            raise Unauthorized("the bearer token is not a JWT") from None
        key = self.keys.get(algorithm) if isinstance(algorithm, str) else None
        if key is None:
            raise Unauthorized(f"tokens signed with {algorithm!r} are not accepted here "
                               f"(this server accepts {', '.join(sorted(self.keys))})")
        try:
            claims = jwt.decode(token, key, algorithms=[algorithm], options={"require": ["exp", "sub"]})
        except jwt.ExpiredSignatureError:
            raise Unauthorized("the token has expired") from None
        except jwt.InvalidSignatureError:
            raise Unauthorized("the token's signature does not match") from None
        except jwt.MissingRequiredClaimError as error:
            raise Unauthorized(f"the token has no {error.claim} claim") from None
        except jwt.InvalidTokenError as error:
            raise Unauthorized(f"the token is not valid: {error}") from None
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise Unauthorized("the token's sub claim must be a user id")
        return claims


def _bearer_token(authorization: str | None) -> str:
    if not authorization:
        raise Unauthorized("no token: send Authorization: Bearer <JWT> (gitsnap token create mints one)")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("the Authorization header is not 'Bearer <JWT>'")
    return token.strip()


class BearerAuth(HTTPBearer):
    """The route dependency: the verified Caller (and, for OpenAPI, the bearerAuth scheme)."""

    def __init__(self) -> None:
        super().__init__(bearerFormat="JWT", scheme_name="bearerAuth", auto_error=False,
                         description='A JWT: sub = the user id, orgs = the org ids it may use (["*"]: every org), exp.')

    async def __call__(self, request: HTTPConnection) -> Caller:  # type: ignore[override]
        checked = getattr(request.state, "caller", None)  # TokenFirstRoute checked it before the body was read
        return checked or request.app.state.verifier.caller(request.headers.get("authorization"))


bearer = BearerAuth()
