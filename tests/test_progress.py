"""Long work shows progress on stderr when it is a terminal, and is quiet otherwise and under --json."""

from __future__ import annotations

import os
import pty
import subprocess
import sys

import pytest

from gitsnap import Store, yamlio

from .conftest import ALEX_ID, FIXTURES

ENTITIES = 1200


@pytest.fixture
def big_org(tmp_path):
    """An org directory of 1,200 templates (progress is reported every 500 files)."""
    root = tmp_path / "big"
    (root / "templates").mkdir(parents=True)
    (root / "org.yaml").write_bytes(yamlio.dump({"id": "big", "name": "Big Org"}))
    for n in range(ENTITIES):
        ident = f"t{n:05d}"
        (root / "templates" / f"{ident}.yaml").write_bytes(yamlio.dump({"id": ident, "name": f"Template {n}"}))
    return root


def run_on_terminal(*args: str, tty: bool = True) -> tuple[int, str, str]:
    """Run gitsnap with stderr on a pseudo-terminal (or a pipe); (exit code, stdout, stderr)."""
    command = [sys.executable, "-m", "gitsnap", *args]
    if not tty:
        result = subprocess.run(command, capture_output=True)
        return result.returncode, result.stdout.decode(), result.stderr.decode()
    controller, terminal = pty.openpty()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=terminal)
    os.close(terminal)
    seen = b""
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal closed: the process is done with it
            break
        if not chunk:
            break
        seen += chunk
    stdout, _ = process.communicate()
    os.close(controller)
    return process.returncode, stdout.decode(), seen.decode().replace("\r\n", "\n")


def test_import_reports_files_read_on_a_terminal(repo, big_org):
    code, _, stderr = run_on_terminal("--repo", str(repo), "org", "import", str(big_org))
    assert code == 0
    assert f"Reading files: 500/{ENTITIES}" in stderr and f"Reading files: 1000/{ENTITIES}" in stderr
    assert stderr.count(f"Reading files: {ENTITIES}/{ENTITIES}\n") == 1


@pytest.mark.parametrize("json_flag, tty", [(True, True), (False, False)], ids=["--json on a terminal", "a pipe"])
def test_import_is_quiet_under_json_or_without_a_terminal(repo, big_org, json_flag, tty):
    code, _, stderr = run_on_terminal("--repo", str(repo), *(["--json"] if json_flag else []),
                                      "org", "import", str(big_org), tty=tty)
    assert code == 0
    assert stderr == ""


def test_push_and_clone_report_objects_on_a_terminal(acme_repo, tmp_path):
    remote = tmp_path / "remote.git"
    Store.init(remote)
    code, _, pushed = run_on_terminal("--repo", str(acme_repo), "push", str(remote))
    assert code == 0 and "Sending " in pushed and " objects to " in pushed
    code, _, cloned = run_on_terminal("clone", str(remote), str(tmp_path / "copy.git"))
    assert code == 0 and "Received " in cloned and " objects from " in cloned
    code, _, quiet = run_on_terminal("clone", "--json", str(remote), str(tmp_path / "quiet.git"))
    assert code == 0 and quiet == ""


def test_a_small_import_is_quiet_even_on_a_terminal(repo):
    code, _, stderr = run_on_terminal("--repo", str(repo), "org", "import", str(FIXTURES / "acme"),
                                      "--user", ALEX_ID)
    assert code == 0
    assert stderr == ""
