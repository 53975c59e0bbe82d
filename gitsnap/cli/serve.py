"""``gitsnap serve`` and ``gitsnap token create``: the HTTP service and the tokens it accepts.

FastAPI, uvicorn and PyJWT are imported inside these commands only (the ``server`` extra), so the
rest of the CLI starts without them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from ..errors import GitsnapError
from .base import Command, Group, State, pass_state

DEFAULT_MAX_BODY = 10 * 2**20


@contextmanager
def server_extra() -> Iterator[None]:
    """Imports of the server stack; without it installed, one line saying how to install it."""
    try:
        yield
    except ModuleNotFoundError as error:
        raise GitsnapError(f"this command needs the server extra ({error.name} is not installed): "
                           "pip install 'gitsnap[server]'", title="Missing dependency") from error
SECRET_FILE_OPTION = click.option(
    "--jwt-secret-file", metavar="PATH", envvar="GITSNAP_JWT_SECRET_FILE",
    help="A file holding the HS256 secret (at least 32 bytes) [default: $GITSNAP_JWT_SECRET].")


@click.command(cls=Command)
@click.option("--host", default="127.0.0.1", show_default=True, help="The address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=2212, show_default=True, help="The port to listen on.")
@click.option("--workers", type=click.IntRange(min=1), default=1, show_default=True,
              help="Worker processes (all write safely to the one repository: every write is a compare-and-swap).")
@SECRET_FILE_OPTION
@click.option("--jwt-public-key", metavar="PEM", envvar="GITSNAP_JWT_PUBLIC_KEY",
              help="A PEM public key (its text or a file's path) for RS256 or ES256 tokens from an identity provider.")
@click.option("--max-body", type=click.IntRange(min=0), default=DEFAULT_MAX_BODY, show_default=True, metavar="BYTES",
              envvar="GITSNAP_MAX_BODY", help="The largest request body accepted (413 above it).")
@click.option("--protect-alias", "protected_aliases", multiple=True, metavar="ALIAS",
              help="Moving or deleting this prompt alias over HTTP needs a token with role admin (repeatable).")
@pass_state
def serve(state: State, host: str, port: int, workers: int, jwt_secret_file: str | None, jwt_public_key: str | None,
          max_body: int, protected_aliases: tuple[str, ...]) -> None:
    """Serve the platforms' endpoints over HTTP (FastAPI on uvicorn): org snapshots, orgs, prompt versions,
    stub snapshots. Every route but /healthz, /openapi.json and /docs needs a Bearer JWT: HS256 with the
    secret in GITSNAP_JWT_SECRET (or --jwt-secret-file), or RS256/ES256 with --jwt-public-key. Without
    any key the server does not start (exit 2).

    \b
    Example:
      export GITSNAP_JWT_SECRET=$(openssl rand -hex 32)
      gitsnap serve --repo /srv/config/gitsnap.git --port 2212 --workers 2 --protect-alias production
      curl -H "Authorization: Bearer $(gitsnap token create --user 64ee9a8b1e7f2a0011223399 --org '*')" \\
          localhost:2212/api/orgs
    """
    with server_extra():
        from ..server.config import ServerConfig
        from ..server.runner import serve as run

    config = ServerConfig.load(state.repo, jwt_secret_file, jwt_public_key, max_body, protected_aliases)
    state.store  # noqa: B018 (opened here so that a path that is no repository stops the start: exit 3)
    run(config, host, port, workers, jwt_secret_file, jwt_public_key)


@click.group(cls=Group)
def token() -> None:
    """Tokens for gitsnap serve."""


@token.command("create")
@click.option("--user", "user_id", required=True, metavar="UID", help="The token's user (its sub claim).")
@click.option("--org", "orgs", required=True, multiple=True, metavar="ORG",
              help="An org the token may use (repeatable; '*' for every org).")
@click.option("--expires", default="1h", show_default=True, metavar="DURATION",
              help="How long it is valid: a whole number and s, m, h or d (at most 366d).")
@click.option("--role", type=click.Choice(["admin"]), help="The token's role claim.")
@SECRET_FILE_OPTION
@pass_state
def create(state: State, user_id: str, orgs: tuple[str, ...], expires: str, role: str | None,
           jwt_secret_file: str | None) -> None:
    """Print an HS256 token signed with the secret gitsnap serve checks tokens with.

    With --json: {"token": ..., "expiresAt": ...}.

    \b
    Example:
      gitsnap token create --user 64ee9a8b1e7f2a0011223399 --org 64ee9a8b1e7f2a0011223344 --expires 15m
      gitsnap token create --user 64ee9a8b1e7f2a0011223390 --org '*' --role admin --json
    """
    with server_extra():
        from ..server.keys import require_secret
        from ..server.tokens import mint

    state.emit(mint(require_secret(jwt_secret_file), user_id, list(orgs), expires, role), lambda result: result.token)
