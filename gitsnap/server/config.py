"""What the service needs to start: the repository, the keys tokens are checked with, the body limit.

``gitsnap serve`` builds it from its options (and refuses to start, exit 2, when no key is given);
with ``--workers N`` each uvicorn worker process builds it again from the environment the command
set, since a worker is started from an import string, not handed the parent's objects.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass

from ..errors import InvalidInput
from ..models import require_identifier
from ..names import DEFAULT_REPO
from .keys import SECRET_ENV, PublicKey, load_public_key, load_secret

REPO_ENV = "GITSNAP_REPO"
SECRET_FILE_ENV = "GITSNAP_JWT_SECRET_FILE"
PUBLIC_KEY_ENV = "GITSNAP_JWT_PUBLIC_KEY"
MAX_BODY_ENV = "GITSNAP_MAX_BODY"
PROTECTED_ENV = "GITSNAP_PROTECTED_ALIASES"  # names are identifiers: a space separates them
DEFAULT_MAX_BODY = 10 * 2**20


@dataclass(frozen=True)
class ServerConfig:
    repo: str
    secret: bytes | None
    public_key: PublicKey | None
    max_body: int = DEFAULT_MAX_BODY
    protected_aliases: frozenset[str] = frozenset()  # moving or deleting these needs role admin

    @classmethod
    def load(cls, repo: str, secret_file: str | None = None, public_key: str | None = None,
             max_body: int = DEFAULT_MAX_BODY, protected_aliases: Iterable[str] = ()) -> ServerConfig:
        """The configuration the options describe; InvalidInput when it cannot check any token."""
        for alias in protected_aliases:
            require_identifier("protected alias", alias)
        config = cls(os.path.abspath(repo), load_secret(secret_file), load_public_key(public_key), max_body,
                     frozenset(protected_aliases))
        if config.secret is None and config.public_key is None:
            raise InvalidInput(f"no key to check tokens with: set {SECRET_ENV}, or give --jwt-secret-file PATH "
                               "or --jwt-public-key PEM")
        return config

    @classmethod
    def from_env(cls) -> ServerConfig:
        """The configuration a worker process reads from the environment ``gitsnap serve`` set."""
        return cls.load(os.environ.get(REPO_ENV) or DEFAULT_REPO, os.environ.get(SECRET_FILE_ENV),
                        os.environ.get(PUBLIC_KEY_ENV), int(os.environ.get(MAX_BODY_ENV) or DEFAULT_MAX_BODY),
                        os.environ.get(PROTECTED_ENV, "").split())


def worker_environment(repo: str, secret_file: str | None, public_key: str | None, max_body: int,
                       protected_aliases: Iterable[str] = ()) -> dict[str, str]:
    """The variables from which ``ServerConfig.from_env`` rebuilds these options in a worker."""
    env = {REPO_ENV: os.path.abspath(repo), MAX_BODY_ENV: str(max_body), PROTECTED_ENV: " ".join(protected_aliases)}
    if secret_file:
        env[SECRET_FILE_ENV] = os.path.abspath(secret_file)
    if public_key:
        is_pem = public_key.lstrip().startswith("-----BEGIN")
        env[PUBLIC_KEY_ENV] = public_key if is_pem else os.path.abspath(public_key)
    return env
