"""snapshot apply: onboarding a new org from a snapshot, and --replace-config of an existing one."""

from __future__ import annotations

import json

import pytest

from gitsnap import InvalidInput, Store
from tests.conftest import ACME_ID, ALEX_ID, all_refs, fsck, git, run_cli

NEW_ORG = "66aa00000000000000000001"
NEW_LIVE = f"refs/heads/orgs/{NEW_ORG}"
LIVE = f"refs/heads/orgs/{ACME_ID}"
CONFIG = ["automations", "pipelines", "prompts", "templates"]
NEW_ORG_TREE = ["automations", "org.yaml", "pipelines", "prompts", "templates"]  # no users, no stubs
RESULT_KEYS = {"message", "orgId", "orgName", "snapshotId", "commit", "skipped", "counts"}


@pytest.fixture
def api(acme_repo) -> Store:
    return Store(acme_repo)


@pytest.fixture
def snapshot(api):
    return api.create_snapshot(ACME_ID, ALEX_ID, "Production baseline").snapshot


def cli(repo, *args):
    return run_cli(*args, repo=repo)


def ls_tree(repo, rev: str) -> dict[str, str]:
    """name -> object id of a tree's entries."""
    return {line.split("\t")[1]: line.split()[2] for line in git(repo, "ls-tree", rev).splitlines()}


def trailers(repo, rev: str) -> list[tuple[str, str]]:
    message = git(repo, "log", "-1", "--format=%B", rev)
    return [tuple(line.split(": ", 1)) for line in git(repo, "interpret-trailers", "--parse", input=message.encode()).splitlines()]


def import_org(api: Store, tmp_path, org: dict, **collections) -> None:
    path = tmp_path / "org.json"
    path.write_text(json.dumps({"org": org, **collections}))
    api.import_org(str(path))


# --- a new org ----------------------------------------------------------------------------------------


def test_a_new_org_gets_a_root_commit_with_the_config_and_its_own_org_yaml(acme_repo, snapshot):
    result = cli(acme_repo, "snapshot", "apply", snapshot.id, "--to-org", NEW_ORG, "--to-name", "Initech", "--json")
    assert result.exit_code == 0, result.stderr
    tree, source = ls_tree(acme_repo, NEW_LIVE), ls_tree(acme_repo, snapshot.commit)
    assert sorted(tree) == NEW_ORG_TREE
    assert {name: tree[name] for name in CONFIG} == {name: source[name] for name in CONFIG}  # reused by id
    assert git(acme_repo, "show", f"{NEW_LIVE}:org.yaml") == f"id: {NEW_ORG}\nname: Initech\n"
    assert git(acme_repo, "rev-list", "--parents", NEW_LIVE).split() == [result.json["commit"]]  # a root commit
    fsck(acme_repo)


def test_the_commit_records_the_snapshot_in_its_trailers(acme_repo, api, snapshot):
    api.apply_snapshot(snapshot.id, NEW_ORG, "Initech")
    assert git(acme_repo, "log", "-1", "--format=%s", NEW_LIVE).strip() == "Apply snapshot Production baseline to Initech"
    assert trailers(acme_repo, NEW_LIVE) == [("Based-On-Snapshot", snapshot.id), ("Org", NEW_ORG), ("Source-Org", ACME_ID)]
    assert git(acme_repo, "log", "-1", "--format=%an|%cn", NEW_LIVE).strip() == "Test Runner|Pat Superadmin"


def test_json_result_has_the_apply_shape(acme_repo, snapshot):
    data = cli(acme_repo, "snapshot", "apply", snapshot.id, "--to-org", NEW_ORG, "--to-name", "Initech", "--json").json
    assert set(data) == RESULT_KEYS
    assert (data["message"], data["orgId"], data["orgName"], data["snapshotId"], data["skipped"]) == \
        ("Snapshot applied", NEW_ORG, "Initech", snapshot.id, False)
    assert data["counts"] == {"pipelines": 3, "automations": 12, "prompts": 20, "templates": 30}
    assert data["commit"] == git(acme_repo, "rev-parse", NEW_LIVE).strip()


def test_user_is_the_author_resolved_among_the_snapshot_orgs_users(acme_repo, api, snapshot):
    api.apply_snapshot(snapshot.id, NEW_ORG, "Initech", user_id=ALEX_ID)
    assert git(acme_repo, "log", "-1", "--format=%an <%ae>", NEW_LIVE).strip() == "Alex Rep <alex@acme.example>"
    assert ("User", ALEX_ID) in trailers(acme_repo, NEW_LIVE)


def test_the_new_org_is_an_org_like_any_other(acme_repo, api, snapshot):
    api.apply_snapshot(snapshot.id, NEW_ORG, "Initech")
    orgs = {org.id: org for org in api.list_orgs().orgs}
    assert orgs[NEW_ORG].name == "Initech" and orgs[NEW_ORG].counts == orgs[ACME_ID].counts
    diff = api.diff_snapshots(snapshot.id, NEW_ORG)
    assert [c.path for c in diff.org][:2] == ["id", "name"]
    assert all(diff.collections[name].empty for name in ("pipelines", "automations", "prompts", "templates"))
    assert len(diff.collections["users"].removed) == 5 and len(diff.collections["stubs"].removed) == 2


# --- an existing org ----------------------------------------------------------------------------------


def test_an_existing_org_is_refused_without_replace_config(acme_repo, api, snapshot):
    api.apply_snapshot(snapshot.id, NEW_ORG, "Initech")
    refs = all_refs(acme_repo)
    result = cli(acme_repo, "snapshot", "apply", snapshot.id, "--to-org", ACME_ID, "--to-name", "Acme Corp")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"gitsnap: org {ACME_ID} already exists; --replace-config replaces")
    assert len(result.stderr.splitlines()) == 1
    assert all_refs(acme_repo) == refs


def test_replace_config_keeps_org_yaml_users_and_stubs(acme_repo, api, snapshot, tmp_path):
    import_org(api, tmp_path, {"id": NEW_ORG, "name": "Initech", "plan": "starter"},
               users=[{"id": "bill", "name": "Bill", "email": "bill@initech.example"}],
               pipelines=[{"id": "old-pipeline", "name": "Old"}],
               stubs=[{"stubref": "flow", "data": {"step": 1}, "chats": {"support": {"m": 1}}}])
    tip, before = git(acme_repo, "rev-parse", NEW_LIVE).strip(), ls_tree(acme_repo, NEW_LIVE)
    result = api.apply_snapshot(snapshot.id, NEW_ORG, replace_config=True)
    after, source = ls_tree(acme_repo, NEW_LIVE), ls_tree(acme_repo, snapshot.commit)
    assert {name: after[name] for name in ("org.yaml", "users", "stubs")} == \
        {name: before[name] for name in ("org.yaml", "users", "stubs")}
    assert {name: after[name] for name in CONFIG} == {name: source[name] for name in CONFIG}
    assert git(acme_repo, "rev-parse", f"{NEW_LIVE}^").strip() == tip
    assert (result.org_name, result.skipped, result.message) == ("Initech", False, "Snapshot applied")
    assert ("Based-On-Snapshot", snapshot.id) in trailers(acme_repo, NEW_LIVE)
    fsck(acme_repo)


def test_replace_config_removes_collections_the_snapshot_does_not_have(acme_repo, api, tmp_path):
    import_org(api, tmp_path, {"id": NEW_ORG, "name": "Initech"},
               users=[{"id": "bill", "name": "Bill", "email": "bill@initech.example"}],
               pipelines=[{"id": "p1", "name": "Sales"}])
    small = api.create_snapshot(NEW_ORG, "bill", "Pipelines only").snapshot
    api.apply_snapshot(small.id, ACME_ID, replace_config=True)
    assert sorted(ls_tree(acme_repo, LIVE)) == ["org.yaml", "pipelines", "stubs", "users"]


def test_replace_config_with_the_same_config_is_a_noop(acme_repo, api, snapshot):
    tip = git(acme_repo, "rev-parse", LIVE).strip()
    result = cli(acme_repo, "snapshot", "apply", snapshot.id, "--to-org", ACME_ID, "--replace-config", "--json")
    assert result.exit_code == 0
    assert (result.json["message"], result.json["skipped"], result.json["commit"]) == ("No changes", True, tip)
    assert git(acme_repo, "rev-parse", LIVE).strip() == tip


def test_replace_config_restores_a_changed_org(acme_repo, api, snapshot, acme_dir):
    for path in list((acme_dir / "templates").iterdir())[:3]:
        path.unlink()
    api.import_org(str(acme_dir))
    result = api.apply_snapshot(snapshot.id, ACME_ID, replace_config=True)
    assert result.counts.templates == 30
    assert git(acme_repo, "rev-parse", f"{LIVE}^{{tree}}") == git(acme_repo, "rev-parse", f"{snapshot.commit}^{{tree}}")


def test_replace_config_with_another_name_is_refused(acme_repo, snapshot):
    refs = all_refs(acme_repo)
    result = cli(acme_repo, "snapshot", "apply", snapshot.id, "--to-org", ACME_ID, "--replace-config",
                 "--to-name", "Renamed")
    assert result.exit_code == 2
    assert "it is named 'Acme Corp', not 'Renamed'" in result.stderr
    assert all_refs(acme_repo) == refs


# --- bad input ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("args, message", [
    (["--to-org", NEW_ORG], f"org {NEW_ORG} does not exist yet; give it a name with --to-name"),
    (["--to-org", "../x", "--to-name", "X"], "org '../x' is not a valid identifier"),
    (["--to-org", NEW_ORG, "--to-name", " "], "org name is empty"),
    (["--to-org", NEW_ORG, "--to-name", "X", "--user", "a b"], "user 'a b' is not a valid identifier"),
])
def test_bad_input_exits_2_and_changes_no_ref(acme_repo, snapshot, args, message):
    refs = all_refs(acme_repo)
    result = cli(acme_repo, "snapshot", "apply", snapshot.id, *args)
    assert result.exit_code == 2 and message in result.stderr and len(result.stderr.splitlines()) == 1
    assert all_refs(acme_repo) == refs


def test_an_unknown_user_is_not_found_and_changes_no_ref(acme_repo, snapshot):
    refs = all_refs(acme_repo)
    result = cli(acme_repo, "snapshot", "apply", snapshot.id, "--to-org", NEW_ORG, "--to-name", "X",
                 "--user", "nobody", "--json")
    assert result.exit_code == 3
    assert result.json == {"error": "User not found", "details": f"user nobody is not a member of org {ACME_ID}"}
    assert all_refs(acme_repo) == refs


def test_the_python_api_refuses_an_existing_org(api, snapshot):
    with pytest.raises(InvalidInput, match="already exists"):
        api.apply_snapshot(snapshot.id, ACME_ID, "Acme Corp")


def test_applying_from_a_clone_works_on_its_tags(acme_repo, snapshot, tmp_path):
    copy = tmp_path / "clone.git"
    git(acme_repo, "clone", "--bare", "-q", str(acme_repo), str(copy))
    Store(copy).apply_snapshot(snapshot.id, NEW_ORG, "Initech")
    assert sorted(ls_tree(copy, NEW_LIVE)) == NEW_ORG_TREE
    fsck(copy)
