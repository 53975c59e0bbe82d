"""Org live state: import (full replace, no-op), export, list, log, proven with the real git CLI."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from gitsnap import NotFound, Store, yamlio

from .conftest import ACME_ID, ALEX_ID, FIXTURES, all_objects, all_refs, fsck, git, run_cli

ACME_REF = f"refs/heads/orgs/{ACME_ID}"


def test_import_writes_an_org_tree_that_git_reads(acme_repo):
    fsck(acme_repo)
    files = git(acme_repo, "ls-tree", "-r", "--name-only", ACME_REF).split()
    assert "org.yaml" in files
    assert sum(f.startswith("prompts/") for f in files) == 20
    assert "stubs/lead-intake-flow/chats/customer_support.yaml" in files
    assert git(acme_repo, "show", f"{ACME_REF}:org.yaml").startswith(f"id: {ACME_ID}\nname: Acme Corp\n")


def test_import_author_is_the_user_and_committer_is_the_runner(acme_repo):
    line = git(acme_repo, "log", "-1", "--format=%an <%ae>|%cn <%ce>", ACME_REF).strip()
    assert line == "Alex Rep <alex@acme.example>|Pat Superadmin <pat@acme.example>"


def test_import_without_user_is_authored_by_the_runner(repo):
    Store(repo).import_org(str(FIXTURES / "acme.json"))
    assert git(repo, "log", "-1", "--format=%an", ACME_REF).strip() == "Test Runner"


def test_commit_dates_follow_git_environment(repo, monkeypatch):
    monkeypatch.setenv("GIT_COMMITTER_DATE", "1747299600 +0200")
    monkeypatch.setenv("GIT_AUTHOR_DATE", "2026-05-15T09:00:00Z")
    Store(repo).import_org(str(FIXTURES / "acme.json"))
    assert git(repo, "log", "-1", "--format=%ct %cd|%at", "--date=format:%z", ACME_REF).strip() == "1747299600 +0200|1778835600"


def test_reimport_of_same_data_is_a_noop(acme_repo):
    before = all_refs(acme_repo)
    result = Store(acme_repo).import_org(str(FIXTURES / "acme.json"), user_id=ALEX_ID)
    assert result.skipped and result.message == "No changes"
    assert all_refs(acme_repo) == before


def test_directory_and_document_give_the_same_tree(tmp_path):
    trees = []
    for source in ("acme", "acme.json"):
        Store.init(tmp_path / source / "repo.git")
        trees.append(Store(tmp_path / source / "repo.git").import_org(str(FIXTURES / source)).tree)
    assert trees[0] == trees[1]


def test_export_then_import_is_a_noop(acme_repo, tmp_path):
    store = Store(acme_repo)
    store.export_org(ACME_ID, out=str(tmp_path / "out"))
    assert store.import_org(str(tmp_path / "out")).skipped
    _, document = store.export_org(ACME_ID, fmt="json")
    (tmp_path / "doc.json").write_text(document)
    assert store.import_org(str(tmp_path / "doc.json")).skipped
    _, document = store.export_org(ACME_ID, fmt="yaml")
    (tmp_path / "doc.yaml").write_text(document)
    assert store.import_org(str(tmp_path / "doc.yaml")).skipped


def test_exported_directory_matches_git_files_byte_for_byte(acme_repo, tmp_path):
    Store(acme_repo).export_org(ACME_ID, out=str(tmp_path / "out"))
    blob = git(acme_repo, "show", f"{ACME_REF}:prompts/65f9b1c2e8a1d4e001a0b1c4.yaml")
    assert (tmp_path / "out" / "prompts" / "65f9b1c2e8a1d4e001a0b1c4.yaml").read_text() == blob


def test_missing_entities_are_deleted(acme_repo, acme_dir):
    (acme_dir / "templates").joinpath(sorted(p.name for p in (acme_dir / "templates").iterdir())[0]).unlink()
    result = Store(acme_repo).import_org(str(acme_dir))
    assert (result.files.removed, result.counts.templates) == (1, 29)
    assert len(git(acme_repo, "ls-tree", "--name-only", f"{ACME_REF}:templates").split()) == 29


def test_reimport_with_one_change_writes_only_the_new_objects(acme_repo, acme_dir):
    before = all_objects(acme_repo)
    tree_before = git(acme_repo, "rev-parse", f"{ACME_REF}^{{tree}}").strip()
    path = acme_dir / "prompts" / "65f9b1c2e8a1d4e001a0b1c4.yaml"
    prompt = yamlio.load(path.read_bytes())
    prompt["temperature"] = 0.9
    path.write_bytes(yamlio.dump(prompt))
    Store(acme_repo).import_org(str(acme_dir))
    new = all_objects(acme_repo) - before
    commit = git(acme_repo, "rev-parse", ACME_REF).strip()
    expected = {
        commit,
        git(acme_repo, "rev-parse", f"{ACME_REF}^{{tree}}").strip(),
        git(acme_repo, "rev-parse", f"{ACME_REF}:prompts").strip(),
        git(acme_repo, "rev-parse", f"{ACME_REF}:prompts/65f9b1c2e8a1d4e001a0b1c4.yaml").strip(),
    }
    assert new == expected
    changed = git(acme_repo, "diff-tree", "-r", "--name-only", "--no-commit-id", tree_before, commit).split()
    assert changed == ["prompts/65f9b1c2e8a1d4e001a0b1c4.yaml"]


def test_mongo_style_ids_are_normalised(acme_repo):
    user = git(acme_repo, "show", f"{ACME_REF}:users/{ALEX_ID}.yaml")
    assert user.startswith(f"id: {ALEX_ID}\nname: Alex Rep\n") and "_id" not in user


def test_unknown_fields_are_kept(repo, tmp_path):
    doc = {"org": {"id": "o1", "name": "O", "plan": {"tier": "gold"}},
           "templates": [{"id": "t1", "name": "T", "x-custom": [1, "two"]}]}
    (tmp_path / "o.json").write_text(json.dumps(doc))
    Store(repo).import_org(str(tmp_path / "o.json"))
    assert yamlio.load(git(repo, "show", "orgs/o1:templates/t1.yaml")) == doc["templates"][0]
    assert yamlio.load(git(repo, "show", "orgs/o1:org.yaml"))["plan"] == {"tier": "gold"}


def test_stdin_import(repo):
    result = run_cli("org", "import", "-", repo=repo, input=(FIXTURES / "acme.json").read_bytes())
    assert result.exit_code == 0, result.stderr
    assert "Imported Acme Corp" in result.stdout


def test_export_any_revision(acme_repo, acme_dir, tmp_path):
    store = Store(acme_repo)
    shutil.rmtree(acme_dir / "automations")
    store.import_org(str(acme_dir))
    _, old = store.export_org(f"orgs/{ACME_ID}~1", fmt="json")
    _, new = store.export_org(ACME_ID, fmt="json")
    assert len(json.loads(old)["automations"]) == 12 and json.loads(new)["automations"] == []


def test_export_refuses_a_nonempty_directory(acme_repo, tmp_path):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    result = run_cli("org", "export", ACME_ID, "--out", str(tmp_path / "out"), repo=acme_repo)
    assert result.exit_code == 2 and "not an empty directory" in result.stderr
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["keep.txt"]


def test_list_and_log(acme_repo, acme_dir):
    store = Store(acme_repo)
    shutil.rmtree(acme_dir / "pipelines")
    store.import_org(str(acme_dir), message="Drop pipelines")
    orgs = store.list_orgs().orgs
    assert [(o.id, o.name, o.counts.pipelines, o.counts.prompts) for o in orgs] == [(ACME_ID, "Acme Corp", 0, 20)]
    log = store.org_log(ACME_ID)
    assert [c.subject for c in log.commits] == ["Drop pipelines", "Import Acme Corp"]
    assert git(acme_repo, "log", "--format=%s", ACME_REF).split("\n")[:2] == ["Drop pipelines", "Import Acme Corp"]


def test_log_of_unknown_org_is_not_found(repo):
    with pytest.raises(NotFound):
        Store(repo).org_log("nope")


def test_cli_json_shapes(acme_repo):
    listed = run_cli("--json", "org", "list", repo=acme_repo).json
    assert listed["orgs"][0]["_id"] == ACME_ID and listed["orgs"][0]["counts"]["templates"] == 30
    log = run_cli("org", "log", ACME_ID, "--json", repo=acme_repo).json
    assert log["commits"][0]["authorEmail"] == "alex@acme.example"
    assert log["commits"][0]["createdAt"].endswith("Z")


def test_plain_git_clone_brings_the_live_branches(acme_repo, tmp_path):
    subprocess.run(["git", "clone", "--bare", "-q", str(acme_repo), str(tmp_path / "clone.git")], check=True)
    assert git(tmp_path / "clone.git", "rev-parse", ACME_REF) == git(acme_repo, "rev-parse", ACME_REF)


def test_a_closed_store_leaves_no_open_pack(acme_repo):
    import gc
    import warnings

    gc.collect()  # stores other tests left open warn now, not below
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with Store(acme_repo) as store:
            assert store.list_orgs().orgs[0].id == ACME_ID
        del store
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_dates_read_the_same_from_yaml_and_json_and_export_as_json(store, tmp_path):
    yaml_doc = tmp_path / "org.yaml"
    yaml_doc.write_text("org: {id: o1, name: Org, founded: 2026-05-15, renewal: 2026-05-15T09:00:00Z}\n")
    json_doc = tmp_path / "org.json"
    json_doc.write_text('{"org": {"id": "o1", "name": "Org", "founded": "2026-05-15", "renewal": "2026-05-15T09:00:00Z"}}')
    first = store.import_org(str(yaml_doc))
    assert store.import_org(str(json_doc)).skipped
    result = run_cli("org", "export", "o1", "--format", "json", repo=store.path)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["org"]["founded"] == "2026-05-15"
    assert first.tree == store.import_org(str(json_doc)).tree


def test_a_stale_ref_lock_is_named_and_nothing_moves(acme_repo, tmp_path):
    lock = acme_repo / "refs" / "heads" / "orgs" / f"{ACME_ID}.lock"
    lock.write_text("")
    before = all_refs(acme_repo)
    doc = json.loads((FIXTURES / "acme.json").read_text())
    doc["org"]["name"] = "Acme Renamed"
    (tmp_path / "renamed.json").write_text(json.dumps(doc))
    result = run_cli("org", "import", str(tmp_path / "renamed.json"), repo=acme_repo)
    assert result.exit_code == 4
    assert f"remove {lock}" in result.stderr and len(result.stderr.splitlines()) == 1
    assert all_refs(acme_repo) == before

