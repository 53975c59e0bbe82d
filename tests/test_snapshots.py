"""Org snapshots: create, list, show, delete, against real git (tags, trailers, clone, packed refs)."""

from __future__ import annotations

import json
import re

import pytest

from gitsnap import InvalidInput, NotFound, Store
from tests.conftest import ACME_ID, ALEX_ID, FIXTURES, all_objects, all_refs, fsck, git, run_cli

LIVE = f"refs/heads/orgs/{ACME_ID}"
PREFIX = f"refs/tags/snapshots/{ACME_ID}"
OTHER_ORG = "66aa00000000000000000001"
OTHER_USER = "66aa000000000000000000ff"
NAME = "Production baseline 2026-05"
DESCRIPTION = "Reference Acme Corp configuration for new-tenant onboarding."
T1, T1_ISO = "1778835600 +0000", "2026-05-15T09:00:00.000Z"
T2 = "1778839200 +0000"
T3 = "1778842800 +0000"
ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
SNAPSHOT_KEYS = {"_id", "name", "description", "sourceOrgId", "sourceOrgName", "sourceUserId", "sourceUserEmail",
                 "sourceUserName", "counts", "createdByName", "createdAt", "updatedAt", "commit", "tag"}
TRAILER_KEYS = ["Snapshot-Id", "Source-Org", "Source-Org-Name", "Source-User", "Source-User-Name",
                "Source-User-Email", "Counts", "Created-At"]


@pytest.fixture
def api(acme_repo) -> Store:
    return Store(acme_repo)


def cli(repo, *args, **kwargs):
    return run_cli(*args, repo=repo, **kwargs)


def create(api: Store, name: str = NAME, description: str = DESCRIPTION, **kwargs):
    return api.create_snapshot(ACME_ID, ALEX_ID, name, description, **kwargs).snapshot


def tag_message(repo, ref: str) -> str:
    """The message of an annotated tag, as git stores it (after the header and a blank line)."""
    return git(repo, "cat-file", "tag", ref).split("\n\n", 1)[1]


def trailers(repo, ref: str) -> list[tuple[str, str]]:
    parsed = git(repo, "interpret-trailers", "--parse", input=tag_message(repo, ref).encode())
    return [tuple(line.split(": ", 1)) for line in parsed.splitlines()]


def other_org_doc(tmp_path, name: str = "Initech") -> str:
    path = tmp_path / f"other-{name.replace(chr(10), '_')}.json"
    path.write_text(json.dumps({"org": {"id": OTHER_ORG, "name": name},
                                "users": [{"id": OTHER_USER, "name": "Bill Lumbergh", "email": "bill@initech.example"}],
                                "pipelines": [{"id": "p1", "name": "Sales"}]}))
    return str(path)


# --- create -------------------------------------------------------------------------------------------


def test_create_tags_the_live_tip_with_an_annotated_tag(acme_repo, api):
    snapshot = create(api)
    ref = f"{PREFIX}/{snapshot.id}"
    assert git(acme_repo, "cat-file", "-t", ref).strip() == "tag"
    assert git(acme_repo, "rev-parse", f"{ref}^{{commit}}") == git(acme_repo, "rev-parse", LIVE)
    assert f"tag snapshots/{ACME_ID}/{snapshot.id}\n" in git(acme_repo, "cat-file", "tag", ref)
    assert (snapshot.tag, snapshot.commit) == (git(acme_repo, "rev-parse", ref).strip(), git(acme_repo, "rev-parse", LIVE).strip())
    fsck(acme_repo)


def test_create_writes_one_tag_object_and_one_ref(acme_repo, api):
    refs, objects = all_refs(acme_repo), all_objects(acme_repo)
    snapshot = create(api)
    assert all_objects(acme_repo) - objects == {snapshot.tag}
    assert all_refs(acme_repo) == {**refs, f"{PREFIX}/{snapshot.id}": snapshot.tag}


def test_tag_message_is_name_description_and_trailers_git_parses(acme_repo, api):
    snapshot = create(api)
    ref = f"{PREFIX}/{snapshot.id}"
    message = tag_message(acme_repo, ref)
    assert message.startswith(f"{NAME}\n\n{DESCRIPTION}\n\nSnapshot-Id: {snapshot.id}\n")
    assert [key for key, _ in trailers(acme_repo, ref)] == TRAILER_KEYS
    assert dict(trailers(acme_repo, ref)) == {
        "Snapshot-Id": snapshot.id, "Source-Org": ACME_ID, "Source-Org-Name": "Acme Corp", "Source-User": ALEX_ID,
        "Source-User-Name": "Alex Rep", "Source-User-Email": "alex@acme.example",
        "Counts": "pipelines=3 automations=12 prompts=20 templates=30", "Created-At": snapshot.created_at}
    assert git(acme_repo, "for-each-ref", "--format=%(contents:subject)", PREFIX).strip() == NAME


def test_without_description_the_trailers_follow_the_name(acme_repo, api):
    snapshot = create(api, description="")
    assert tag_message(acme_repo, f"{PREFIX}/{snapshot.id}").startswith(f"{NAME}\n\nSnapshot-Id: ")
    assert snapshot.description == ""


def test_create_json_has_every_platform_key(acme_repo):
    result = cli(acme_repo, "snapshot", "create", "--org", ACME_ID, "--user", ALEX_ID, "--name", NAME,
                 "--description", DESCRIPTION, "--json")
    assert result.exit_code == 0, result.stderr
    assert set(result.json) == {"message", "snapshot"} and result.json["message"] == "Snapshot created"
    snapshot = result.json["snapshot"]
    assert set(snapshot) == SNAPSHOT_KEYS
    assert set(snapshot["counts"]) == {"pipelines", "automations", "prompts", "templates"}
    assert ISO.fullmatch(snapshot["createdAt"]) and snapshot["updatedAt"] == snapshot["createdAt"]
    assert (snapshot["name"], snapshot["description"], snapshot["sourceOrgId"], snapshot["sourceOrgName"]) == \
        (NAME, DESCRIPTION, ACME_ID, "Acme Corp")
    assert (snapshot["sourceUserId"], snapshot["sourceUserName"], snapshot["sourceUserEmail"]) == \
        (ALEX_ID, "Alex Rep", "alex@acme.example")
    assert snapshot["createdByName"] == "Pat Superadmin"  # the tagger: GIT_COMMITTER_NAME, not --user
    assert snapshot["commit"] == git(acme_repo, "rev-parse", LIVE).strip()
    assert snapshot["tag"] == git(acme_repo, "rev-parse", f"{PREFIX}/{snapshot['_id']}").strip()


def test_counts_equal_the_entities_in_the_tree(acme_repo, api):
    snapshot = create(api)
    for collection in ("pipelines", "automations", "prompts", "templates"):
        entries = git(acme_repo, "ls-tree", "--name-only", f"{snapshot.commit}:{collection}").split()
        assert getattr(snapshot.counts, collection) == len(entries)


def test_id_is_the_tagger_time_then_random_bytes(acme_repo, api, monkeypatch):
    monkeypatch.setenv("GIT_COMMITTER_DATE", T1)
    first, second = create(api), create(api)
    assert first.id[:8] == second.id[:8] == f"{1778835600:08x}"
    assert first.id != second.id and re.fullmatch(r"[0-9a-f]{24}", first.id)
    assert first.created_at == T1_ISO
    assert git(acme_repo, "for-each-ref", "--format=%(taggerdate:unix)", f"{PREFIX}/{first.id}").strip() == "1778835600"


def test_multi_line_description_and_stripped_name_round_trip(api):
    description = "Line one.\n\n- a bullet\n  indented: yes\n\nKey: not a trailer"
    snapshot = create(api, name="  Spaced name  ", description=description)
    shown = api.show_snapshot(snapshot.id).snapshot
    assert (shown.name, shown.description) == ("Spaced name", description)
    assert shown.source_user_email == "alex@acme.example"


def test_a_description_with_a_dash_line_reads_back_and_plain_git_needs_no_divider(acme_repo, api):
    description = "Changes:\n---\n- tours on Sundays"
    snapshot = create(api, description=description)
    assert api.show_snapshot(snapshot.id).snapshot.description == description
    message = tag_message(acme_repo, f"{PREFIX}/{snapshot.id}")
    # git treats a "---" line as the start of a patch unless told otherwise
    assert "Snapshot-Id" not in git(acme_repo, "interpret-trailers", "--parse", input=message.encode())
    parsed = git(acme_repo, "interpret-trailers", "--parse", "--no-divider", input=message.encode())
    assert [line.split(": ")[0] for line in parsed.splitlines()] == TRAILER_KEYS


def test_a_line_break_in_an_org_name_reads_back_exactly_from_its_encoded_trailer(repo, tmp_path):
    api = Store(repo)
    api.import_org(other_org_doc(tmp_path, name="Initech\nWest"))
    snapshot = api.create_snapshot(OTHER_ORG, OTHER_USER, "Baseline").snapshot
    assert snapshot.source_org_name == "Initech\nWest"
    assert api.show_snapshot(snapshot.id).snapshot.source_org_name == "Initech\nWest"
    assert dict(trailers(repo, f"refs/tags/snapshots/{OTHER_ORG}/{snapshot.id}"))["Source-Org-Name"] == '"Initech\\nWest"'
    fsck(repo)


def test_name_of_120_and_description_of_500_characters_are_accepted(api):
    snapshot = create(api, name="n" * 120, description="d" * 500)
    assert (len(snapshot.name), len(snapshot.description)) == (120, 500)


# --- create --from ------------------------------------------------------------------------------------


def test_from_imports_then_tags_the_imported_commit(acme_repo, acme_dir):
    tip = git(acme_repo, "rev-parse", LIVE).strip()
    removed = sorted((acme_dir / "templates").iterdir())[0]
    removed.unlink()
    result = cli(acme_repo, "snapshot", "create", "--org", ACME_ID, "--user", ALEX_ID, "--name", "Nightly",
                 "--from", str(acme_dir), "--json")
    assert result.exit_code == 0, result.stderr
    snapshot = result.json["snapshot"]
    new_tip = git(acme_repo, "rev-parse", LIVE).strip()
    assert git(acme_repo, "rev-parse", f"{LIVE}^").strip() == tip
    assert snapshot["commit"] == new_tip and snapshot["counts"]["templates"] == 29
    assert git(acme_repo, "log", "-1", "--format=%an", LIVE).strip() == "Alex Rep"
    fsck(acme_repo)


def test_from_an_unchanged_source_adds_no_commit_and_tags_the_tip(acme_repo, api):
    tip = git(acme_repo, "rev-parse", LIVE).strip()
    result = api.create_snapshot(ACME_ID, ALEX_ID, "Again", source=str(FIXTURES / "acme"))
    assert result.imported.skipped
    assert git(acme_repo, "rev-parse", LIVE).strip() == tip == result.snapshot.commit


def test_from_creates_a_new_org(repo):
    result = cli(repo, "snapshot", "create", "--org", ACME_ID, "--user", ALEX_ID, "--name", "First",
                 "--from", str(FIXTURES / "acme.json"))
    assert result.exit_code == 0, result.stderr
    assert "Imported Acme Corp" in result.stdout and "Created snapshot" in result.stdout
    assert git(repo, "rev-list", "--count", LIVE).strip() == "1"
    assert len([ref for ref in all_refs(repo) if ref.startswith(PREFIX)]) == 1


def test_from_with_a_user_not_in_the_source_leaves_no_import_commit(acme_repo, acme_dir):
    (acme_dir / "templates" / "6503e1110000000000000001.yaml").unlink()
    refs = all_refs(acme_repo)
    result = cli(acme_repo, "snapshot", "create", "--org", ACME_ID, "--user", OTHER_USER, "--name", "Nightly",
                 "--from", str(acme_dir))
    assert result.exit_code == 3
    assert result.stderr == f"gitsnap: user {OTHER_USER} is not a member of org {ACME_ID}\n"
    assert all_refs(acme_repo) == refs


def test_from_with_a_bad_name_leaves_no_import_commit(acme_repo, acme_dir):
    (acme_dir / "templates" / "6503e1110000000000000001.yaml").unlink()
    refs = all_refs(acme_repo)
    result = cli(acme_repo, "snapshot", "create", "--org", ACME_ID, "--user", ALEX_ID, "--name", "x" * 121,
                 "--from", str(acme_dir))
    assert result.exit_code == 2
    assert all_refs(acme_repo) == refs


def test_from_a_source_of_another_org_is_rejected(acme_repo, tmp_path):
    refs = all_refs(acme_repo)
    result = cli(acme_repo, "snapshot", "create", "--org", ACME_ID, "--user", ALEX_ID, "--name", "x",
                 "--from", other_org_doc(tmp_path))
    assert result.exit_code == 2
    assert f"holds org {OTHER_ORG}, not {ACME_ID}" in result.stderr
    assert all_refs(acme_repo) == refs


# --- bad input ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("args, message", [
    (["--name", ""], "snapshot name is empty"),
    (["--name", "   "], "snapshot name is empty"),
    (["--name", "x" * 121], "snapshot name is 121 characters long; at most 120 are allowed"),
    (["--name", "two\nlines"], "snapshot name 'two\\nlines' must be one line"),
    (["--name", "ok", "--description", "d" * 501], "snapshot description is 501 characters long; at most 500"),
    (["--name", "ok", "--org", "../x"], "org '../x' is not a valid identifier"),
    (["--name", "ok", "--user", "a b"], "user 'a b' is not a valid identifier"),
])
def test_bad_input_exits_2_with_one_line_and_changes_no_ref(acme_repo, args, message):
    refs = all_refs(acme_repo)
    result = cli(acme_repo, "snapshot", "create", "--org", ACME_ID, "--user", ALEX_ID, *args)
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
    assert all_refs(acme_repo) == refs


def test_unknown_org_is_not_found(acme_repo):
    refs = all_refs(acme_repo)
    result = cli(acme_repo, "snapshot", "create", "--org", OTHER_ORG, "--user", ALEX_ID, "--name", "x", "--json")
    assert result.exit_code == 3
    assert result.json["error"] == "Org not found" and f"org {OTHER_ORG} not found" in result.json["details"]
    assert all_refs(acme_repo) == refs


def test_unknown_user_is_not_found_naming_user_and_org(acme_repo):
    refs = all_refs(acme_repo)
    result = cli(acme_repo, "snapshot", "create", "--org", ACME_ID, "--user", OTHER_USER, "--name", "x", "--json")
    assert result.exit_code == 3
    assert result.json == {"error": "User not found", "details": f"user {OTHER_USER} is not a member of org {ACME_ID}"}
    assert all_refs(acme_repo) == refs


@pytest.mark.parametrize("command", [["show"], ["delete"], ["apply", "--to-org", "neworg", "--to-name", "New"]])
def test_unknown_snapshot_is_not_found(acme_repo, api, command):
    create(api)
    refs = all_refs(acme_repo)
    result = cli(acme_repo, "snapshot", command[0], "0123456789abcdef01234567", *command[1:], "--json")
    assert result.exit_code == 3
    assert result.json["error"] == "Snapshot not found" and "0123456789abcdef01234567" in result.json["details"]
    assert all_refs(acme_repo) == refs


@pytest.mark.parametrize("bad_id", ["nothex", "0123456789abcdef0123456", "0123456789abcdef012345678", "g" * 24])
def test_a_malformed_snapshot_id_is_invalid_input(api, bad_id):
    with pytest.raises(InvalidInput) as error:
        api.show_snapshot(bad_id)
    assert "is not a snapshot id (24 hex digits" in str(error.value)


def test_a_malformed_snapshot_id_exits_2_on_the_command_line(acme_repo):
    result = cli(acme_repo, "snapshot", "delete", "x/../y")
    assert result.exit_code == 2
    assert result.stderr == "gitsnap: 'x/../y' is not a snapshot id (24 hex digits, as gitsnap snapshot list shows)\n"


# --- list, show, delete -------------------------------------------------------------------------------


def test_list_is_newest_first_and_filters_by_org(acme_repo, api, tmp_path, monkeypatch):
    api.import_org(other_org_doc(tmp_path))
    made = {}
    for when, org, user in [(T1, ACME_ID, ALEX_ID), (T3, ACME_ID, ALEX_ID), (T2, OTHER_ORG, OTHER_USER)]:
        monkeypatch.setenv("GIT_COMMITTER_DATE", when)
        made[when] = api.create_snapshot(org, user, f"at {when}").snapshot.id
    result = cli(acme_repo, "snapshot", "list", "--json").json
    assert set(result) == {"snapshots"}
    assert [s["_id"] for s in result["snapshots"]] == [made[T3], made[T2], made[T1]]
    assert all(set(s) == SNAPSHOT_KEYS for s in result["snapshots"])
    assert [s.id for s in api.list_snapshots(ACME_ID).snapshots] == [made[T3], made[T1]]
    assert [s.id for s in api.list_snapshots(OTHER_ORG).snapshots] == [made[T2]]


def test_list_human_output_shows_id_name_org_counts_and_creator(acme_repo, api):
    snapshot = create(api)
    lines = cli(acme_repo, "snapshot", "list").stdout.splitlines()
    assert lines[0].split() == ["ID", "NAME", "ORG", "P/A/PR/T", "CREATED", "BY", "CREATED"]
    assert lines[1].split() == [snapshot.id, *NAME.split(), ACME_ID, "3/12/20/30", "Pat", "Superadmin", snapshot.created_at]


def test_list_of_a_known_org_without_snapshots_is_empty_and_of_an_unknown_org_not_found(api):
    assert api.list_snapshots(ACME_ID).snapshots == []
    with pytest.raises(NotFound, match=f"org {OTHER_ORG} not found"):
        api.list_snapshots(OTHER_ORG)


def test_list_skips_refs_that_are_not_snapshot_shaped(acme_repo, api):
    snapshot = create(api)
    git(acme_repo, "tag", "snapshots/readme", LIVE)
    git(acme_repo, "tag", f"snapshots/{ACME_ID}/not-an-id", LIVE)
    assert [s.id for s in api.list_snapshots().snapshots] == [snapshot.id]
    assert api.show_snapshot(snapshot.id).snapshot == snapshot  # the lookup by id steps over them too


def test_show_returns_what_create_returned(acme_repo, api):
    snapshot = create(api)
    result = cli(acme_repo, "snapshot", "show", snapshot.id.upper(), "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json == {"snapshot": snapshot.to_json()}


def test_show_human_output(acme_repo, api):
    snapshot = create(api)
    out = cli(acme_repo, "snapshot", "show", snapshot.id).stdout
    assert out.startswith(f"snapshot {snapshot.id}  {NAME}\n  org      Acme Corp ({ACME_ID})\n")
    assert "  user     Alex Rep <alex@acme.example>" in out and out.rstrip().endswith(DESCRIPTION)


def test_delete_removes_the_ref_and_returns_the_snapshot(acme_repo, api):
    snapshot, kept = create(api), create(api, name="Kept")
    result = cli(acme_repo, "snapshot", "delete", snapshot.id, "--json")
    assert result.exit_code == 0, result.stderr
    assert result.json == {"message": "Snapshot deleted", "snapshot": snapshot.to_json()}
    assert f"{PREFIX}/{snapshot.id}" not in all_refs(acme_repo)
    assert [s.id for s in api.list_snapshots().snapshots] == [kept.id]
    assert cli(acme_repo, "snapshot", "show", snapshot.id).exit_code == 3
    fsck(acme_repo)


def test_show_list_and_delete_work_on_refs_packed_by_git(acme_repo, api):
    first, second = create(api, name="First"), create(api, name="Second")
    git(acme_repo, "pack-refs", "--all", "--prune")
    assert not (acme_repo / "refs" / "tags" / "snapshots" / ACME_ID).exists()
    assert api.show_snapshot(first.id).snapshot == first
    assert {s.id for s in api.list_snapshots(ACME_ID).snapshots} == {first.id, second.id}
    api.delete_snapshot(first.id)
    assert [s.id for s in Store(acme_repo).list_snapshots().snapshots] == [second.id]
    assert f"{PREFIX}/{first.id}" not in all_refs(acme_repo)
    third = create(api, name="Third")
    assert {s.id for s in Store(acme_repo).list_snapshots().snapshots} == {second.id, third.id}
    fsck(acme_repo)


def test_clone_brings_live_branches_and_snapshot_tags(acme_repo, api, tmp_path):
    snapshot = create(api)
    copy = tmp_path / "clone.git"
    git(acme_repo, "clone", "--bare", "-q", str(acme_repo), str(copy))
    refs = all_refs(copy)
    assert refs[LIVE] == all_refs(acme_repo)[LIVE]
    assert refs[f"{PREFIX}/{snapshot.id}"] == snapshot.tag
    fsck(copy)
    assert Store(copy).show_snapshot(snapshot.id).snapshot == snapshot
