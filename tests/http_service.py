"""A real ``gitsnap serve`` process on 127.0.0.1 for the HTTP tests, with the repository and tokens they share.

The server is started as a user starts it (``python -m gitsnap serve``), found ready by the line uvicorn
logs once it listens, called with a real HTTP client, and stopped by its PID.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import jwt
import pytest

from gitsnap import Store
from tests.conftest import ACME_ID, ALEX_ID, FIXTURES, IDENTITY
from tests.servers import free_port, server_env

SECRET = "test-secret-for-gitsnap-serve-0123456789abcdef"
INITECH_ID = "66aa00000000000000000002"
INITECH_USER = "66aa00000000000000000099"
INITECH_ONLY_PROMPT = "77bb00000000000000000001"
INITECH_ONLY_STUB = "initech-only-flow"


class GitsnapServer:
    """``gitsnap serve`` on a free port of 127.0.0.1; its log is kept in ``lines``."""

    def __init__(self, repo: Path, home: Path, *options: str, env: dict[str, str] | None = None):
        self.port = free_port()
        self.lines: list[str] = []
        log = ""
        self._changed = threading.Condition()
        environment = {**server_env(home), **IDENTITY, "GITSNAP_JWT_SECRET": SECRET, **(env or {})}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gitsnap", "--repo", str(repo), "serve", "--port", str(self.port), *options],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,  # stdout: uvicorn's access log
            env={k: v for k, v in environment.items() if v is not None})
        # Ready when uvicorn has bound the socket ("Uvicorn running on") and every worker has started its app:
        # a worker listens right after it logs "Application startup complete" (with --workers N, the parent
        # binds the socket but only the workers listen on it).
        workers = int(options[options.index("--workers") + 1]) if "--workers" in options else 1
        self.url = f"http://127.0.0.1:{self.port}"
        self.http = httpx.Client(base_url=self.url, timeout=60)
        try:
            for line in self.process.stderr:
                self.lines.append(line.decode(errors="replace"))
                log = "".join(self.lines)
                if "Uvicorn running on" in log and log.count("Application startup complete") >= workers:
                    break
            else:
                raise RuntimeError(f"gitsnap serve did not start (exit {self.process.wait()}): {log}")
            threading.Thread(target=self._drain, daemon=True).start()
            self.http.get("/healthz").raise_for_status()
        except BaseException:
            self.stop()  # a server that did not come up is never left running
            raise

    def _drain(self) -> None:
        for line in self.process.stderr:
            with self._changed:
                self.lines.append(line.decode(errors="replace"))
                self._changed.notify_all()

    def wait_for_log(self, text: str, timeout: float = 30) -> str:
        """The log so far once it holds ``text`` (the server writes it before it answers, the pipe may lag)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while text not in "".join(self.lines):
                if not self._changed.wait(deadline - time.monotonic()):
                    raise AssertionError(f"{text!r} not in the server's log: {''.join(self.lines)}")
            return "".join(self.lines)

    def stop(self) -> None:
        self.http.close()
        self.process.terminate()  # SIGTERM to its PID: uvicorn shuts down (and stops its workers)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:  # never left running: the workers, then the parent, by their PIDs
            for pid in self.worker_pids():
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            self.process.kill()
            self.process.wait()

    def worker_pids(self) -> list[int]:
        """The worker processes' PIDs, as uvicorn logs them ("Started server process [PID]")."""
        found = (re.search(r"Started server process \[(\d+)\]", line) for line in list(self.lines))
        return [int(match[1]) for match in found if match and int(match[1]) != self.process.pid]


def token(user: str = ALEX_ID, orgs: list[str] | None = None, *, secret: str = SECRET, algorithm: str = "HS256",
          expires_in: int = 600, **claims) -> str:
    """A signed token; ``claims`` set or (with None) remove claims."""
    payload = {"sub": user, "orgs": [ACME_ID] if orgs is None else orgs, "exp": int(time.time()) + expires_in}
    payload.update(claims)
    payload = {key: value for key, value in payload.items() if value is not None}
    return jwt.encode(payload, secret, algorithm=algorithm)


def bearer(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


def initech_document() -> dict:
    """A second org: Acme's export under another id and name, plus a prompt and a stub of its own."""
    document = copy.deepcopy(json.loads((FIXTURES / "acme.json").read_text()))
    document["org"] = {"id": INITECH_ID, "name": "Initech"}
    document["users"].append({"id": INITECH_USER, "name": "Bill Lumbergh", "email": "bill@initech.example"})
    document["prompts"].append({"id": INITECH_ONLY_PROMPT, "title": "TPS reports", "body": "Did you get the memo?"})
    document["stubs"].append({"stubref": INITECH_ONLY_STUB, "data": {"step": 1}, "chats": {"only_chat": {"turn": 1}}})
    return document


def build_two_orgs(repo: Path) -> Path:
    """A repository holding Acme (its fixture) and Initech (which shares Acme's prompt ids and stubrefs)."""
    with pytest.MonkeyPatch.context() as patch:
        for key, value in IDENTITY.items():
            patch.setenv(key, value)
        Store.init(repo)
        with Store(repo) as store:
            store.import_org(str(FIXTURES / "acme.json"), user_id=ALEX_ID)
            store.import_org(json.dumps(initech_document()).encode(), user_id=INITECH_USER)
    return repo


def module_server(name: str, *options: str):
    """A test module's fixtures: ``repo`` (two orgs), ``server`` (one gitsnap serve over it) and ``http``."""

    @pytest.fixture(scope="module")
    def repo(tmp_path_factory):
        return build_two_orgs(tmp_path_factory.mktemp(name) / "gitsnap.git")

    @pytest.fixture(scope="module")
    def server(repo, tmp_path_factory):
        running = GitsnapServer(repo, tmp_path_factory.mktemp("home"), *options)
        yield running
        running.stop()

    @pytest.fixture
    def http(server):
        return server.http

    return repo, server, http
