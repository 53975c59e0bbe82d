"""Text that reaches git's formats: one-line fields refuse every line break and control character,
data in trailers reads back exactly, people and dates are what git accepts; git fsck stays clean."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitsnap import InvalidInput, Store
from gitsnap.gitmessage import decode_trailer, encode_trailer, format_message, parse_trailers, split_message
from tests.conftest import ACME_ID, ALEX_ID, FIXTURES, LEASING_PROMPT_ID, all_refs, fsck, git, run_cli

# Every control character (C0 but tab, DEL, C1) and the Unicode line and paragraph separators.
BREAKING = [chr(c) for c in range(0x20) if c != 0x09] + [chr(0x7F)] + [chr(c) for c in range(0x80, 0xA0)] + [
    "\u2028", "\u2029"]


def org_document(tmp_path, org_name="Initech", user_name="Ivy Initech", user_email="ivy@initech.example"):
    path = tmp_path / "initech.json"
    path.write_text(json.dumps({"org": {"id": "org1", "name": org_name},
                                "users": [{"id": "u1", "name": user_name, "email": user_email}],
                                "prompts": [{"id": "p1", "body": "Hello"}]}, ensure_ascii=False))
    return str(path)


@pytest.fixture
def api(acme_repo):
    with Store(acme_repo) as store:
        yield store


# --- one-line fields are refused, nothing written ------------------------------------------------------


@pytest.mark.parametrize("field", ["label", "title", "display_version"])
def test_a_prompt_version_one_line_field_refuses_every_breaking_character(api, acme_repo, field):
    refs = all_refs(acme_repo)
    for character in BREAKING:
        with pytest.raises(InvalidInput, match="must be one line"):
            api.create_prompt_version(LEASING_PROMPT_ID, text="new text", **{field: f"a{character}b"})
    assert all_refs(acme_repo) == refs


def test_a_tab_is_fine_in_a_one_line_field(api):
    result = api.create_prompt_version(LEASING_PROMPT_ID, text="tabbed", label="a\tb", title="t\tt")
    shown = api.show_prompt_version(LEASING_PROMPT_ID, result.version)
    assert (shown.label, shown.title) == ("a\tb", "t\tt")


def test_a_snapshot_name_refuses_every_breaking_character(api, acme_repo):
    refs = all_refs(acme_repo)
    for character in BREAKING:
        with pytest.raises(InvalidInput, match="snapshot name .* must be one line"):
            api.create_snapshot(ACME_ID, ALEX_ID, f"Base{character}line")
    assert all_refs(acme_repo) == refs


def test_an_import_message_and_an_applied_org_name_refuse_a_line_separator(api, acme_repo):
    refs = all_refs(acme_repo)
    with pytest.raises(InvalidInput, match="commit message"):
        api.import_org(str(FIXTURES / "acme.json"), message="Import\u2028Source-Org: victim")
    snapshot = api.create_snapshot(ACME_ID, ALEX_ID, "Base").snapshot
    refs = all_refs(acme_repo)
    with pytest.raises(InvalidInput, match="org name"):
        api.apply_snapshot(snapshot.id, "neworg", "New\x85Org")
    assert all_refs(acme_repo) == refs


# --- free text and data read back exactly ------------------------------------------------------------


def test_descriptions_keep_every_character_but_nul(api, acme_repo):
    for number, character in enumerate(c for c in BREAKING if c != "\0"):
        description = f"first{character}second\n\nThird: paragraph"
        version = api.create_prompt_version(LEASING_PROMPT_ID, text=f"text {number}", description=description)
        assert api.show_prompt_version(LEASING_PROMPT_ID, version.version).description == description
        snapshot = api.create_snapshot(ACME_ID, ALEX_ID, f"n{number}", description).snapshot
        assert api.show_snapshot(snapshot.id).snapshot.description == description
    with pytest.raises(InvalidInput, match="NUL"):
        api.create_snapshot(ACME_ID, ALEX_ID, "nul", "a\0b")
    assert [entry.version for entry in api.list_prompt_versions(LEASING_PROMPT_ID).versions][-1] == 1
    fsck(acme_repo)
    assert api.verify().ok


def test_an_org_and_user_name_with_any_character_read_back_exactly_from_snapshots(repo, tmp_path):
    api = Store(repo)
    for character in BREAKING:
        org_name = f"Initech{character}Source-Org: victim"
        user_name = f"Ivy{character}"
        api.import_org(org_document(tmp_path, org_name, user_name))
        snapshot = api.create_snapshot("org1", "u1", "Baseline").snapshot
        assert (snapshot.source_org_name, snapshot.source_user_name) == (org_name, user_name)
        assert snapshot.source_org_id == "org1"
    listed = api.list_snapshots().snapshots
    assert {s.source_org_name for s in listed} == {f"Initech{c}Source-Org: victim" for c in BREAKING}
    assert {s.source_org_id for s in listed} == {"org1"}
    assert api.list_orgs().orgs[0].name == f"Initech{BREAKING[-1]}Source-Org: victim"
    fsck(repo)
    assert api.verify().ok


def test_a_user_who_cannot_be_a_commit_author_is_refused_naming_the_field(repo, tmp_path):
    api = Store(repo)
    for name, email in [("Ivy\nEvil <x@y>", "ivy@x"), ("Ivy <root>", "ivy@x"), ("Ivy", "ivy>@x"),
                        ("Ivy\u2028", "ivy@x"), ("Ivy", "ivy@x\0")]:
        with pytest.raises(InvalidInput, match="user u1 (name|email)"):
            api.import_org(org_document(tmp_path, user_name=name, user_email=email), user_id="u1")
    assert all_refs(repo) == {}


def test_an_author_name_reads_back_exactly_in_git_log(repo, tmp_path):
    api = Store(repo)
    api.import_org(org_document(tmp_path, user_name="  Ivy  O'Neil ", user_email="ivy@initech.example"), user_id="u1")
    # git's %an trims the blank before the email; the header holds it and gitsnap reads it back
    assert git(repo, "log", "-1", "--format=%an|%ae", "refs/heads/orgs/org1") == "  Ivy  O'Neil|ivy@initech.example\n"
    assert api.org_log("org1").commits[0].author_name == "  Ivy  O'Neil "
    fsck(repo)


# --- identities and dates from the environment ---------------------------------------------------------


@pytest.mark.parametrize("variable, value, message", [
    ("GIT_COMMITTER_NAME", "Pat\nEvil", "GIT_COMMITTER_NAME 'Pat\\nEvil' must be one line"),
    ("GIT_COMMITTER_EMAIL", "pat<@x", "email 'pat<@x' must not contain < or >"),
    ("GIT_COMMITTER_DATE", "@99999999999999", "out of range"),
    ("GIT_COMMITTER_DATE", "1700000000 +9999", "minutes must be below 60"),
    ("GIT_COMMITTER_DATE", "1700000000 +2400", "time zone offset"),
    ("GIT_COMMITTER_DATE", "1800-01-01T00:00:00Z", "out of range"),
    ("GIT_COMMITTER_DATE", "yesterday", "is not a date"),
    ("GIT_AUTHOR_DATE", "\u0661\u0662", "is not a date"),
])
def test_a_bad_identity_or_date_in_the_environment_is_exit_2_and_changes_nothing(acme_repo, variable, value, message):
    refs = all_refs(acme_repo)
    result = run_cli("prompt", "version", "create", LEASING_PROMPT_ID, "--text", "x", repo=acme_repo,
                     env={variable: value})
    assert result.exit_code == 2, result.stderr
    assert message in result.stderr and len(result.stderr.splitlines()) == 1
    assert all_refs(acme_repo) == refs


@pytest.mark.parametrize("date, shown", [
    ("@253402300799 +2359", "9999-12-31T23:59:59.000Z"),
    ("Thu, 07 Apr 2005 22:13:13 +0200", "2005-04-07T20:13:13.000Z"),
    ("2026-05-15T09:00:00-07:30", "2026-05-15T16:30:00.000Z"),
])
def test_dates_at_the_limits_and_in_git_formats_are_written_and_read_back(acme_repo, date, shown):
    result = run_cli("--json", "prompt", "version", "create", LEASING_PROMPT_ID, "--text", "x", repo=acme_repo,
                     env={"GIT_COMMITTER_DATE": date})
    assert result.exit_code == 0, result.stderr
    assert result.json["versionSnapshot"]["createdAt"] == shown
    listed = run_cli("--json", "prompt", "version", "list", LEASING_PROMPT_ID, repo=acme_repo)
    assert listed.json["versions"][0]["createdAt"] == shown
    fsck(acme_repo)


def test_a_commit_git_wrote_with_a_date_past_9999_is_listed(acme_repo):
    live = f"refs/heads/orgs/{ACME_ID}"
    tree, parent = (git(acme_repo, "rev-parse", rev).strip() for rev in (f"{live}^{{tree}}", live))
    raw = (f"tree {tree}\nparent {parent}\nauthor X <x@y> 99999999999999 +0000\n"
           f"committer X <x@y> 99999999999999 +0000\n\nfar\n")
    commit = git(acme_repo, "hash-object", "-t", "commit", "-w", "--stdin", input=raw.encode()).strip()
    git(acme_repo, "update-ref", live, commit)
    fsck(acme_repo)  # git itself accepts the date
    result = run_cli("--json", "org", "list", repo=acme_repo)
    assert result.exit_code == 0, result.stderr
    assert result.json["orgs"][0]["updatedAt"] == "9999-12-31T23:59:59.999Z"


# --- the message format itself ------------------------------------------------------------------------


@settings(max_examples=300)
@given(st.text())
def test_every_trailer_value_round_trips(value):
    assert decode_trailer(encode_trailer(value)) == value
    message = format_message("Subject", "", [("Key", value), ("Other", "plain")])
    assert parse_trailers(message) == {"Key": [value], "Other": ["plain"]}
    assert "\0" not in message and message.count("\n") == 4


@settings(max_examples=200)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\0")))
def test_a_body_round_trips_between_its_subject_and_trailers(body):
    message = format_message("Subject", body, [("Key", "v")])
    expected = body.strip(" \t\r\n")
    assert split_message(message) == ("Subject", expected, {"Key": ["v"]})


def test_git_reads_exactly_the_trailers_gitsnap_wrote(repo):
    message = format_message("S", "body\u2028Fake: header", [("Name", "a\u2028Fake: x"), ("Other", '"quoted"')])
    parsed = git(repo, "interpret-trailers", "--parse", input=message.encode())
    assert parsed == 'Name: "a\\u2028Fake: x"\nOther: "\\"quoted\\""\n'
