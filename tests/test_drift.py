"""gitsnap org diff: the drift from an org's live state to what the platform exports now; nothing written."""

from __future__ import annotations

import json
import shutil

import pytest

from gitsnap import InvalidInput, NotFound, Store
from gitsnap.gitobjects import Objects
from gitsnap.layout import entity_path
from tests.conftest import ACME_ID, FIXTURES, all_refs, run_cli

PIPELINE = "6501c0de5a1e000000000001"


@pytest.fixture
def platform(acme_dir):
    """The platform's export now: a directory that starts equal to the live state."""
    return acme_dir


def test_no_drift_is_exit_0_with_exit_code(acme_repo, platform):
    result = run_cli("org", "diff", ACME_ID, str(platform), "--exit-code", repo=acme_repo)
    assert result.exit_code == 0 and "No differences" in result.stdout


def test_drift_in_each_direction_is_named_and_exit_1(acme_repo, platform):
    (platform / "pipelines" / "6501c0de5a1e0000000000ff.yaml").write_text("id: 6501c0de5a1e0000000000ff\nname: New\n")
    orphan = next((platform / "templates").iterdir())
    orphan.unlink()
    changed = platform / "pipelines" / f"{PIPELINE}.yaml"
    changed.write_text(changed.read_text().replace("Leasing inquiries", "Leasing leads"))
    refs = all_refs(acme_repo)
    result = run_cli("--json", "org", "diff", ACME_ID, str(platform), "--exit-code", repo=acme_repo)
    assert result.exit_code == 1 and all_refs(acme_repo) == refs
    diff = result.json
    assert diff["to"]["kind"] == "source" and diff["to"]["commit"] is None and diff["from"]["kind"] == "org"
    pipelines = diff["collections"]["pipelines"]
    assert [e["id"] for e in pipelines["added"]] == ["6501c0de5a1e0000000000ff"]
    assert pipelines["changed"][0]["fields"] == [{"path": "name", "change": "changed", "old": "Leasing inquiries",
                                                  "new": "Leasing leads"}]
    assert [e["id"] for e in diff["collections"]["templates"]["removed"]] == [orphan.stem]
    without = run_cli("org", "diff", ACME_ID, str(platform), repo=acme_repo)
    assert without.exit_code == 0 and "pipelines: 1 added, 0 removed, 1 changed" in without.stdout


def test_a_document_on_stdin_is_compared(acme_repo):
    document = json.loads((FIXTURES / "acme.json").read_text())
    document["org"]["plan"] = "gold"
    result = run_cli("--json", "org", "diff", ACME_ID, "-", repo=acme_repo, input=json.dumps(document))
    assert result.exit_code == 0 and result.json["org"] == [{"path": "plan", "change": "changed",
                                                              "old": "enterprise", "new": "gold"}]


def test_a_bad_source_gets_the_imports_errors(acme_repo, platform):
    bad = platform / "prompts" / "65f9b1c2e8a1d4e001a0b1c4.yaml"
    bad.write_text("id: 65f9b1c2e8a1d4e001a0b1c4\ntitle: no body\n")
    result = run_cli("org", "diff", ACME_ID, str(platform), "--exit-code", repo=acme_repo)
    assert result.exit_code == 2 and f"{bad}: body: required field is missing" in result.stderr


def test_a_source_of_another_org_or_an_unknown_org_is_refused(acme_repo, platform, tmp_path):
    with pytest.raises(NotFound):
        Store(acme_repo).org_diff("other", str(platform))
    moved = tmp_path / "other"
    shutil.copytree(platform, moved)
    (moved / "org.yaml").write_text((moved / "org.yaml").read_text().replace(ACME_ID, "someone"))
    with pytest.raises(InvalidInput, match=f"holds org someone, not {ACME_ID}"):
        Store(acme_repo).org_diff(ACME_ID, str(moved))


@pytest.fixture
def blobs_read(monkeypatch):
    """Every blob id read from any repository's objects during the test."""
    read = []
    real_read = Objects.read_blob
    monkeypatch.setattr(Objects, "read_blob", lambda self, sha: read.append(sha) or real_read(self, sha))
    return read


def test_an_unchanged_org_compares_blob_ids_and_parses_no_entity(acme_repo, platform, monkeypatch, blobs_read):
    from gitsnap import sources

    parsed = []
    real_read = sources.read_document
    monkeypatch.setattr(sources, "read_document", lambda data, name, *rest, **options: parsed.append(name) or real_read(data, name, *rest, **options))
    assert Store(acme_repo).org_diff(ACME_ID, str(platform)).empty
    entities = [name for name in parsed if "/stubs/" not in name and not name.endswith("org.yaml")]
    assert entities == [] and blobs_read == []  # org.yaml says which org; stubs are read whole


def test_one_changed_file_reads_only_its_live_version(acme_repo, platform, blobs_read):
    changed = platform / entity_path("pipelines", PIPELINE)
    changed.write_text(changed.read_text().replace("Leasing inquiries", "Leasing leads"))
    diff = Store(acme_repo).org_diff(ACME_ID, str(platform))
    assert [e.id for e in diff.collections["pipelines"].changed] == [PIPELINE]
    live = Store(acme_repo).git.trees.lookup(Store(acme_repo).git.objects.read_commit(
        Store(acme_repo).git.refs.read(f"refs/heads/orgs/{ACME_ID}")).tree, entity_path("pipelines", PIPELINE))[1]
    assert live in blobs_read and len(set(blobs_read)) == 2  # the live version, and the new one built in memory
