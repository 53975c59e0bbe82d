"""Aliases travel with push, pull and clone (gitsnap's and plain git's), fast-forward only, and are validated."""

from __future__ import annotations

import subprocess

import pytest

from gitsnap import Store
from gitsnap.remotes import Scope
from tests.conftest import ACME_ID, LEASING_PROMPT_ID, all_refs, fsck, git, run_cli
from tests.test_aliases import PRODUCTION, clean

PROMPT = LEASING_PROMPT_ID
STAGING = f"refs/prompt-aliases/{ACME_ID}/{PROMPT}/staging"


def alias_refs(repo) -> dict[str, str]:
    return {ref: sha for ref, sha in all_refs(repo).items() if ref.startswith("refs/prompt-aliases/")}


@pytest.fixture
def aliased(acme_repo):
    """Acme with three versions, production moved twice and staging set then deleted."""
    with Store(acme_repo) as store:
        for n in (1, 2, 3):
            store.create_prompt_version(PROMPT, text=f"text {n}")
        store.set_prompt_alias(PROMPT, "production", 1)
        store.set_prompt_alias(PROMPT, "production", 3, reason="Passed the eval")
        store.set_prompt_alias(PROMPT, "staging", 2)
        store.delete_prompt_alias(PROMPT, "staging")
    return acme_repo


def test_gitsnap_clone_carries_every_alias_and_its_history(aliased, new_remote, git_daemon, served, tmp_path):
    remote = new_remote()
    pushed = Store(aliased).push(str(remote))
    assert {u.ref for u in pushed.refs} >= {PRODUCTION, STAGING}
    result = run_cli("clone", git_daemon.url(remote.relative_to(served).as_posix()), str(tmp_path / "copy.git"))
    assert result.exit_code == 0, result.stderr
    copy = tmp_path / "copy.git"
    assert all_refs(copy) == all_refs(aliased)
    with Store(copy) as store:
        assert [(a.alias, a.version) for a in store.list_prompt_aliases(PROMPT).aliases] == [("production", 3)]
        assert store.show_prompt_version(PROMPT, "production").text == "text 3"
        assert [m.deleted for m in store.prompt_alias_history(PROMPT, "staging").moves] == [True, False]
    clean(copy)


def test_plain_git_clone_mirror_carries_the_aliases(aliased, tmp_path):
    mirror = tmp_path / "mirror.git"
    subprocess.run(["git", "clone", "-q", "--mirror", str(aliased), str(mirror)], check=True)
    assert alias_refs(mirror) == alias_refs(aliased) and len(alias_refs(mirror)) == 2
    assert git(mirror, "show", f"{PRODUCTION}:prompt.yaml") == git(aliased, "show", f"{PRODUCTION}:prompt.yaml")
    assert Store(mirror).show_prompt_version(PROMPT, "production", org=ACME_ID).version == 3
    clean(mirror)


def test_plain_git_fetch_with_the_remotes_refspecs_brings_the_aliases(aliased, tmp_path):
    copy = tmp_path / "copy.git"
    Store.init(copy)
    Store(copy).add_remote("origin", str(aliased))
    git(copy, "fetch", "-q", "origin")
    assert alias_refs(copy) == alias_refs(aliased)


def test_a_move_and_a_deletion_pull_as_fast_forwards(aliased, new_remote, tmp_path):
    remote = new_remote()
    Store(aliased).push(str(remote))
    Store.clone(str(remote), tmp_path / "copy.git")
    with Store(aliased) as store:
        store.set_prompt_alias(PROMPT, "production", 2, reason="Rollback")
        store.set_prompt_alias(PROMPT, "staging", 3)
        store.push(str(remote))
    result = Store(tmp_path / "copy.git").pull()
    assert {(u.ref, u.status) for u in result.refs if u.ref.startswith("refs/prompt-aliases/")} == {
        (PRODUCTION, "updated"), (STAGING, "updated")}
    assert alias_refs(tmp_path / "copy.git") == alias_refs(aliased)
    with Store(aliased) as store:
        store.delete_prompt_alias(PROMPT, "production")
        store.push(str(remote))
    Store(tmp_path / "copy.git").pull()
    assert Store(tmp_path / "copy.git").list_prompt_aliases(PROMPT).aliases[0].alias == "staging"
    clean(tmp_path / "copy.git")


def test_an_alias_moved_on_both_sides_is_diverged_and_never_overwritten(aliased, new_remote, tmp_path):
    remote = new_remote()
    Store(aliased).push(str(remote))
    Store.clone(str(remote), tmp_path / "copy.git")
    Store(aliased).set_prompt_alias(PROMPT, "production", 2)
    Store(tmp_path / "copy.git").set_prompt_alias(PROMPT, "production", 1)
    Store(aliased).push(str(remote))
    mine = all_refs(tmp_path / "copy.git")[PRODUCTION]
    pulled = run_cli("pull", "--json", repo=tmp_path / "copy.git")
    assert pulled.exit_code == 4
    assert {u["ref"]: u["status"] for u in pulled.json["result"]["refs"]}[PRODUCTION] == "diverged"
    assert all_refs(tmp_path / "copy.git")[PRODUCTION] == mine
    assert run_cli("push", repo=tmp_path / "copy.git").exit_code == 4


@pytest.mark.parametrize("ref, org, held", [
    (PRODUCTION, None, True), (PRODUCTION, ACME_ID, True), (PRODUCTION, "other", False),
    (f"refs/prompt-aliases/{ACME_ID}/{PROMPT}", None, False), (f"{PRODUCTION}/x", None, False),
    (f"refs/prompt-aliases/{ACME_ID}/{PROMPT}/latest", None, False),
    (f"refs/prompt-aliases/{ACME_ID}/{PROMPT}/12", None, False),
    (f"refs/prompt-aliases/{ACME_ID}/{PROMPT}/a..b", None, False),
])
def test_the_scope_holds_only_alias_refs_gitsnap_writes(ref, org, held):
    assert Scope(org).holds(ref) is held


def test_pull_refuses_an_alias_ref_gitsnap_cannot_read_and_skips_foreign_shapes(aliased, tmp_path):
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "clone", "-q", "--mirror", str(aliased), str(remote)], check=True)
    copy = tmp_path / "copy.git"
    Store.clone(str(remote), copy)
    version = git(remote, "rev-parse", f"refs/prompts/{ACME_ID}/{PROMPT}").strip()
    tree = git(remote, "rev-parse", f"{version}^{{tree}}").strip()
    foreign = git(remote, "commit-tree", tree, "-p", version, "-m", "not an alias move").strip()
    canary = f"refs/prompt-aliases/{ACME_ID}/{PROMPT}/canary"
    git(remote, "update-ref", canary, foreign)
    for name in ("latest", "12"):
        git(remote, "update-ref", f"refs/prompt-aliases/{ACME_ID}/{PROMPT}/{name}", foreign)
    result = run_cli("pull", str(remote), "--json", repo=copy)
    assert result.exit_code == 1
    [refused] = [u for u in result.json["result"]["refs"] if u["status"] == "invalid"]
    assert refused["ref"] == canary and "not a gitsnap alias move" in refused["reason"]
    assert alias_refs(copy) == alias_refs(aliased)
    assert Store(copy).list_prompt_aliases(PROMPT).aliases  # the listing still works
    fsck(copy)
