"""The keys tokens are checked with: an HS256 secret, and a PEM public key for RS256 or ES256.

A key that could be misused is refused when the server starts (exit 2), not met per request: a
secret shorter than the 32 bytes RFC 7518 asks for HS256, an RSA key under 2048 bits, an EC key
not on P-256, a private key or certificate given as the public key.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidInput

SECRET_ENV = "GITSNAP_JWT_SECRET"
MIN_SECRET = 32


@dataclass(frozen=True)
class PublicKey:
    """A public key and the one algorithm tokens signed for it may use."""

    key: Any
    algorithm: str  # RS256 or ES256


def load_secret(secret_file: str | None) -> bytes | None:
    """The HS256 secret: the file's content (less one final line break), or $GITSNAP_JWT_SECRET; None without both."""
    if secret_file:
        try:
            with open(secret_file, "rb") as handle:
                secret = handle.read(64 * 1024).removesuffix(b"\n").removesuffix(b"\r")
        except OSError as error:
            raise InvalidInput(f"--jwt-secret-file {secret_file}: cannot be read ({error.strerror})") from None
        where = f"--jwt-secret-file {secret_file}"
    elif os.environ.get(SECRET_ENV):
        secret, where = os.environ[SECRET_ENV].encode("utf-8", "surrogateescape"), SECRET_ENV
    else:
        return None
    if len(secret) < MIN_SECRET:
        raise InvalidInput(f"{where} holds {len(secret)} bytes; an HS256 secret needs at least {MIN_SECRET} "
                           f"(for example: openssl rand -hex 32)")
    return secret


def require_secret(secret_file: str | None) -> bytes:
    secret = load_secret(secret_file)
    if secret is None:
        raise InvalidInput(f"no JWT secret: set {SECRET_ENV} or give --jwt-secret-file PATH")
    return secret


def load_public_key(value: str | None) -> PublicKey | None:
    """The PEM public key given as its text or as a file's path; None when not given."""
    if not value:
        return None
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    pem = value.encode() if value.lstrip().startswith("-----BEGIN") else _read_pem(value)
    try:
        key = load_pem_public_key(pem)
    except ValueError:
        raise InvalidInput("--jwt-public-key is not a PEM public key (-----BEGIN PUBLIC KEY-----); "
                           "give the public half only, never a private key or a certificate") from None
    if isinstance(key, rsa.RSAPublicKey):
        if key.key_size < 2048:
            raise InvalidInput(f"--jwt-public-key is a {key.key_size}-bit RSA key; RS256 needs at least 2048 bits")
        return PublicKey(key, "RS256")
    if isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
        return PublicKey(key, "ES256")
    raise InvalidInput("--jwt-public-key must be an RSA key (RS256) or an EC key on P-256 (ES256)")


def _read_pem(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read(64 * 1024)
    except OSError as error:
        raise InvalidInput(f"--jwt-public-key {path}: cannot be read ({error.strerror})") from None
