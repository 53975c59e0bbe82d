"""Remote configuration: standard git config that plain git uses too; URLs; credentials never stored."""

from __future__ import annotations

import subprocess

import pytest

from gitsnap import InvalidInput, NotFound, Store
from gitsnap.gitremote import parse_url
from gitsnap.remotes import Scope
from tests.conftest import ACME_ID, all_refs, git, run_cli

LIVE = f"refs/heads/orgs/{ACME_ID}"
REFSPECS = ["refs/heads/orgs/*:refs/heads/orgs/*", "refs/tags/snapshots/*:refs/tags/snapshots/*",
            "refs/prompts/*:refs/prompts/*", "refs/stubs/*:refs/stubs/*",
            "refs/prompt-aliases/*:refs/prompt-aliases/*"]


@pytest.mark.parametrize("text, location, kind", [
    ("git://host.example/team/config.git", "git://host.example/team/config.git", "git"),
    ("https://host.example:8443/config.git", "https://host.example:8443/config.git", "http"),
    ("https://alice:s3cret@host.example/config.git", "https://host.example/config.git", "http"),
    ("ssh://git@host.example:2222/srv/config.git", "ssh://git@host.example:2222/srv/config.git", "ssh"),
    ("git@host.example:team/config.git", "git@host.example:team/config.git", "ssh"),
    ("file:///srv/config.git", "file:///srv/config.git", "file"),
    ("/srv/config.git", "/srv/config.git", "local"),
    ("./a:b.git", None, "local"),
])
def test_urls_are_read_like_git_reads_them(text, location, kind):
    url = parse_url(text)
    assert url.kind == kind
    if location:
        assert url.location == location


def test_credentials_are_split_off_an_http_url():
    url = parse_url("https://alice:s3cret@host.example/config.git")
    assert (url.username, url.password, url.had_credentials) == ("alice", "s3cret", True)
    assert "s3cret" not in url.location and "alice" not in url.location


@pytest.mark.parametrize("text", ["", " ", "ftp://host/x.git", "http://", "https:///x.git", "git://host:port/x.git",
                                  "git://host.example", "host:", "ssh://u:pw@host/x.git", "http://[bad/x.git"])
def test_bad_urls_are_invalid_input(text):
    with pytest.raises(InvalidInput):
        parse_url(text)


@pytest.mark.parametrize("ref, org, held", [
    (LIVE, None, True), (f"refs/stubs/{ACME_ID}/flow/stub/_default", None, True),
    (f"refs/heads/orgs/{ACME_ID}/x", None, False), ("refs/heads/main", None, False),
    ("refs/prompts/o", None, False), ("refs/prompts/o/p", None, True), ("refs/prompts/o/..x", None, False),
    (f"refs/tags/snapshots/{ACME_ID}/6650a0000000000000000001", ACME_ID, True),
    (f"refs/tags/snapshots/{ACME_ID}/1", ACME_ID, False), ("refs/tags/snapshots/other/6650a0000000000000000001", ACME_ID, False),
    (f"refs/heads/orgs/{ACME_ID}0", ACME_ID, False),
])
def test_the_scope_holds_only_well_formed_gitsnap_refs(ref, org, held):
    assert Scope(org).holds(ref) is held


def test_remote_add_writes_standard_git_config(store, repo):
    store.add_remote("origin", "git://host.example/config.git")
    assert git(repo, "config", "--get", "remote.origin.url").strip() == "git://host.example/config.git"
    assert git(repo, "config", "--get-all", "remote.origin.fetch").split() == REFSPECS
    assert git(repo, "config", "--get-all", "remote.origin.push").split() == REFSPECS
    assert git(repo, "config", "--get", "remote.origin.tagOpt").strip() == "--no-tags"


def test_remote_add_never_stores_credentials(repo):
    result = run_cli("remote", "add", "origin", "https://alice:s3cret@host.example/config.git", repo=repo)
    assert result.exit_code == 0
    assert "not stored" in result.stdout
    config = (repo / "config").read_text()
    assert "s3cret" not in config and "alice" not in config
    assert git(repo, "config", "--get", "remote.origin.url").strip() == "https://host.example/config.git"


def test_a_local_path_is_stored_absolute(store, repo, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store.add_remote("backup", "backup.git")
    assert store.list_remotes().remotes[0].url == str(tmp_path / "backup.git")


def test_remote_list_and_remove(store):
    store.add_remote("origin", "git://host.example/a.git")
    store.add_remote("backup", "/srv/b.git")
    assert [(r.name, r.url) for r in store.list_remotes().remotes] == [
        ("backup", "/srv/b.git"), ("origin", "git://host.example/a.git")]
    store.remove_remote("origin")
    assert [r.name for r in store.list_remotes().remotes] == ["backup"]


def test_remote_list_json(repo, store):
    store.add_remote("origin", "git://host.example/a.git")
    result = run_cli("remote", "list", "--json", repo=repo)
    assert result.json == {"remotes": [{"name": "origin", "url": "git://host.example/a.git"}]}


def test_adding_an_existing_remote_exits_2(repo, store):
    store.add_remote("origin", "git://host.example/a.git")
    result = run_cli("remote", "add", "origin", "git://host.example/b.git", repo=repo)
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        "gitsnap: remote origin already exists (git://host.example/a.git); remove it first (gitsnap remote remove origin)"]
    assert store.list_remotes().remotes[0].url == "git://host.example/a.git"


@pytest.mark.parametrize("name", ["a/b", "..", "-x", "x.lock"])
def test_a_remote_name_must_be_an_identifier(store, name):
    with pytest.raises(InvalidInput, match="remote name"):
        store.add_remote(name, "git://host.example/a.git")


def test_removing_an_unknown_remote_exits_3(repo):
    result = run_cli("remote", "remove", "nope", repo=repo)
    assert result.exit_code == 3
    assert result.stderr.splitlines() == ["gitsnap: no remote named nope (gitsnap remote list)"]


def test_pushing_to_an_unknown_remote_says_how_to_add_one(store, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(NotFound, match="gitsnap remote add origin URL"):
        store.push()


# --- plain git with the config gitsnap wrote -------------------------------------------------------------


@pytest.fixture
def origin(acme_repo, new_remote, git_daemon, served):
    """(remote, url): a git:// remote holding Acme and its stub snapshot."""
    Store(acme_repo).save_stub_snapshot("lead-intake-flow")
    remote = new_remote()
    url = git_daemon.url(remote.relative_to(served).as_posix())
    Store(acme_repo).push(url)
    return remote, url


def test_plain_git_fetch_brings_every_gitsnap_ref(origin, tmp_path):
    remote, url = origin
    Store.init(tmp_path / "mine.git")
    Store(tmp_path / "mine.git").add_remote("origin", url)
    git(tmp_path / "mine.git", "fetch", "-q", "origin")
    assert all_refs(tmp_path / "mine.git") == all_refs(remote)


def test_plain_git_fetch_refuses_a_non_fast_forward_too(origin, tmp_path):
    remote, url = origin
    Store.clone(url, tmp_path / "mine.git")
    mine = Store(tmp_path / "mine.git")
    other = mine.git.write_commit(mine.git.objects.read_commit(mine.git.refs.read(LIVE)).tree, [], "unrelated history")
    assert mine.git.refs.swap(LIVE, mine.git.refs.read(LIVE), other)
    fetch = subprocess.run(["git", "--git-dir", str(tmp_path / "mine.git"), "fetch", "origin"],
                           capture_output=True, text=True)
    assert fetch.returncode != 0
    assert "non-fast-forward" in fetch.stderr
    assert all_refs(tmp_path / "mine.git")[LIVE] == other
    assert all_refs(remote)[LIVE] != other


def test_an_invalid_url_never_shows_its_password(repo):
    result = run_cli("remote", "add", "origin", "https://alice:s3cret@host.example:bad/x.git", repo=repo)
    assert result.exit_code == 2
    assert "s3cret" not in result.stderr and "alice:***@" in result.stderr
