"""The application: ``create_app(config)``, and ``app_from_env()`` for each uvicorn worker process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from pydantic import BaseModel

from .. import __version__
from .auth import Verifier
from .config import ServerConfig
from .errors import install_handlers
from .middleware import BodyLimit, RequestIds
from .routes import aliases, org_snapshots, orgs, prompts, stubs
from .stores import Stores

DESCRIPTION = """The gitsnap repository's org snapshots, prompt versions and stub snapshots, as the platforms'
own endpoints. Every route but /healthz, /openapi.json and /docs needs `Authorization: Bearer <JWT>`
(`sub`: the user, `orgs`: the org ids it may use, `exp`). Results are the CLI's `--json` documents;
every error is `{"error", "details"}`."""


class Health(BaseModel):
    status: str


def create_app(config: ServerConfig) -> FastAPI:
    """The service over the repository ``config.repo``, checking tokens with ``config``'s keys."""
    stores = Stores(config.repo)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        stores.close()

    app = FastAPI(title="gitsnap", version=__version__, description=DESCRIPTION, lifespan=lifespan,
                  generate_unique_id_function=lambda route: route.name)  # operationId: the function's name
    app.state.verifier = Verifier(config.secret, config.public_key)
    app.state.stores = stores
    app.state.protected_aliases = config.protected_aliases
    install_handlers(app)
    app.add_middleware(BodyLimit, limit=config.max_body)
    app.add_middleware(RequestIds)  # added last: outermost, so every response (a 413 too) carries the id
    for module in (org_snapshots, orgs, prompts, aliases, stubs):
        app.include_router(module.router)

    @app.get("/healthz", response_model=Health, tags=["Health"], summary="Liveness (no token needed)")
    async def healthz() -> Health:
        return Health(status="ok")

    return app


def app_from_env() -> FastAPI:
    """The application a ``--workers N`` worker builds from the environment ``gitsnap serve`` set."""
    return create_app(ServerConfig.from_env())
