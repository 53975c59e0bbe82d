"""Tokens for ``gitsnap token create``: HS256, signed with the secret ``gitsnap serve`` checks them with."""

from __future__ import annotations

import re
import time

import jwt

from ..errors import InvalidInput
from ..models import Result, iso_utc, renamed, require_identifier, result

EVERY_ORG = "*"
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
MAX_LIFETIME = 366 * 86400
_DURATION = re.compile(r"([1-9][0-9]{0,8})([smhd])")


@result
class TokenResult(Result):
    token: str
    expires_at: str = renamed("expiresAt")


def lifetime(text: str) -> int:
    """Seconds in a duration such as ``90s``, ``15m``, ``1h``, ``30d``; InvalidInput for anything else."""
    match = _DURATION.fullmatch(text)
    seconds = int(match[1]) * UNITS[match[2]] if match else 0
    if not match or seconds > MAX_LIFETIME:
        raise InvalidInput(f"--expires {text!r} is not a duration of 1s to 366d "
                           "(a whole number and s, m, h or d: 1h, 30d)")
    return seconds


def mint(secret: bytes, user: str, orgs: list[str], expires: str, role: str | None = None) -> TokenResult:
    """An HS256 token for ``user`` on ``orgs`` (``*``: every org), valid for ``expires``."""
    require_identifier("user", user)
    if not orgs:
        raise InvalidInput("give the orgs the token may use: --org ORG (repeatable; --org '*' for every org)")
    for org in orgs:
        if org != EVERY_ORG:
            require_identifier("org", org)
    now = int(time.time())
    expiry = now + lifetime(expires)
    claims = {"sub": user, "orgs": list(dict.fromkeys(orgs)), "iat": now, "exp": expiry}
    if role is not None:
        claims["role"] = role
    return TokenResult(token=jwt.encode(claims, secret, algorithm="HS256"), expires_at=iso_utc(expiry))
