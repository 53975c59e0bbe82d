"""Running the service on uvicorn: one process, or ``--workers N`` processes sharing one socket."""

from __future__ import annotations

import copy
import os
import socket

import uvicorn
from uvicorn.config import LOGGING_CONFIG
from uvicorn.supervisors import Multiprocess

from .app import create_app
from .config import ServerConfig, worker_environment

FACTORY = "gitsnap.server.app:app_from_env"


def serve(config: ServerConfig, host: str, port: int, workers: int, secret_file: str | None,
          public_key: str | None) -> None:
    """Serve until stopped (SIGINT, SIGTERM); with several workers, each rebuilds the app from the environment."""
    options = dict(host=host, port=port, log_config=log_config(), server_header=False)
    if workers == 1:
        uvicorn.run(create_app(config), **options)
        return
    os.environ.update(worker_environment(config.repo, secret_file, public_key, config.max_body,
                                          config.protected_aliases))
    settings = uvicorn.Config(FACTORY, factory=True, workers=workers, **options)
    # What uvicorn.run does for workers, but with a socket asyncio knows is TCP: uvicorn binds it with
    # proto 0, and asyncio sets TCP_NODELAY on accepted connections only for IPPROTO_TCP, so every
    # keep-alive response waited ~40 ms on a delayed ACK (p50 of a version create: 56 ms instead of
    # 10; uvicorn issue #3149).
    bound = settings.bind_socket()
    Multiprocess(settings, sockets=[socket.socket(bound.family, bound.type, socket.IPPROTO_TCP,
                                                  fileno=bound.detach())]).run()


def log_config() -> dict:
    """uvicorn's logging, with the service's own logger (failed requests, by request id) on the same handler."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config["loggers"]["gitsnap"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    return config
