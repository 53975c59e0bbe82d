"""Failures over the wire: bad URLs, unreachable hosts, missing repositories, auth, server-side refusals.

Each is one line on stderr with its exit code, and nothing changes locally.
"""

from __future__ import annotations

import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

import pytest

from gitsnap import Conflict, GitsnapError, InvalidInput, NotFound, Store
from tests.conftest import ACME_ID, all_objects, all_refs, git, run_cli
from tests.servers import HttpBackend, free_port

LIVE = f"refs/heads/orgs/{ACME_ID}"
STUB = "lead-intake-flow"


def one_line(result) -> str:
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("gitsnap: ")
    return lines[0]


def url_of(server, served, repo) -> str:
    return server.url(repo.relative_to(served).as_posix())


@pytest.fixture
def cases(git_daemon, http_backend, tmp_path):
    """URL -> (exit code, words the one line must hold)."""
    closed = free_port()
    return {
        "ftp://host.example/x.git": (2, "unsupported URL scheme"),
        "git://host.example:port/x.git": (2, "not a valid URL"),
        f"git://127.0.0.1:{closed}/x.git": (3, "cannot reach"),
        f"http://127.0.0.1:{closed}/x.git": (3, "cannot reach"),
        git_daemon.url("missing.git"): (3, "is not a git repository"),
        http_backend.url("missing.git"): (3, "is not a git repository"),
        str(tmp_path / "missing.git"): (3, "is not a git repository"),
        f"file://{tmp_path}/missing.git": (3, "is not a git repository"),
    }


def test_a_failed_push_is_one_line_and_changes_nothing(acme_repo, cases):
    before = all_refs(acme_repo)
    for url, (code, words) in cases.items():
        result = run_cli("push", url, repo=acme_repo)
        assert (result.exit_code, words in one_line(result)) == (code, True), (url, result.stderr)
        assert all_refs(acme_repo) == before


def test_a_failed_pull_is_one_line_and_changes_nothing(acme_repo, cases):
    before, objects = all_refs(acme_repo), all_objects(acme_repo)
    for url, (code, words) in cases.items():
        with pytest.raises(GitsnapError) as failed:
            Store(acme_repo).pull(url)
        assert (failed.value.exit_code, len(failed.value.lines())) == (code, 1), url
        assert words in failed.value.message and "\n" not in failed.value.message
        assert (all_refs(acme_repo), all_objects(acme_repo)) == (before, objects)


def test_a_failed_clone_leaves_nothing_behind(cases, tmp_path):
    for n, (url, (code, _words)) in enumerate(cases.items()):
        target = tmp_path / f"new-{n}" / "copy.git"
        result = run_cli("clone", url, str(target))
        assert result.exit_code == code, (url, result.stderr)
        one_line(result)
        assert not (tmp_path / f"new-{n}").exists()


def test_a_failed_clone_into_an_empty_directory_leaves_it_empty(tmp_path):
    (tmp_path / "copy.git").mkdir()
    with pytest.raises(NotFound):
        Store.clone(str(tmp_path / "missing.git"), tmp_path / "copy.git")
    assert list((tmp_path / "copy.git").iterdir()) == []


def test_clone_refuses_a_non_empty_directory(acme_repo, tmp_path):
    (tmp_path / "copy.git").mkdir()
    (tmp_path / "copy.git" / "notes.txt").write_text("mine")
    result = run_cli("clone", str(acme_repo), str(tmp_path / "copy.git"))
    assert result.exit_code == 2
    assert "is not empty" in one_line(result)
    assert [p.name for p in (tmp_path / "copy.git").iterdir()] == ["notes.txt"]


def test_an_unknown_remote_name_exits_3(acme_repo, tmp_path):
    result = run_cli("pull", "upstream", repo=acme_repo, cwd=tmp_path)
    assert result.exit_code == 3
    assert "no remote named upstream" in one_line(result)


def test_a_dumb_http_server_cannot_take_a_push(acme_repo, new_remote, served):
    remote = new_remote()
    git(remote, "update-server-info")
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(SimpleHTTPRequestHandler, directory=str(served)))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = run_cli("push", f"http://127.0.0.1:{server.server_address[1]}/{remote.name}", repo=acme_repo)
    finally:
        server.shutdown()
        server.server_close()
    assert result.exit_code == 2
    assert "smart HTTP" in one_line(result)
    assert all_refs(remote) == {}


# --- credentials -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def locked_http(served, tmp_path_factory):
    """Smart HTTP that wants Basic credentials alice / s3cret."""
    server = HttpBackend(served, tmp_path_factory.mktemp("locked-home"), credentials=("alice", "s3cret"))
    yield server
    server.stop()


def test_missing_credentials_say_which_variables_to_set(acme_repo, new_remote, locked_http, served):
    result = run_cli("push", url_of(locked_http, served, new_remote()), repo=acme_repo,
                     env={"GITSNAP_USERNAME": "", "GITSNAP_PASSWORD": ""})
    assert result.exit_code == 2
    line = one_line(result)
    assert "authentication failed" in line and "GITSNAP_USERNAME" in line and "GITSNAP_PASSWORD" in line


def test_wrong_credentials_are_refused(acme_repo, new_remote, locked_http, served, monkeypatch):
    monkeypatch.setenv("GITSNAP_USERNAME", "alice")
    monkeypatch.setenv("GITSNAP_PASSWORD", "guess")
    with pytest.raises(InvalidInput, match="authentication failed"):
        Store(acme_repo).push(url_of(locked_http, served, new_remote()))


def test_the_cli_takes_credentials_from_the_environment(acme_repo, new_remote, locked_http, served):
    remote = new_remote()
    Store(acme_repo).add_remote("origin", url_of(locked_http, served, remote))
    result = run_cli("push", repo=acme_repo, env={"GITSNAP_USERNAME": "alice", "GITSNAP_PASSWORD": "s3cret"})
    assert result.exit_code == 0, result.stderr
    assert all_refs(remote) == all_refs(acme_repo)


def test_the_library_takes_credentials_as_arguments(acme_repo, new_remote, locked_http, served):
    remote = new_remote()
    Store(acme_repo).add_remote("origin", url_of(locked_http, served, remote))
    Store(acme_repo).push(username="alice", password="s3cret")
    assert all_refs(remote) == all_refs(acme_repo)


def test_credentials_in_a_clone_url_are_used_and_not_stored(acme_repo, new_remote, locked_http, served, tmp_path):
    remote = new_remote()
    Store(acme_repo).push(str(remote))
    url = locked_http.url(remote.name, auth="alice:s3cret")
    result = Store.clone(url, tmp_path / "copy.git")
    assert result.credentials_stripped
    assert all_refs(tmp_path / "copy.git") == all_refs(acme_repo)
    assert "s3cret" not in (tmp_path / "copy.git" / "config").read_text()


# --- the server says no -----------------------------------------------------------------------------------


def refusing_hook(remote, hook: str, script: str) -> None:
    path = remote / "hooks" / hook
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)


@pytest.fixture
def stubbed_repo(acme_repo):
    Store(acme_repo).save_stub_snapshot(STUB, all_chats=True)
    return acme_repo


def test_a_refusing_pre_receive_hook_moves_nothing_and_exits_4(stubbed_repo, new_remote, git_daemon, served):
    remote = new_remote()
    refusing_hook(remote, "pre-receive", "echo 'policy: frozen' >&2\nexit 1\n")
    result = run_cli("push", url_of(git_daemon, served, remote), repo=stubbed_repo)
    assert result.exit_code == 4
    lines = result.stderr.splitlines()
    assert "refused" in lines[0] and "nothing moved" in lines[0]
    assert any(LIVE in line and "pre-receive hook declined" in line for line in lines[1:])
    assert all_refs(remote) == {}


def test_without_atomic_pushes_the_report_says_exactly_which_refs_moved(stubbed_repo, new_remote, http_backend, served):
    remote = new_remote(("receive.advertiseAtomic", "false"))
    refusing_hook(remote, "update", 'case "$1" in refs/stubs/*) echo "no stubs here" >&2; exit 1;; esac\n')
    with pytest.raises(Conflict) as refused:
        Store(stubbed_repo).push(url_of(http_backend, served, remote))
    result = refused.value.result
    assert not result.atomic
    moved = {u.ref: u.new for u in result.refs if u.status == "created"}
    assert moved == all_refs(remote) == {LIVE: all_refs(stubbed_repo)[LIVE]}
    rejected = [u for u in result.refs if u.status == "rejected"]
    assert rejected and all(u.ref.startswith("refs/stubs/") and "hook declined" in u.reason for u in rejected)
    assert f"  {LIVE}: created" in refused.value.lines()


# --- output -----------------------------------------------------------------------------------------------


def test_push_json_is_one_document_and_stderr_stays_quiet(stubbed_repo, new_remote, git_daemon, served):
    remote = new_remote()
    result = run_cli("push", url_of(git_daemon, served, remote), "--json", repo=stubbed_repo)
    assert result.exit_code == 0 and result.stderr == ""
    document = result.json
    assert set(document) == {"message", "remote", "url", "atomic", "refs", "remoteOnly"}
    assert document["atomic"] is True
    assert {r["ref"] for r in document["refs"]} == set(all_refs(stubbed_repo))
    assert set(document["refs"][0]) == {"ref", "old", "new", "status", "reason"}


def test_progress_reaches_the_callback_only(stubbed_repo, new_remote, git_daemon, served, tmp_path, capfd):
    remote = new_remote()
    Store(stubbed_repo).push(url_of(git_daemon, served, remote))
    said: list[str] = []
    Store.clone(url_of(git_daemon, served, remote), tmp_path / "copy.git", progress=said.append)
    assert "objects" in "".join(said).lower()
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""
