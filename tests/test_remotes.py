"""Push, pull and clone over every transport against real servers; fast-forward rules; --org; --prune."""

from __future__ import annotations

import json

import pytest

from gitsnap import Conflict, Store
from gitsnap.gitmessage import format_message
from gitsnap.orgs import org_ref
from tests.conftest import ACME_ID, ALEX_ID, FIXTURES, LEASING_PROMPT_ID, all_refs, fsck, git, run_cli
from tests.servers import fake_ssh

OTHER_ORG = "64ee9a8b1e7f2a0011223355"
LIVE = org_ref(ACME_ID)
STUB = "lead-intake-flow"
STUB_REF = f"refs/stubs/{ACME_ID}/{STUB}/stub/_default"
PROMPT_REF = f"refs/prompts/{ACME_ID}/{LEASING_PROMPT_ID}"
TRANSPORTS = ("path", "file", "git", "http", "ssh")


def snapshot_tag(store: Store, org: str, snapshot_id: str, message: str = "Snapshot") -> str:
    """A snapshot tag with a chosen id on the live tip (`snapshot create` draws random ids); ``message`` is its name."""
    tip = store.git.refs.read(org_ref(org))
    trailers = [("Snapshot-Id", snapshot_id), ("Source-Org", org), ("Source-Org-Name", "Acme"), ("Source-User", "u"),
                ("Source-User-Name", "U"), ("Source-User-Email", "u@x"),
                ("Counts", "pipelines=0 automations=0 prompts=0 templates=0"), ("Created-At", "2026-01-01T00:00:00.000Z")]
    tag = store.git.write_tag(tip, f"snapshots/{org}/{snapshot_id}", format_message(message.strip(), "", trailers))
    ref = f"refs/tags/snapshots/{org}/{snapshot_id}"
    assert store.git.refs.swap(ref, None, tag)
    return ref


def write_json(path, document: dict) -> str:
    path.write_text(json.dumps(document))
    return str(path)


def acme_doc() -> dict:
    return json.loads((FIXTURES / "acme.json").read_text())


@pytest.fixture
def rich_repo(acme_repo, tmp_path):
    """Acme plus a second org, with refs in every namespace: live branches, snapshots, prompt versions, stub snapshots."""
    store = Store(acme_repo)
    other = {"org": {"id": OTHER_ORG, "name": "Other Corp"},
             "users": [{"id": "u1", "name": "Olga Other", "email": "olga@other.example"}],
             "stubs": [{"stubref": "other-flow", "data": {"step": 1}, "chats": {"help": {"m": []}}}]}
    store.import_org(write_json(tmp_path / "other.json", other))
    store.save_stub_snapshot(STUB, all_chats=True)
    store.save_stub_snapshot("other-flow", name="first")
    store.create_snapshot(ACME_ID, ALEX_ID, "Acme baseline")
    store.create_snapshot(OTHER_ORG, "u1", "Other baseline")
    store.create_prompt_version(LEASING_PROMPT_ID, org=ACME_ID, label="First")
    store.create_prompt_version(LEASING_PROMPT_ID, org=ACME_ID, text="Second text", label="Second")
    return acme_repo


@pytest.fixture(params=TRANSPORTS)
def url_of(request, git_daemon, http_backend, served, monkeypatch, tmp_path):
    """How a bare repository under ``served`` is reached by the transport under test."""
    kind = request.param
    if kind == "ssh":
        monkeypatch.setenv("GIT_SSH_COMMAND", str(fake_ssh(tmp_path / "ssh")))
    return {
        "path": lambda repo: str(repo),
        "file": lambda repo: f"file://{repo}",
        "git": lambda repo: git_daemon.url(repo.relative_to(served).as_posix()),
        "http": lambda repo: http_backend.url(repo.relative_to(served).as_posix()),
        "ssh": lambda repo: f"ssh://example.com{repo}",
    }[kind]


# --- every transport -----------------------------------------------------------------------------------


def test_push_puts_every_gitsnap_ref_on_the_remote(rich_repo, new_remote, url_of):
    remote = new_remote()
    result = Store(rich_repo).push(url_of(remote))
    assert all_refs(remote) == all_refs(rich_repo)
    assert {u.status for u in result.refs} == {"created"}
    fsck(remote)


def test_clone_brings_back_identical_refs(rich_repo, new_remote, url_of, tmp_path):
    remote = new_remote()
    Store(rich_repo).push(url_of(remote))
    result = Store.clone(url_of(remote), tmp_path / "copy.git")
    assert all_refs(tmp_path / "copy.git") == all_refs(rich_repo)
    assert len(result.refs) == len(all_refs(rich_repo))
    copy = Store(tmp_path / "copy.git")
    assert copy.list_stub_snapshots(STUB).snapshots
    assert [v.label for v in copy.list_prompt_versions(LEASING_PROMPT_ID, org=ACME_ID).versions] == ["Second", "First"]
    assert sorted(s.name for s in copy.list_snapshots().snapshots) == ["Acme baseline", "Other baseline"]
    fsck(tmp_path / "copy.git")


def test_pull_fast_forwards_what_the_remote_moved(acme_repo, new_remote, url_of, tmp_path):
    remote = new_remote()
    Store(acme_repo).push(url_of(remote))
    Store.clone(url_of(remote), tmp_path / "copy.git")
    Store(acme_repo).save_stub_snapshot(STUB)
    Store(acme_repo).push(url_of(remote))
    result = Store(tmp_path / "copy.git").pull()
    assert all_refs(tmp_path / "copy.git") == all_refs(acme_repo)
    assert [(u.ref, u.status) for u in result.refs if u.status != "up-to-date"] == [(STUB_REF, "created")]


def test_ssh_goes_through_the_ssh_command(acme_repo, new_remote, monkeypatch, tmp_path):
    monkeypatch.setenv("GIT_SSH_COMMAND", str(fake_ssh(tmp_path / "ssh")))
    remote = new_remote()
    Store(acme_repo).push(f"git@config-host.example:{remote}")
    assert (tmp_path / "ssh" / "hosts").read_text().split() == ["git@config-host.example"]
    assert all_refs(remote) == all_refs(acme_repo)


# --- fast-forwards only ------------------------------------------------------------------------------


def change_live_branch(store: Store, tmp_path, n: int) -> str:
    """Import different data into Acme: a new commit on its live branch."""
    doc = acme_doc()
    doc["org"]["name"] = f"Acme Corp {n}"
    store.import_org(write_json(tmp_path / f"acme-{n}.json", doc))
    return LIVE


def resave_stub_snapshot(store: Store, tmp_path, n: int) -> str:
    """Save the stub snapshot _default again after the stub changed: its ref moves."""
    doc = acme_doc()
    doc["stubs"][0]["data"] = {"step": n}
    store.import_org(write_json(tmp_path / f"stub-{n}.json", doc))
    store.save_stub_snapshot(STUB)
    return STUB_REF


def add_prompt_version(store: Store, tmp_path, n: int) -> str:
    """Checkpoint a new text of the leasing prompt: version 2 on top of the shared version 1."""
    store.create_prompt_version(LEASING_PROMPT_ID, org=ACME_ID, text=f"Leasing assistant, take {n}")
    return PROMPT_REF


# Ways two clones of one remote can both change the same ref (each returns the ref it changed).
DIVERGENCES = {"live branch": change_live_branch, "stub snapshot": resave_stub_snapshot,
               "prompt version": add_prompt_version}


@pytest.fixture
def two_clones(acme_repo, new_remote, git_daemon, served, tmp_path):
    """(remote, first, second): two clones of one git:// remote holding Acme, a stub snapshot and prompt version 1."""
    remote = new_remote()
    Store(acme_repo).save_stub_snapshot(STUB)
    Store(acme_repo).create_prompt_version(LEASING_PROMPT_ID, org=ACME_ID)
    url = git_daemon.url(remote.relative_to(served).as_posix())
    Store(acme_repo).push(url)
    Store.clone(url, tmp_path / "first.git")
    Store.clone(url, tmp_path / "second.git")
    return remote, Store(tmp_path / "first.git"), Store(tmp_path / "second.git")


@pytest.mark.parametrize("diverge", DIVERGENCES.values(), ids=DIVERGENCES.keys())
def test_a_diverged_push_is_refused_whole_and_the_remote_keeps_the_first(two_clones, diverge, tmp_path):
    remote, first, second = two_clones
    ref = diverge(first, tmp_path, 1)
    diverge(second, tmp_path, 2)
    first.push()
    with pytest.raises(Conflict) as refused:
        second.push()
    assert ref in "\n".join(refused.value.lines())
    assert "gitsnap pull origin" in "\n".join(refused.value.lines())
    assert all_refs(remote) == all_refs(first.path)
    assert all_refs(remote)[ref] != all_refs(second.path)[ref]


@pytest.mark.parametrize("diverge", DIVERGENCES.values(), ids=DIVERGENCES.keys())
def test_pull_reports_a_divergence_and_changes_nothing(two_clones, diverge, tmp_path):
    _remote, first, second = two_clones
    ref = diverge(first, tmp_path, 1)
    diverge(second, tmp_path, 2)
    first.push()
    before = all_refs(second.path)
    with pytest.raises(Conflict) as diverged:
        second.pull()
    assert f"{ref}: diverged" in "\n".join(diverged.value.lines())
    assert all_refs(second.path) == before
    fsck(second.path)


def test_pull_moves_every_other_ref_before_reporting_divergence(two_clones, tmp_path):
    _remote, first, second = two_clones
    change_live_branch(first, tmp_path, 1)
    tag = snapshot_tag(first, ACME_ID, "6650a0000000000000000009")
    first.push()
    change_live_branch(second, tmp_path, 2)
    live_before = all_refs(second.path)[LIVE]
    with pytest.raises(Conflict) as diverged:
        second.pull()
    assert all_refs(second.path)[tag] == all_refs(first.path)[tag]
    assert all_refs(second.path)[LIVE] == live_before
    assert "1 created" in diverged.value.message


def test_the_cli_names_the_refused_ref_and_exits_4(two_clones, tmp_path):
    _remote, first, second = two_clones
    change_live_branch(first, tmp_path, 1)
    change_live_branch(second, tmp_path, 2)
    first.push()
    before = all_refs(second.path)
    result = run_cli("push", repo=second.path)
    assert result.exit_code == 4
    assert f"{LIVE}: " in result.stderr and "gitsnap pull origin" in result.stderr
    assert "Traceback" not in result.stderr
    assert all_refs(second.path) == before


def test_a_push_behind_the_remote_is_refused_and_pull_catches_up(two_clones, tmp_path):
    remote, first, second = two_clones
    change_live_branch(first, tmp_path, 1)
    first.push()
    snapshot_tag(second, ACME_ID, "6650a0000000000000000003")
    with pytest.raises(Conflict, match="would not fast-forward"):
        second.push()
    updated = second.pull()
    assert [(u.ref, u.status) for u in updated.refs if u.status != "up-to-date"] == [(LIVE, "updated")]
    second.push()
    assert all_refs(remote) == all_refs(second.path)


def test_pull_leaves_a_ref_that_is_ahead_here(two_clones, tmp_path):
    _remote, first, _second = two_clones
    change_live_branch(first, tmp_path, 1)
    before = all_refs(first.path)
    result = first.pull()
    assert [(u.ref, u.status) for u in result.refs if u.status != "up-to-date"] == [(LIVE, "ahead")]
    assert all_refs(first.path) == before


def test_a_snapshot_tag_never_moves(two_clones):
    remote, first, second = two_clones
    ref = snapshot_tag(first, ACME_ID, "6650a0000000000000000004", "One\n")
    snapshot_tag(second, ACME_ID, "6650a0000000000000000004", "Another\n")
    first.push()
    with pytest.raises(Conflict, match="would not fast-forward") as refused:
        second.push()
    assert "snapshot tags never move" in "\n".join(refused.value.lines())
    with pytest.raises(Conflict):
        second.pull()
    assert all_refs(remote)[ref] == all_refs(first.path)[ref] != all_refs(second.path)[ref]


def test_pull_never_deletes_a_local_ref(two_clones):
    _remote, first, _second = two_clones
    ref = snapshot_tag(first, ACME_ID, "6650a0000000000000000005")
    first.pull()
    assert ref in all_refs(first.path)


# --- what travels ------------------------------------------------------------------------------------


def test_org_push_sends_only_that_orgs_refs(rich_repo, new_remote):
    remote = new_remote()
    result = Store(rich_repo).push(str(remote), org=OTHER_ORG)
    expected = {ref: sha for ref, sha in all_refs(rich_repo).items() if f"/{OTHER_ORG}" in ref}
    assert all_refs(remote) == expected
    assert {u.ref for u in result.refs} == set(expected)


def test_other_refs_do_not_travel(acme_repo, new_remote):
    git(acme_repo, "update-ref", "refs/heads/main", all_refs(acme_repo)[LIVE])
    git(acme_repo, "update-ref", "refs/heads/orgs/a/b", all_refs(acme_repo)[LIVE])
    remote = new_remote()
    Store(acme_repo).push(str(remote))
    assert set(all_refs(remote)) == {LIVE}


@pytest.fixture
def pushed(rich_repo, new_remote, git_daemon, served):
    """(remote, url): the rich repository pushed to a git:// remote."""
    remote = new_remote()
    url = git_daemon.url(remote.relative_to(served).as_posix())
    Store(rich_repo).push(url)
    return remote, url


def delete_acme_snapshot(store: Store) -> str:
    """Delete Acme's one snapshot; its tag ref."""
    [snapshot] = store.list_snapshots(ACME_ID).snapshots
    store.delete_snapshot(snapshot.id)
    return f"refs/tags/snapshots/{ACME_ID}/{snapshot.id}"


def test_without_prune_the_remote_keeps_refs_deleted_here(rich_repo, pushed):
    remote, url = pushed
    store = Store(rich_repo)
    store.delete_stub_snapshot(STUB)
    tag = delete_acme_snapshot(store)
    result = store.push(url)
    assert set(result.remote_only) == {STUB_REF, tag}
    assert set(result.remote_only) <= set(all_refs(remote))


def test_prune_deletes_remote_refs_deleted_here(rich_repo, pushed):
    remote, url = pushed
    store = Store(rich_repo)
    store.delete_stub_snapshot(STUB)
    tag = delete_acme_snapshot(store)
    result = store.push(url, prune=True)
    assert all_refs(remote) == all_refs(rich_repo)
    assert {(u.ref, u.status) for u in result.refs if u.status != "up-to-date"} == {(STUB_REF, "deleted"), (tag, "deleted")}
    fsck(remote)


def test_org_prune_leaves_other_orgs_alone(rich_repo, pushed):
    remote, url = pushed
    store = Store(rich_repo)
    store.delete_stub_snapshot(STUB)
    store.delete_stub_snapshot("other-flow", name="first")
    store.push(url, org=OTHER_ORG, prune=True)
    assert STUB_REF in all_refs(remote)
    assert f"refs/stubs/{OTHER_ORG}/other-flow/stub/first" not in all_refs(remote)


def test_prune_refuses_to_delete_what_this_repository_never_had(two_clones):
    remote, first, second = two_clones
    ref = snapshot_tag(first, ACME_ID, "6650a0000000000000000006")
    first.push()
    before = all_refs(remote)
    with pytest.raises(Conflict) as refused:
        second.push(prune=True)
    assert f"{ref}: the remote has changes this repository never had" in "\n".join(refused.value.lines())
    assert all_refs(remote) == before


def grow_a_prompt(store: Store, tmp_path, n: int) -> None:
    """Import Acme with one prompt's body grown by a line: similar blobs, which git stores as deltas."""
    doc = acme_doc()
    doc["prompts"][0]["body"] += "".join(f"\nRule {i}: stay polite." for i in range(n + 1))
    store.import_org(write_json(tmp_path / f"grown-{n}.json", doc))


def deltas_in(repo) -> int:
    """How many objects of the repository's packs are stored as deltas (git verify-pack)."""
    lines = [git(repo, "verify-pack", "-v", str(idx)) for idx in (repo / "objects" / "pack").glob("*.idx")]
    return sum(1 for out in lines for line in out.splitlines() if len(line.split()) == 7)


def test_objects_stored_as_deltas_are_pushed_whole_or_on_a_base_the_remote_has(acme_repo, new_remote, git_daemon,
                                                                                 served, tmp_path):
    first = new_remote()
    url = git_daemon.url(first.relative_to(served).as_posix())
    for n in range(3):
        grow_a_prompt(Store(acme_repo), tmp_path, n)
        Store(acme_repo).push(url)
    git(first, "gc", "-q", "--aggressive")  # the server's packs, and so what it sends, are deltified
    Store.clone(url, tmp_path / "copy.git")
    assert deltas_in(tmp_path / "copy.git") > 0
    copy = Store(tmp_path / "copy.git")
    grow_a_prompt(copy, tmp_path, 9)
    second = new_remote()
    copy.push(git_daemon.url(second.relative_to(served).as_posix()))  # everything, deltas included
    copy.push(url)  # only the new commit
    for remote in (first, second):
        assert all_refs(remote) == all_refs(copy.path)
        fsck(remote)


def test_the_remote_keeps_the_first_clones_prompt_version(two_clones, tmp_path):
    remote, first, second = two_clones
    add_prompt_version(first, tmp_path, 1)
    add_prompt_version(second, tmp_path, 2)
    first.push()
    result = run_cli("push", repo=second.path)
    assert result.exit_code == 4 and PROMPT_REF in result.stderr
    assert git(remote, "log", "--format=%(trailers:key=Version,valueonly)", PROMPT_REF).split() == ["2", "1"]
    assert git(remote, "rev-parse", PROMPT_REF) == git(first.path, "rev-parse", PROMPT_REF)
    assert "Leasing assistant, take 1" in git(remote, "show", f"{PROMPT_REF}:prompt.yaml")


def test_prompt_versions_list_on_a_cli_clone(rich_repo, new_remote, git_daemon, served, tmp_path):
    remote = new_remote()
    url = git_daemon.url(remote.relative_to(served).as_posix())
    assert run_cli("push", url, repo=rich_repo).exit_code == 0
    cloned = run_cli("clone", url, str(tmp_path / "copy.git"))
    assert cloned.exit_code == 0, cloned.stderr
    listed = run_cli("prompt", "version", "list", LEASING_PROMPT_ID, "--org", ACME_ID, "--json",
                     repo=tmp_path / "copy.git")
    assert listed.exit_code == 0, listed.stderr
    assert [v["version"] for v in listed.json["versions"]] == [2, 1]


def test_a_pull_json_error_says_which_refs_moved(two_clones, tmp_path):
    _remote, first, second = two_clones
    change_live_branch(first, tmp_path, 1)
    tag = snapshot_tag(first, ACME_ID, "6650a0000000000000000009")
    first.push()
    change_live_branch(second, tmp_path, 2)
    result = run_cli("--json", "pull", repo=second.path)
    assert result.exit_code == 4
    document = result.json
    assert document["error"] == "Conflict" and "diverged" in document["details"]
    statuses = {ref["ref"]: ref["status"] for ref in document["result"]["refs"]}
    assert statuses[tag] == "created" and statuses[LIVE] == "diverged"


@pytest.mark.parametrize("packed_by", ["gitsnap", "git gc"], ids=["gitsnap's packs", "git's deltified packs"])
def test_a_large_push_copies_records_that_git_accepts(repo, new_remote, git_daemon, served, tmp_path, packed_by):
    document = {"org": {"id": "big", "name": "Big"},
                "pipelines": [{"id": f"p{i}", "name": f"Pipeline {i}", "notes": "same text " * (i % 7)} for i in range(1500)]}
    store = Store(repo)
    store.import_org(json.dumps(document).encode())
    document["pipelines"][0]["name"] = "Renamed"  # a second commit: a loose blob and trees beside the pack
    store.import_org(json.dumps(document).encode())
    if packed_by == "git gc":
        git(repo, "gc", "-q", "--aggressive")  # now most objects are deltas, sent whole
    remote = new_remote()
    store.push(git_daemon.url(remote.relative_to(served).as_posix()))
    git(remote, "fsck", "--strict")
    assert all_refs(remote) == all_refs(repo)
    copy = Store.clone(git_daemon.url(remote.relative_to(served).as_posix()), tmp_path / "copy.git")
    assert copy.refs and Store(tmp_path / "copy.git").list_orgs().orgs[0].counts.pipelines == 1500
