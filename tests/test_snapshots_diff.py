"""snapshot diff: entities added, removed and changed per collection, field paths, sides, --patch."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from gitsnap import NotFound, Store
from gitsnap.models import EntityChange, EntityRef, FieldChange
from gitsnap.snapshot_diff import field_changes
from tests.conftest import ACME_ID, ALEX_ID, FIXTURES, LEASING_PROMPT_ID, git, run_cli

LIVE = f"refs/heads/orgs/{ACME_ID}"
COLLECTIONS = ("pipelines", "automations", "prompts", "templates", "users")
JORDAN_ID = "64ee9a8b1e7f2a0011223393"  # a user no test removes


def ident(entity: dict) -> str:
    return entity.get("id", entity.get("_id"))


@pytest.fixture
def api(acme_repo) -> Store:
    return Store(acme_repo)


@pytest.fixture
def before(api) -> str:
    """A snapshot of the Acme fixture as imported."""
    return api.create_snapshot(ACME_ID, ALEX_ID, "Before").snapshot.id


@pytest.fixture
def after(api, tmp_path):
    """``after(mutate)``: import the Acme document changed by ``mutate(doc)``, snapshot it, return the id."""

    def snapshot_after(mutate) -> str:
        document = json.loads((FIXTURES / "acme.json").read_text())
        mutate(document)
        path = tmp_path / "changed.json"
        path.write_text(json.dumps(document))
        api.import_org(str(path))
        return api.create_snapshot(ACME_ID, JORDAN_ID, "After").snapshot.id

    return snapshot_after


def label_key(collection: str) -> str:
    return "title" if collection == "prompts" else "name"


@pytest.mark.parametrize("collection", COLLECTIONS)
def test_added_removed_and_changed_entities_of_each_collection(api, before, after, collection):
    original = json.loads((FIXTURES / "acme.json").read_text())[collection]
    first, second, third = original[0], original[1], original[2]
    key = label_key(collection)

    def mutate(document):
        entities = document[collection]
        entities.append({**third, "_id" if "_id" in third else "id": "new-entity", key: "New one"})
        entities[1][key] = "Renamed"
        entities[1]["x_note"] = "added field"
        del entities[0]

    diff = api.diff_snapshots(before, after(mutate))
    result = diff.collections[collection]
    assert result.added == [EntityRef(id="new-entity", name="New one")]
    assert result.removed == [EntityRef(id=ident(first), name=first[key])]
    assert result.changed == [EntityChange(id=ident(second), name="Renamed", fields=[
        FieldChange(path=key, change="changed", old=second[key], new="Renamed"),
        FieldChange(path="x_note", change="added", new="added field")])]
    assert all(c.empty for name, c in diff.collections.items() if name != collection)
    assert diff.org == [] and diff.other_files == []


def test_nested_field_changes_have_dotted_paths_and_list_indices(api, before, after):
    def mutate(document):
        document["pipelines"][1]["stages"][2]["name"] = "Booked"
        document["pipelines"][1]["stages"].append({"name": "Closed", "order": 5})
        document["automations"][0]["trigger"]["event"] = "tour.confirmed"
        document["automations"][0]["settings"] = {"delay_minutes": 15}
        del document["automations"][0]["actions"][0]["template"]

    diff = api.diff_snapshots(before, after(mutate))
    pipeline, = diff.collections["pipelines"].changed
    assert pipeline.fields == [
        FieldChange(path="stages[2].name", change="changed", old="Scheduled", new="Booked"),
        FieldChange(path="stages[4]", change="added", new={"name": "Closed", "order": 5})]
    automation, = diff.collections["automations"].changed
    assert automation.fields == [
        FieldChange(path="actions[0].template", change="removed", old="tour-confirmation-sms"),
        FieldChange(path="trigger.event", change="changed", old="tour.booked", new="tour.confirmed"),
        FieldChange(path="settings", change="added", new={"delay_minutes": 15})]


def test_a_changed_nested_setting_is_reported_at_its_path(api, before, after):
    def add(document):
        document["automations"][0]["settings"] = {"delay_minutes": 15, "channel": "sms"}

    def change(document):
        add(document)
        document["automations"][0]["settings"]["delay_minutes"] = 30

    diff = api.diff_snapshots(after(add), after(change))
    assert diff.collections["automations"].changed[0].fields == [
        FieldChange(path="settings.delay_minutes", change="changed", old=15, new=30)]


def test_org_yaml_changes_are_field_changes(api, before, after):
    def mutate(document):
        document["org"]["features"]["sms"] = False
        document["org"]["plan"] = "growth"

    diff = api.diff_snapshots(before, after(mutate))
    assert diff.org == [FieldChange(path="features.sms", change="changed", old=True, new=False),
                        FieldChange(path="plan", change="changed", old="enterprise", new="growth")]
    assert all(c.empty for c in diff.collections.values())


def test_stubs_are_added_removed_and_changed_with_their_chats(api, before, after):
    def mutate(document):
        lead, maintenance = document["stubs"]
        lead["data"]["status"] = "paused"
        lead["chats"]["customer_support"]["turns"] = 3
        del lead["chats"]["advanced_support"]
        lead["chats"]["escalation"] = {"status": "new"}
        document["stubs"] = [lead, {**maintenance, "stubref": "new-flow"}]

    stubs = api.diff_snapshots(before, after(mutate)).collections["stubs"]
    assert stubs.added == [EntityRef(id="new-flow")]
    assert stubs.removed == [EntityRef(id="maintenance-triage-flow")]
    assert stubs.changed == [EntityChange(id="lead-intake-flow", fields=[
        FieldChange(path="data.status", change="changed", old="running", new="paused"),
        FieldChange(path="chats.advanced_support", change="removed",
                    old=json.loads((FIXTURES / "acme.json").read_text())["stubs"][0]["chats"]["advanced_support"]),
        FieldChange(path="chats.customer_support.turns", change="changed", old=2, new=3),
        FieldChange(path="chats.escalation", change="added", new={"status": "new"})])]


def test_equal_states_have_no_differences(acme_repo, api, before):
    diff = api.diff_snapshots(before, ACME_ID)
    assert diff.org == [] and all(c.empty for c in diff.collections.values())
    result = run_cli("snapshot", "diff", before, ACME_ID, repo=acme_repo)
    assert result.exit_code == 0 and result.stdout.splitlines()[-1] == "No differences"


def test_values_of_different_types_differ_even_when_python_calls_them_equal():
    assert field_changes({"a": 1, "b": 0.0, "c": [1]}, {"a": True, "b": 0, "c": [1]}) == [
        FieldChange(path="a", change="changed", old=1, new=True),
        FieldChange(path="b", change="changed", old=0.0, new=0)]


def test_keys_that_are_not_plain_names_are_quoted():
    assert [c.path for c in field_changes({"x": {"a.b": 1, 2: 1}}, {"x": {"a.b": 2, 2: 2}})] == ['x["a.b"]', "x[2]"]


# --- the two sides ------------------------------------------------------------------------------------


def test_sides_may_be_snapshots_orgs_or_revisions(acme_repo, api, before, after):
    later = after(lambda document: document["org"].update(plan="growth"))
    tip = git(acme_repo, "rev-parse", LIVE).strip()
    cases = [
        (before, "snapshot"), (ACME_ID, "org"), (f"orgs/{ACME_ID}~1", "revision"), (tip, "revision"),
        (f"snapshots/{ACME_ID}/{later}", "revision"),
    ]
    for spec, kind in cases:
        diff = api.diff_snapshots(spec, later)
        assert diff.from_.kind == kind and diff.to.kind == "snapshot" and diff.to.name == "After"
        expected = [] if spec in (ACME_ID, tip, f"snapshots/{ACME_ID}/{later}") else \
            [FieldChange(path="plan", change="changed", old="enterprise", new="growth")]
        assert diff.org == expected, spec
    assert api.diff_snapshots(before, later).from_.commit == git(acme_repo, "rev-parse", f"{LIVE}~1").strip()


def test_an_org_id_that_looks_like_a_snapshot_id_is_the_org(api, before):
    diff = api.diff_snapshots(ACME_ID, before)  # ACME_ID is 24 hex digits too
    assert diff.from_.kind == "org" and diff.to.kind == "snapshot"


def test_an_unknown_side_is_not_found(acme_repo, api, before):
    with pytest.raises(NotFound):
        api.diff_snapshots(before, "0123456789abcdef01234567")
    result = run_cli("snapshot", "diff", before, "no-such-thing", repo=acme_repo)
    assert result.exit_code == 3
    assert "'no-such-thing' is neither a snapshot id, an org nor a git revision" in result.stderr


# --- reading only what changed ------------------------------------------------------------------------


def test_only_the_changed_blobs_and_the_trees_on_their_paths_are_read(acme_repo, before, after):
    def mutate(document):
        prompt = next(p for p in document["prompts"] if p["id"] == LEASING_PROMPT_ID)
        prompt["body"] += "\n<rule>Never discuss other tenants.</rule>"

    later = after(mutate)
    api = Store(acme_repo)
    read_blobs, read_trees = [], []
    real_blob, real_raw = api.git.objects.read_blob, api.git.objects.raw
    api.git.objects.read_blob = lambda sha: read_blobs.append(sha) or real_blob(sha)

    def raw(sha):
        found = real_raw(sha)
        if found[0] == 2:  # a tree
            read_trees.append(sha)
        return found

    api.git.objects.raw = raw
    diff = api.diff_snapshots(before, later)

    path = f"prompts/{LEASING_PROMPT_ID}.yaml"
    old, new = (git(acme_repo, "rev-parse", f"{rev}:{path}").strip() for rev in (f"{LIVE}~1", LIVE))
    assert sorted(read_blobs) == sorted([old, new])
    expected_trees = {git(acme_repo, "rev-parse", f"{rev}{suffix}").strip()
                      for rev in (f"{LIVE}~1", LIVE) for suffix in ("^{tree}", ":prompts")}
    assert set(read_trees) == expected_trees
    assert [c.id for c in diff.collections["prompts"].changed] == [LEASING_PROMPT_ID]


# --- output -------------------------------------------------------------------------------------------


def test_patch_is_a_unified_diff_git_apply_takes(acme_repo, api, before, after, tmp_path):
    def mutate(document):
        document["pipelines"][1]["stages"][2]["name"] = "Booked"
        document["templates"].pop(0)
        document["automations"].append({"id": "new-automation", "name": "New", "enabled": False})
        document["org"]["features"]["sms"] = False

    later = after(mutate)
    result = run_cli("snapshot", "diff", before, later, "--patch", repo=acme_repo)
    assert result.exit_code == 0, result.stderr
    patch = result.stdout
    assert "diff --git a/pipelines/6501c0de5a1e000000000002.yaml b/pipelines/6501c0de5a1e000000000002.yaml\n" in patch
    assert "-- name: Scheduled\n+- name: Booked\n" in patch
    assert "new file mode 100644\n" in patch and "--- /dev/null\n+++ b/automations/new-automation.yaml\n" in patch
    assert "deleted file mode 100644\n" in patch and "+++ /dev/null\n" in patch
    env = {**os.environ, "GIT_INDEX_FILE": str(tmp_path / "index")}
    subprocess.run(["git", "--git-dir", str(acme_repo), "read-tree", f"{LIVE}~1"], env=env, check=True)
    subprocess.run(["git", "--git-dir", str(acme_repo), "apply", "--cached"], input=patch.encode(), env=env, check=True)
    tree = subprocess.run(["git", "--git-dir", str(acme_repo), "write-tree"], env=env, check=True,
                          capture_output=True).stdout.decode().strip()
    assert tree == git(acme_repo, "rev-parse", f"{LIVE}^{{tree}}").strip()


def test_json_is_the_structured_diff(acme_repo, before, after):
    later = after(lambda document: document["pipelines"][1]["stages"][2].update(name="Booked"))
    result = run_cli("snapshot", "diff", before, later, "--json", repo=acme_repo)
    data = result.json
    assert set(data) == {"from", "to", "org", "collections", "otherFiles", "patch"}
    assert data["from"]["snapshotId"] == before and data["to"]["kind"] == "snapshot" and data["patch"] is None
    assert list(data["collections"]) == ["pipelines", "automations", "prompts", "templates", "users", "stubs"]
    assert data["collections"]["pipelines"]["changed"] == [{
        "id": "6501c0de5a1e000000000002", "name": "Maintenance requests",
        "fields": [{"path": "stages[2].name", "change": "changed", "old": "Scheduled", "new": "Booked"}]}]


def test_human_output_summarises_then_lists_field_changes(acme_repo, before, after):
    def mutate(document):
        document["pipelines"][1]["stages"][2]["name"] = "Booked"
        document["templates"].pop(0)
        prompt = next(p for p in document["prompts"] if p["id"] == LEASING_PROMPT_ID)
        prompt["body"] += "\n<rule>Never discuss other tenants.</rule>"

    out = run_cli("snapshot", "diff", before, after(mutate), repo=acme_repo).stdout
    assert "  pipelines: 0 added, 0 removed, 1 changed\n" in out
    assert "  templates: 0 added, 1 removed, 0 changed\n" in out
    assert "automations:" not in out
    assert "  ~ 6501c0de5a1e000000000002  Maintenance requests\n      ~ stages[2].name: \"Scheduled\" -> \"Booked\"" in out
    assert "  - 6503e1110000000000000001  tour-confirmation-sms" in out
    assert "      ~ body: text changed (15 -> 16 lines; --patch shows them)" in out
