"""--dry-run on every writing command: it computes everything, moves no ref and adds no reachable object,
and what it says it would change is what the real run then changes."""

from __future__ import annotations

import json
import shutil

import pytest

from gitsnap import Store
from tests.conftest import ACME_ID, ALEX_ID, FIXTURES, LEASING_PROMPT_ID, all_refs, fsck, git, run_cli

LIVE = f"refs/heads/orgs/{ACME_ID}"
STUB = "lead-intake-flow"
DATES = {"GIT_COMMITTER_DATE": "1778835600 +0000", "GIT_AUTHOR_DATE": "1778835600 +0000"}


def reachable(repo) -> int:
    return len(git(repo, "rev-list", "--objects", "--all").splitlines())


def changed_export(tmp_path) -> str:
    document = json.loads((FIXTURES / "acme.json").read_text())
    document["pipelines"][0]["name"] = "Renamed pipeline"
    document["templates"].pop()
    document["org"]["plan"] = "gold"
    document["stubs"][0]["data"]["current_step"] = "changed-step"
    path = tmp_path / "changed.json"
    path.write_text(json.dumps(document))
    return str(path)


@pytest.fixture
def prepared(acme_repo, tmp_path):
    """Acme with a prompt version, a stub snapshot and an org snapshot, and a second repository to pull from."""
    with Store(acme_repo) as store:
        store.create_prompt_version(LEASING_PROMPT_ID, text="first text")
        store.create_prompt_version(LEASING_PROMPT_ID, text="second text")
        store.save_stub_snapshot(STUB, all_chats=True)
        snapshot = store.create_snapshot(ACME_ID, ALEX_ID, "Base").snapshot
    upstream = tmp_path / "upstream.git"
    shutil.copytree(acme_repo, upstream)
    with Store(upstream) as other:
        other.import_org(changed_export(tmp_path), user_id=ALEX_ID)
        other.create_prompt_version(LEASING_PROMPT_ID, text="upstream text")
    return acme_repo, snapshot.id, upstream


COMMANDS = {
    "org import": lambda snap, up, tmp: ["org", "import", changed_export(tmp), "--user", ALEX_ID],
    "snapshot create --from": lambda snap, up, tmp: ["snapshot", "create", "--org", ACME_ID, "--user", ALEX_ID,
                                                     "--name", "Next", "--from", changed_export(tmp)],
    "snapshot apply": lambda snap, up, tmp: ["snapshot", "apply", snap, "--to-org", "tenant1", "--to-name", "Tenant"],
    "snapshot delete": lambda snap, up, tmp: ["snapshot", "delete", snap],
    "prompt version create": lambda snap, up, tmp: ["prompt", "version", "create", LEASING_PROMPT_ID, "--text", "new"],
    "prompt restore": lambda snap, up, tmp: ["prompt", "restore", LEASING_PROMPT_ID, "1"],
    "stub snapshot save": lambda snap, up, tmp: ["stub", "snapshot", "save", STUB, "--name", "second", "--all-chats"],
    "stub snapshot restore": lambda snap, up, tmp: ["stub", "snapshot", "restore", STUB],
    "stub snapshot delete": lambda snap, up, tmp: ["stub", "snapshot", "delete", STUB, "--with-children"],
    "pull": lambda snap, up, tmp: ["pull", str(up)],
}
RANDOM_IDS = {"snapshot create --from", "stub snapshot save"}  # a new snapshot id or uuid each run


@pytest.mark.parametrize("name", COMMANDS, ids=COMMANDS.keys())
def test_a_dry_run_moves_nothing_and_announces_exactly_what_the_real_run_does(prepared, tmp_path, name):
    repo, snapshot_id, upstream = prepared
    if name in ("prompt restore", "stub snapshot restore"):
        Store(repo).import_org(changed_export(tmp_path))  # the live state differs from what is restored
    args = COMMANDS[name](snapshot_id, upstream, tmp_path)
    refs, objects = all_refs(repo), reachable(repo)
    dry = run_cli("--json", *args, "--dry-run", repo=repo, env=DATES)
    assert dry.exit_code == 0, dry.stderr
    assert all_refs(repo) == refs and reachable(repo) == objects
    planned = dry.json["changes"]
    assert dry.json["dryRun"] is True and planned, "a writing command's dry run names what it would move"
    real = run_cli("--json", *args, repo=repo, env=DATES)
    assert real.exit_code == 0, real.stderr
    after = all_refs(repo)
    moved = {ref: (refs.get(ref), after.get(ref)) for ref in refs.keys() | after.keys() if refs.get(ref) != after.get(ref)}
    if name in RANDOM_IDS:  # same number of refs, same kinds and old values; the new names carry a fresh id
        assert sorted((c["ref"].rsplit("/", 1)[0], c["old"]) for c in planned) == \
            sorted((ref.rsplit("/", 1)[0], old) for ref, (old, _new) in moved.items())
    else:
        assert {c["ref"]: (c["old"], c["new"]) for c in planned} == moved
    real_json = {k: v for k, v in real.json.items()}
    dry_json = {k: v for k, v in dry.json.items() if k not in ("dryRun", "changes")}
    if name not in RANDOM_IDS:
        assert dry_json == real_json  # the same result, word for word
    fsck(repo)


def test_a_live_branch_change_comes_with_its_entity_diff(prepared, tmp_path):
    repo, _, _ = prepared
    dry = run_cli("--json", "org", "import", changed_export(tmp_path), "--dry-run", repo=repo)
    (change,) = dry.json["changes"]
    diff = change["diff"]
    assert change["ref"] == LIVE
    assert [c["id"] for c in diff["collections"]["pipelines"]["changed"]] == ["6501c0de5a1e000000000001"]
    assert len(diff["collections"]["templates"]["removed"]) == 1
    assert diff["org"] == [{"path": "plan", "change": "changed", "old": "enterprise", "new": "gold"}]
    human = run_cli("org", "import", changed_export(tmp_path), "--dry-run", repo=repo)
    assert human.stdout.startswith("Dry run: nothing was written.")
    assert "~ name: \"Leasing inquiries\" -> \"Renamed pipeline\"" in human.stdout


def test_a_dry_run_that_changes_nothing_says_so(prepared):
    repo, _, _ = prepared
    result = run_cli("--json", "org", "import", str(FIXTURES / "acme.json"), "--dry-run", repo=repo)
    assert result.exit_code == 0 and result.json["changes"] == [] and result.json["skipped"] is True


def test_a_dry_run_fails_as_the_real_run_would(prepared):
    repo, _, _ = prepared
    refs = all_refs(repo)
    result = run_cli("prompt", "restore", LEASING_PROMPT_ID, "9", "--dry-run", repo=repo)
    assert result.exit_code == 3 and all_refs(repo) == refs


def test_the_library_dry_run_lists_planned_changes(prepared, tmp_path):
    repo, _, _ = prepared
    refs = all_refs(repo)
    with Store(repo, dry_run=True) as store:
        store.import_org(changed_export(tmp_path))
        store.create_prompt_version(LEASING_PROMPT_ID)
        planned = {change.ref for change in store.planned_changes()}
        assert store.list_prompt_versions(LEASING_PROMPT_ID).versions[0].version == 3  # it sees its own moves
    assert planned == {LIVE, f"refs/prompts/{ACME_ID}/{LEASING_PROMPT_ID}"}
    assert all_refs(repo) == refs
