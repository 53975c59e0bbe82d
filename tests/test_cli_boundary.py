"""The CLI's edges: arguments that are not text, global options anywhere, a closed pipe, Ctrl-C, and
errors that are never a traceback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from gitsnap import Store
from tests.conftest import ACME_ID, FIXTURES, LEASING_PROMPT_ID, all_refs, run_cli


def gitsnap_bytes(*args: bytes, repo=None, **kwargs) -> subprocess.CompletedProcess:
    """gitsnap with raw byte arguments, as a shell passes them."""
    repo_args = [b"--repo", os.fsencode(repo)] if repo else []
    return subprocess.run([os.fsencode(sys.executable), b"-m", b"gitsnap", *repo_args, *args], capture_output=True,
                          **kwargs)


def test_an_argument_that_is_not_utf8_is_exit_2_naming_it(acme_repo):
    refs = all_refs(acme_repo)
    result = gitsnap_bytes(b"prompt", b"version", b"create", LEASING_PROMPT_ID.encode(), b"--title", b"caf\xe9",
                           repo=acme_repo)
    assert result.returncode == 2
    assert result.stderr.decode() == "gitsnap: argument 8 is not UTF-8 text: caf\\xe9\n"
    assert all_refs(acme_repo) == refs
    as_json = gitsnap_bytes(b"--json", b"org", b"import", b"\xff.json", repo=acme_repo)
    assert as_json.returncode == 2 and json.loads(as_json.stdout)["error"] == "Invalid input"


def test_a_repository_variable_that_is_not_utf8_is_exit_2(tmp_path):
    env = {**os.environ}
    result = subprocess.run([sys.executable, "-m", "gitsnap", "org", "list"], capture_output=True,
                            env={**{k: v for k, v in env.items()}, "GITSNAP_REPO": os.fsdecode(b"r\xff.git")})
    assert result.returncode == 2 and b"GITSNAP_REPO is not UTF-8 text" in result.stderr


def test_version_is_json_under_json_in_either_order():
    for args in (["--json", "--version"], ["--version", "--json"]):
        result = run_cli(*args)
        assert result.exit_code == 0 and result.json["name"] == "gitsnap" and result.json["version"]
    assert run_cli("--version").stdout.startswith("gitsnap, version ")


def test_global_options_are_taken_after_a_group_name(acme_repo, tmp_path):
    result = run_cli("org", "--json", "list", "--repo", str(acme_repo), cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    assert result.json["orgs"][0]["_id"] == ACME_ID
    nested = run_cli("prompt", "--json", "version", "--repo", str(acme_repo), "list", LEASING_PROMPT_ID, cwd=tmp_path)
    assert nested.exit_code == 0 and nested.json["promptId"] == LEASING_PROMPT_ID


def test_a_closed_pipe_ends_quietly(repo, tmp_path):
    big = {"org": {"id": "big", "name": "Big"},
           "pipelines": [{"id": f"p{i}", "name": f"Pipeline {i}", "notes": "x" * 200} for i in range(2000)]}
    Store(repo).import_org(json.dumps(big).encode())
    export = subprocess.Popen([sys.executable, "-m", "gitsnap", "--repo", str(repo), "org", "export", "big"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    export.stdout.read(10)
    export.stdout.close()
    stderr = export.stderr.read()
    assert export.wait() == 0 and stderr == b""  # click's rule for a closed pipe: quiet, and not a failure


def test_output_that_cannot_be_written_fails_the_command_with_one_line(acme_repo):
    with open("/dev/full", "wb") as full:  # every write fails: no space left on the device
        for args in (["org", "list"], ["--json", "org", "list"], ["--version"]):
            result = subprocess.run([sys.executable, "-m", "gitsnap", "--repo", str(acme_repo), *args], stdout=full,
                                    stderr=subprocess.PIPE, timeout=60)
            assert result.returncode == 1, args
            assert result.stderr.decode().strip().splitlines() == ["gitsnap: No space left on device"], args


def test_ctrl_c_exits_130_without_a_traceback(repo):
    process = subprocess.Popen([sys.executable, "-m", "gitsnap", "--repo", str(repo), "org", "import", "-"],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # wait until it is blocked reading stdin, past its imports
        with open(f"/proc/{process.pid}/wchan") as wchan:
            if "pipe" in wchan.read():
                break
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    process.stdin.close()
    assert process.returncode == 130 and b"Traceback" not in stderr
    assert all_refs(repo) == {}


def test_an_internal_error_is_one_line_unless_debugging_is_asked_for(acme_repo):
    broken = acme_repo / "objects" / "pack"
    for pack in broken.glob("*.idx"):
        pack.write_bytes(b"not an index")
    result = run_cli("--json", "org", "export", ACME_ID, repo=acme_repo)
    assert result.exit_code == 1 and "Traceback" not in result.stderr
    assert json.loads(result.stdout)["error"]


def test_import_from_fixtures_still_works_end_to_end(repo):
    assert run_cli("org", "import", str(FIXTURES / "acme"), repo=repo).exit_code == 0


def test_hostile_names_in_any_position_are_one_line_never_an_internal_error(acme_repo):
    values = ["", " ", "a\u2028b", "x\ny", "../x", "HEAD~99", "\x7f", "x" * 300, "99999999999999999999999"]
    for value in values:
        for args in (["org", "log", value], ["prompt", "version", "list", LEASING_PROMPT_ID, "--limit", value],
                     ["stub", "snapshot", "list", value], ["push", ".", "--org", value], ["snapshot", "list", "--org", value],
                     ["prompt", "alias", "list", LEASING_PROMPT_ID, "--org", value], ["org", "diff", ACME_ID, value]):
            result = run_cli(*args, repo=acme_repo)
            assert result.exit_code in (0, 2, 3), (args, result.stderr)
            assert "internal error" not in result.stderr and "Traceback" not in result.stderr, (args, result.stderr)
