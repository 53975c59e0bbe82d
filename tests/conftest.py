"""Shared fixtures: real bare repositories on disk, the real git CLI, and the gitsnap CLI."""

from __future__ import annotations

import gc
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from gitsnap import Store

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
ACME_ID = "64ee9a8b1e7f2a0011223344"
ALEX_ID = "64ee9a8b1e7f2a0011223399"
LEASING_PROMPT_ID = "65f9b1c2e8a1d4e001a0b1c4"

IDENTITY = {
    "GIT_AUTHOR_NAME": "Test Runner",
    "GIT_AUTHOR_EMAIL": "runner@gitsnap.test",
    "GIT_COMMITTER_NAME": "Pat Superadmin",
    "GIT_COMMITTER_EMAIL": "pat@acme.example",
}


@pytest.fixture(autouse=True)
def _git_identity(monkeypatch, tmp_path):
    """A known identity and no user/global git config leaking in from the machine."""
    for key, value in IDENTITY.items():
        monkeypatch.setenv(key, value)
    for key in ("GIT_AUTHOR_DATE", "GIT_COMMITTER_DATE", "GITSNAP_REPO"):
        monkeypatch.delenv(key, raising=False)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")


@pytest.fixture(autouse=True)
def _collect_stores():
    """Stores a test left open are collected now, not at interpreter exit (where dulwich's finalisers complain)."""
    yield
    gc.collect()


def git(repo: Path | str, *args: str, check: bool = True, input: bytes | None = None) -> str:
    """Run the real git CLI against a bare repository and return its stdout."""
    result = subprocess.run(["git", "--git-dir", str(repo), *args], capture_output=True, input=input, check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {result.stderr.decode()}")
    return result.stdout.decode()


def fsck(repo: Path | str) -> None:
    git(repo, "fsck", "--strict", "--no-dangling")


def all_refs(repo: Path | str) -> dict[str, str]:
    out = git(repo, "for-each-ref", "--format=%(refname) %(objectname)")
    return dict(line.split(" ", 1) for line in out.splitlines())


def all_objects(repo: Path | str) -> set[str]:
    out = git(repo, "cat-file", "--batch-all-objects", "--batch-check=%(objectname)")
    return set(out.split())


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def json(self):
        return json.loads(self.stdout)


def run_cli(*args: str, repo: Path | str | None = None, input: str | bytes | None = None,
            env: dict[str, str] | None = None, cwd: Path | str | None = None) -> CliResult:
    """Run ``gitsnap`` as a real process (its exit code and streams as a user sees them)."""
    command = [sys.executable, "-m", "gitsnap", *(["--repo", str(repo)] if repo else []), *args]
    data = input.encode() if isinstance(input, str) else input
    result = subprocess.run(command, capture_output=True, input=data, env={**os.environ, **(env or {})}, cwd=cwd)
    return CliResult(result.returncode, result.stdout.decode(), result.stderr.decode())


@pytest.fixture
def repo(tmp_path) -> Path:
    """An initialised, empty gitsnap repository."""
    path = tmp_path / "gitsnap.git"
    Store.init(path)
    return path


@pytest.fixture
def store(repo):
    with Store(repo) as opened:
        yield opened


@pytest.fixture
def acme_repo(repo) -> Path:
    """A repository holding the Acme Corp fixture as org 64ee9a8b1e7f2a0011223344."""
    with Store(repo) as store:
        store.import_org(str(FIXTURES / "acme.json"), user_id=ALEX_ID)
    return repo


@pytest.fixture
def acme_dir(tmp_path) -> Path:
    """A writable copy of the Acme Corp directory fixture."""
    target = tmp_path / "acme"
    shutil.copytree(FIXTURES / "acme", target)
    return target


# --- remotes: real git servers on 127.0.0.1, one of each per test module --------------------------


@pytest.fixture(scope="module")
def served(tmp_path_factory) -> Path:
    """The directory the module's git daemon and http-backend serve."""
    return tmp_path_factory.mktemp("served")


@pytest.fixture(scope="module")
def git_daemon(served, tmp_path_factory):
    from tests.servers import GitDaemon

    daemon = GitDaemon(served, tmp_path_factory.mktemp("daemon-home"))
    yield daemon
    daemon.stop()


@pytest.fixture(scope="module")
def http_backend(served, tmp_path_factory):
    from tests.servers import HttpBackend

    server = HttpBackend(served, tmp_path_factory.mktemp("http-home"))
    yield server
    server.stop()


@pytest.fixture
def new_remote(served, request):
    """``new_remote(*config)``: a new empty bare repository (real `git init --bare`) under ``served``."""
    from tests.servers import bare_repo

    counter = iter(range(100))
    base = "".join(c if c.isalnum() else "-" for c in request.node.name)[:80]

    def make(*config: tuple[str, str]) -> Path:
        return bare_repo(served, f"{base}-{next(counter)}.git", ("http.receivepack", "true"), *config)

    return make
