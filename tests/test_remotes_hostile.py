"""Hostile remotes and refs: foreign or unreadable refs in gitsnap's namespaces are refused by pull and
never take a listing down; credentials in URLs are neither stored nor printed; shallow repositories say so."""

from __future__ import annotations

import subprocess

import pytest

from gitsnap import InvalidInput, Store
from tests.conftest import ACME_ID, ALEX_ID, FIXTURES, all_refs, fsck, git, run_cli

LIVE = f"refs/heads/orgs/{ACME_ID}"
SNAPSHOT_ID = "6650a1b2c3d4e5f601234567"


@pytest.fixture
def remote(acme_repo, tmp_path):
    """A plain-git bare copy of the Acme repository that tests add foreign refs to."""
    path = tmp_path / "remote.git"
    subprocess.run(["git", "clone", "-q", "--mirror", str(acme_repo), str(path)], check=True)
    return path


def a_commit(repo, message="foreign") -> str:
    tree = git(repo, "rev-parse", f"{LIVE}^{{tree}}").strip()
    return git(repo, "commit-tree", tree, "-m", message).strip()


FOREIGN = {
    "a lightweight snapshot tag": lambda repo: (f"refs/tags/snapshots/{ACME_ID}/{SNAPSHOT_ID}", a_commit(repo)),
    "a prompt ref without versions": lambda repo: (f"refs/prompts/{ACME_ID}/p1", a_commit(repo)),
    "a stub ref without a uuid": lambda repo: (f"refs/stubs/{ACME_ID}/s1/stub/_default", a_commit(repo)),
    "a live branch on a blob": lambda repo: ("refs/heads/orgs/other", git(repo, "hash-object", "-w", "--stdin",
                                                                            input=b"not a commit").strip()),
}


@pytest.mark.parametrize("make", FOREIGN.values(), ids=FOREIGN.keys())
def test_pull_refuses_a_ref_gitsnap_cannot_read_and_takes_the_rest(acme_repo, remote, tmp_path, make):
    ref, value = make(remote)
    (remote / ref).parent.mkdir(parents=True, exist_ok=True)
    (remote / ref).write_text(value + "\n")  # git update-ref refuses a blob on a branch; a hostile remote need not
    pulled_change = a_commit(remote, "a change the pull should bring")
    git(remote, "update-ref", LIVE, git(remote, "commit-tree", f"{pulled_change}^{{tree}}", "-p",
                                        git(remote, "rev-parse", LIVE).strip(), "-m", "next").strip())
    result = run_cli("--json", "pull", str(remote), repo=acme_repo)
    assert result.exit_code == 1, result.stderr
    statuses = {update["ref"]: update["status"] for update in result.json["result"]["refs"]}
    assert statuses[ref] == "invalid" and statuses[LIVE] == "updated"
    assert ref not in all_refs(acme_repo)
    assert all_refs(acme_repo)[LIVE] == git(remote, "rev-parse", LIVE).strip()
    assert run_cli("snapshot", "list", repo=acme_repo).exit_code == 0
    assert run_cli("org", "list", repo=acme_repo).exit_code == 0


def test_refs_of_a_shape_gitsnap_never_writes_are_not_pulled(acme_repo, remote):
    commit = a_commit(remote)
    for ref in (f"refs/tags/snapshots/{ACME_ID}/not-an-id", f"refs/prompts/{ACME_ID}/p1/extra",
                f"refs/stubs/{ACME_ID}/s1/other/x", "refs/heads/orgs/a/b"):
        git(remote, "update-ref", ref, commit)
    Store(acme_repo).pull(str(remote))
    assert set(all_refs(acme_repo)) == {LIVE}


def test_one_tenants_unreadable_refs_leave_every_listing_working(acme_repo, tmp_path):
    store = Store(acme_repo)
    snapshot = store.create_snapshot(ACME_ID, ALEX_ID, "Good").snapshot
    commit = a_commit(acme_repo)
    git(acme_repo, "update-ref", f"refs/tags/snapshots/{ACME_ID}/{SNAPSHOT_ID}", commit)  # lightweight
    (acme_repo / "refs" / "heads" / "orgs" / "garbage").write_text("this is not a sha\n")
    (acme_repo / "refs" / "tags" / "snapshots" / "zzz").mkdir()
    (acme_repo / "refs" / "tags" / "snapshots" / "zzz" / "6650a1b2c3d4e5f601234568").write_text("0" * 40 + "\n")
    listed = run_cli("--json", "snapshot", "list", repo=acme_repo)
    assert listed.exit_code == 0, listed.stderr
    assert [s["_id"] for s in listed.json["snapshots"]] == [snapshot.id]
    assert {u["ref"] for u in listed.json["unreadable"]} == {
        f"refs/tags/snapshots/{ACME_ID}/{SNAPSHOT_ID}", "refs/tags/snapshots/zzz/6650a1b2c3d4e5f601234568"}
    human = run_cli("snapshot", "list", repo=acme_repo)
    assert human.exit_code == 0 and "warning:" in human.stderr and snapshot.id in human.stdout
    orgs = run_cli("--json", "org", "list", repo=acme_repo)
    assert [o["_id"] for o in orgs.json["orgs"]] == [ACME_ID]
    assert orgs.json["unreadable"][0]["ref"] == "refs/heads/orgs/garbage"
    verified = run_cli("verify", repo=acme_repo)
    assert verified.exit_code == 1 and "Traceback" not in verified.stderr
    assert "refs/heads/orgs/garbage" in verified.stdout and SNAPSHOT_ID in verified.stdout


# --- credentials ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("url, secret", [
    ("https://git.example.com/team/config.git?access_token=tok3n-s3cret", "tok3n-s3cret"),
    ("https://alex:pa/ss@wo:rd@git.example.com/team/config.git", "pa/ss@wo:rd"),
    ("https://alex:hunter2@git.example.com/team/config.git#frag", "hunter2"),
])
def test_a_url_secret_is_neither_stored_nor_printed(acme_repo, url, secret):
    config = (acme_repo / "config").read_text()
    for args in (["remote", "add", "origin", url], ["push", url], ["--json", "pull", url]):
        result = run_cli(*args, repo=acme_repo)
        assert secret not in result.stdout + result.stderr
        assert result.exit_code in (2, 3), result.stderr
    assert (acme_repo / "config").read_text() == config
    assert secret not in run_cli("remote", "list", repo=acme_repo).stdout


def test_a_password_url_is_redacted_in_the_library_error(acme_repo):
    with pytest.raises(InvalidInput) as refused:
        Store(acme_repo).add_remote("origin", "https://alex:se/cr@t@host/x.git?token=abc")
    assert "se/cr" not in refused.value.message and "abc" not in refused.value.message


# --- shallow repositories --------------------------------------------------------------------------------


def test_a_shallow_repository_says_so(acme_repo, tmp_path):
    store = Store(acme_repo)
    store.import_org((FIXTURES / "acme.json").read_text().replace("Acme Corp", "Acme Two").encode())
    shallow = tmp_path / "shallow.git"
    git(shallow, "init", "-q", "--bare")
    git(shallow, "fetch", "-q", "--depth", "1", f"file://{acme_repo}", f"+{LIVE}:{LIVE}")
    log = run_cli("org", "log", ACME_ID, repo=shallow)
    assert log.exit_code == 3 and "shallow" in log.stderr and "Traceback" not in log.stderr
    target = tmp_path / "target.git"
    Store.init(target)
    pushed = run_cli("push", str(target), repo=shallow)
    assert pushed.exit_code != 0 and "Traceback" not in pushed.stderr, pushed.stderr
    assert len(pushed.stderr.splitlines()) == 1 and all_refs(target) == {}
    fsck(acme_repo)

