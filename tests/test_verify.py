"""``gitsnap verify``: what gitsnap wrote passes; what plain git wrote wrongly is named, ref by ref."""

from __future__ import annotations

import pytest

from gitsnap import Store

from .conftest import ACME_ID, ALEX_ID, LEASING_PROMPT_ID, git, run_cli

LIVE = f"refs/heads/orgs/{ACME_ID}"
PROMPT_REF = f"refs/prompts/{ACME_ID}/{LEASING_PROMPT_ID}"


@pytest.fixture
def full_repo(acme_repo):
    """Acme with a snapshot, two prompt versions and stub snapshots (with chat children)."""
    with Store(acme_repo) as store:
        store.create_snapshot(ACME_ID, ALEX_ID, "Baseline")
        store.create_prompt_version(LEASING_PROMPT_ID, org=ACME_ID, text="v1")
        store.create_prompt_version(LEASING_PROMPT_ID, org=ACME_ID, text="v2")
        store.save_stub_snapshot("lead-intake-flow", all_chats=True)
    return acme_repo


def commit_on(repo, ref: str, tree: str, message: str, parent: str | None = None) -> str:
    """A commit made by plain git, and the ref moved to it."""
    args = ["commit-tree", tree, "-m", message] + (["-p", parent] if parent else [])
    commit = git(repo, *args).strip()
    git(repo, "update-ref", ref, commit)
    return commit


def with_file(repo, tree: str, name: str, content: bytes) -> str:
    """``tree`` with one more top-level file, written by plain git."""
    blob = git(repo, "hash-object", "-w", "--stdin", input=content).strip()
    listing = git(repo, "ls-tree", tree) + f"100644 blob {blob}\t{name}\n"
    return git(repo, "mktree", input=listing.encode()).strip()


def problems(repo) -> list[tuple[str, str]]:
    result = Store(repo).verify()
    return [(p.ref, p.problem) for p in result.problems]


def test_what_gitsnap_wrote_passes_with_every_ref_counted(full_repo):
    result = run_cli("verify", "--json", repo=full_repo)
    assert result.exit_code == 0, result.stdout
    assert result.json == {"ok": True, "problems": [], "checked": {
        "orgs": 1, "snapshots": 1, "prompts": 1, "versions": 2, "stubSnapshots": 3, "saves": 3, "aliases": 0,
        "aliasMoves": 0}}


def test_a_file_outside_the_layout_is_named(full_repo):
    tip = git(full_repo, "rev-parse", LIVE).strip()
    commit_on(full_repo, LIVE, with_file(full_repo, f"{tip}^{{tree}}", "notes.txt", b"hello\n"), "notes", tip)
    assert problems(full_repo) == [(LIVE, "notes.txt: not part of the org-tree layout")]


def test_a_file_that_is_not_canonical_is_named_and_the_exit_code_is_1(full_repo):
    tip = git(full_repo, "rev-parse", LIVE).strip()
    org_yaml = b"name: Acme Corp\nid: " + ACME_ID.encode() + b"\n"  # id should come first
    listing = git(full_repo, "ls-tree", tip).replace("\torg.yaml\n", "\tgone\n")
    tree = git(full_repo, "mktree", input="".join(
        line + "\n" for line in listing.splitlines() if not line.endswith("\tgone")).encode()).strip()
    commit_on(full_repo, LIVE, with_file(full_repo, tree, "org.yaml", org_yaml), "hand edit", tip)
    result = run_cli("verify", repo=full_repo)
    assert result.exit_code == 1
    assert f"{LIVE}: org.yaml: not canonical YAML" in result.stdout


def test_an_invalid_entity_is_named_with_its_field(full_repo):
    tip = git(full_repo, "rev-parse", LIVE).strip()
    bad = git(full_repo, "hash-object", "-w", "--stdin", input=b"id: p9\ntitle: No body\n").strip()
    prompts = git(full_repo, "rev-parse", f"{tip}:prompts").strip()
    listing = git(full_repo, "ls-tree", prompts) + f"100644 blob {bad}\tp9.yaml\n"
    new_prompts = git(full_repo, "mktree", input=listing.encode()).strip()
    top = git(full_repo, "ls-tree", tip).replace(prompts, new_prompts)
    commit_on(full_repo, LIVE, git(full_repo, "mktree", input=top.encode()).strip(), "bad prompt", tip)
    assert problems(full_repo) == [(LIVE, "prompts/p9.yaml: body: required field is missing")]


def test_snapshot_counts_that_disagree_with_the_tree_are_named(full_repo):
    ref = git(full_repo, "for-each-ref", "--format=%(refname)", "refs/tags/snapshots").strip()
    message = git(full_repo, "cat-file", "tag", ref).split("\n\n", 1)[1]
    forged = message.replace("prompts=20", "prompts=21")
    target = git(full_repo, "rev-parse", f"{ref}^{{commit}}").strip()
    tag = git(full_repo, "mktag", input=(
        f"object {target}\ntype commit\ntag {ref[len('refs/tags/'):]}\n"
        f"tagger Pat Superadmin <pat@acme.example> 1700000000 +0000\n\n{forged}").encode()).strip()
    git(full_repo, "update-ref", ref, tag)
    [(where, problem)] = problems(full_repo)
    assert where == ref and "'prompts': 21" in problem and "'prompts': 20" in problem


def test_a_gap_in_prompt_version_numbers_is_named(full_repo):
    tip = git(full_repo, "rev-parse", PROMPT_REF).strip()
    tree = git(full_repo, "rev-parse", f"{tip}^{{tree}}").strip()
    commit_on(full_repo, PROMPT_REF, tree, f"Version 4\n\nVersion: 4\nPrompt-Id: {LEASING_PROMPT_ID}", tip)
    [(where, problem)] = problems(full_repo)
    assert where == PROMPT_REF and "Version '2' where 3 was expected" in problem


def test_a_stub_save_with_another_uuid_is_named(full_repo):
    ref = f"refs/stubs/{ACME_ID}/lead-intake-flow/stub/_default"
    tip = git(full_repo, "rev-parse", ref).strip()
    tree = git(full_repo, "rev-parse", f"{tip}^{{tree}}").strip()
    message = git(full_repo, "log", "-1", "--format=%B", tip)
    uuid = git(full_repo, "log", "-1", "--format=%(trailers:key=Snapshot-Uuid,valueonly)", tip).strip()
    commit_on(full_repo, ref, tree, message.replace(uuid, "00000000-0000-4000-8000-000000000000"), tip)
    [(where, problem)] = problems(full_repo)
    assert where == ref and "not the tip's 00000000-0000-4000-8000-000000000000" in problem


def test_foreign_refs_in_gitsnap_namespaces_are_named(full_repo):
    tip = git(full_repo, "rev-parse", LIVE).strip()
    git(full_repo, "update-ref", "refs/prompts/stray", tip)
    git(full_repo, "update-ref", "refs/heads/orgs/team/acme", tip)
    found = dict(problems(full_repo))
    assert found["refs/prompts/stray"].startswith("not a gitsnap ref")
    assert found["refs/heads/orgs/team/acme"].startswith("not a gitsnap ref")
