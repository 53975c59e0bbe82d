"""Prompt version checkpoints through the Python API, checked against the real git CLI."""

from __future__ import annotations

import json

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitsnap import InvalidInput, NotFound, Store
from tests.conftest import ACME_ID, FIXTURES, LEASING_PROMPT_ID, all_objects, all_refs, fsck, git

PROMPT = LEASING_PROMPT_ID
REF = f"refs/prompts/{ACME_ID}/{PROMPT}"
LIVE = f"refs/heads/orgs/{ACME_ID}"
T1, T1_ISO = "1778835600 +0000", "2026-05-15T09:00:00.000Z"


@pytest.fixture
def api(acme_repo) -> Store:
    return Store(acme_repo)


def live_prompt(repo) -> dict:
    return yaml.safe_load(git(repo, "show", f"{LIVE}:prompts/{PROMPT}.yaml"))


def version_file(repo, rev: str) -> dict:
    return yaml.safe_load(git(repo, "show", f"{rev}:prompt.yaml"))


def trailers(repo, rev: str) -> list[tuple[str, str]]:
    """A commit's trailers as the real git parses them."""
    message = git(repo, "log", "-1", "--format=%B", rev)
    parsed = git(repo, "interpret-trailers", "--parse", input=message.encode())
    return [tuple(line.split(": ", 1)) for line in parsed.splitlines()]


def import_acme(repo, tmp_path, drop_prompt: bool = False, org_id: str = ACME_ID, body: str | None = None) -> None:
    """Import Acme again (as ``org_id``), without the leasing prompt or with another body for it."""
    document = json.loads((FIXTURES / "acme.json").read_text())
    document["org"]["id"] = org_id
    if drop_prompt:
        document["prompts"] = [p for p in document["prompts"] if p["id"] != PROMPT]
    for prompt in document["prompts"]:
        if prompt["id"] == PROMPT and body is not None:
            prompt["body"] = body
    path = tmp_path / f"acme-{org_id}-{drop_prompt}.json"
    path.write_text(json.dumps(document))
    Store(repo).import_org(str(path))


# --- create -------------------------------------------------------------------------------------------


def test_versions_are_numbered_one_two_three_on_a_linear_history(acme_repo, api):
    results = [api.create_prompt_version(PROMPT, text=f"text {n}") for n in (1, 2, 3)]
    assert [r.version for r in results] == [1, 2, 3]
    assert [r.message for r in results] == ["Version saved"] * 3
    assert git(acme_repo, "rev-list", "--parents", REF).split("\n")[2].split() == [results[0].version_id]
    assert int(git(acme_repo, "rev-list", "--count", REF)) == 3
    assert git(acme_repo, "rev-list", "--merges", REF) == ""
    assert git(acme_repo, "rev-parse", REF).strip() == results[2].version_id
    fsck(acme_repo)


def test_the_version_id_and_snapshot_id_are_the_commit(acme_repo, api):
    result = api.create_prompt_version(PROMPT)
    assert result.version_id == result.version_snapshot.id == git(acme_repo, "rev-parse", REF).strip()


def test_without_text_the_version_takes_the_live_body(acme_repo, api):
    result = api.create_prompt_version(PROMPT)
    assert version_file(acme_repo, REF)["body"] == live_prompt(acme_repo)["body"]
    assert result.version_snapshot.matches_current_prompt is True


def test_the_tree_holds_only_prompt_yaml_with_id_and_body(acme_repo, api):
    api.create_prompt_version(PROMPT)
    assert git(acme_repo, "ls-tree", "--name-only", REF).split() == ["prompt.yaml"]
    assert set(version_file(acme_repo, REF)) == {"id", "body"}
    assert version_file(acme_repo, REF)["id"] == PROMPT


def test_the_same_text_again_is_a_noop_returning_the_latest_version(acme_repo, api):
    first = api.create_prompt_version(PROMPT, label="First")
    refs, objects = all_refs(acme_repo), all_objects(acme_repo)
    again = api.create_prompt_version(PROMPT)
    assert (again.message, again.skipped, again.version, again.version_id) == ("No changes", True, 1, first.version_id)
    assert again.version_snapshot.label == "First"
    assert (all_refs(acme_repo), all_objects(acme_repo)) == (refs, objects)


def test_a_metadata_only_change_is_a_noop(acme_repo, api):
    first = api.create_prompt_version(PROMPT, text="same", label="First", title="One")
    refs = all_refs(acme_repo)
    again = api.create_prompt_version(PROMPT, text="same", label="Second", display_version="v2", title="Two",
                                      description="Other words.", source="ai_apply")
    assert again.skipped and again.version_id == first.version_id
    assert (again.version_snapshot.label, again.version_snapshot.title, again.version_snapshot.source) == \
        ("First", "One", "manual_save")
    assert all_refs(acme_repo) == refs


def test_text_seen_in_an_older_version_makes_a_new_version(api):
    api.create_prompt_version(PROMPT, text="a")
    api.create_prompt_version(PROMPT, text="b")
    assert api.create_prompt_version(PROMPT, text="a").version == 3


@pytest.mark.parametrize("text", ["", "no final newline", "line\n", "trailing  \n\n\n", "\n\nleading blanks",
                                  "crlf\r\nlines\r\n", "tab\tand ü — ✓", "yes", "null", "0x1", " lead\nx"])
def test_the_text_is_stored_exactly(acme_repo, api, text):
    api.create_prompt_version(PROMPT, text=text)
    assert api.show_prompt_version(PROMPT, 1).text == text
    assert version_file(acme_repo, REF)["body"] == text


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text())
def test_any_text_round_trips(api, text):
    result = api.create_prompt_version(PROMPT, text=text)
    assert api.show_prompt_version(PROMPT, result.version).text == text


def test_the_message_has_the_label_description_and_trailers_git_reads(acme_repo, api):
    api.create_prompt_version(PROMPT, label="Pre-launch checkpoint", display_version="v1.4", title="Pre-launch",
                              description="Snapshot before rolling out.\n\nSecond paragraph.", source="checkpoint")
    assert git(acme_repo, "log", "-1", "--format=%s", REF).strip() == "Pre-launch checkpoint"
    assert git(acme_repo, "log", "-1", "--format=%b", REF).startswith("Snapshot before rolling out.\n\nSecond paragraph.\n\n")
    assert trailers(acme_repo, REF) == [("Version", "1"), ("Display-Version", "v1.4"), ("Title", "Pre-launch"),
                                        ("Source", "checkpoint"), ("Prompt-Id", PROMPT), ("Org", ACME_ID)]


def test_without_a_label_the_subject_is_version_n_and_unset_trailers_are_left_out(acme_repo, api):
    api.create_prompt_version(PROMPT, text="a")
    result = api.create_prompt_version(PROMPT, text="b")
    assert git(acme_repo, "log", "-1", "--format=%s", REF).strip() == "Version 2"
    assert [name for name, _ in trailers(acme_repo, REF)] == ["Version", "Source", "Prompt-Id", "Org"]
    snapshot = result.version_snapshot
    assert (snapshot.label, snapshot.display_version, snapshot.title, snapshot.description, snapshot.source) == \
        ("Version 2", None, None, None, "manual_save")


def test_one_line_fields_are_trimmed_and_blank_means_not_given(api):
    snapshot = api.create_prompt_version(PROMPT, label="  Spaced  ", title="   ", description=" \n ").version_snapshot
    assert (snapshot.label, snapshot.title, snapshot.description) == ("Spaced", None, None)


def test_git_log_version_trailers_agree_with_the_list(acme_repo, api):
    for n in range(5):
        api.create_prompt_version(PROMPT, text=f"text {n}", label=f"Label {n}")
    log = git(acme_repo, "log", "--format=%H %(trailers:key=Version,valueonly)", REF).split()
    listed = api.list_prompt_versions(PROMPT).versions
    assert log == [item for v in listed for item in (v.id, str(v.version))]
    assert [v.version for v in listed] == [5, 4, 3, 2, 1]


def test_git_log_reads_the_trailers_under_a_description_with_a_divider_line(acme_repo, api):
    # git interpret-trailers --parse stops at a "---" line (patch divider) unless given --no-divider;
    # git log's %(trailers) reads commit messages whole.
    api.create_prompt_version(PROMPT, description="Intro\n---\nafter")
    assert git(acme_repo, "log", "-1", "--format=%(trailers:key=Version,valueonly)", REF).strip() == "1"
    assert api.show_prompt_version(PROMPT, 1).description == "Intro\n---\nafter"


def test_created_at_is_the_committer_time(api, monkeypatch):
    monkeypatch.setenv("GIT_COMMITTER_DATE", T1)
    assert api.create_prompt_version(PROMPT).version_snapshot.created_at == T1_ISO


def test_the_preview_is_the_first_120_characters_with_an_ellipsis_when_cut(api):
    assert api.create_prompt_version(PROMPT, text="x" * 120).version_snapshot.preview == "x" * 120
    assert api.create_prompt_version(PROMPT, text="y" * 121).version_snapshot.preview == "y" * 120 + "…"


# --- list, show, diff ---------------------------------------------------------------------------------


def test_list_is_newest_first_and_marks_the_versions_matching_the_live_body(api):
    api.create_prompt_version(PROMPT)
    api.create_prompt_version(PROMPT, text="other")
    api.create_prompt_version(PROMPT, text=live_prompt(api.path)["body"])
    listed = api.list_prompt_versions(PROMPT)
    assert (listed.prompt_id, listed.org_id) == (PROMPT, ACME_ID)
    assert [(v.version, v.matches_current_prompt) for v in listed.versions] == [(3, True), (2, False), (1, True)]


def test_list_limit_gives_the_newest_versions(api):
    for n in range(4):
        api.create_prompt_version(PROMPT, text=f"t{n}")
    assert [v.version for v in api.list_prompt_versions(PROMPT, limit=2).versions] == [4, 3]


def test_list_without_previews_reads_no_text(api):
    api.create_prompt_version(PROMPT, text="hello")
    assert api.list_prompt_versions(PROMPT, preview=False).versions[0].preview is None
    assert api.list_prompt_versions(PROMPT).versions[0].preview == "hello"


def test_a_live_prompt_without_versions_lists_none(api):
    assert api.list_prompt_versions(PROMPT).versions == []


def test_versions_read_the_same_after_git_packs_them_with_deltas(acme_repo, api):
    rules = "A long rule that every revision shares.\n" * 30
    for n in range(6):
        api.create_prompt_version(PROMPT, text=f"<prompt>\n{rules}revision {n}\n</prompt>")
    before = api.list_prompt_versions(PROMPT)
    git(acme_repo, "repack", "-a", "-d", "-f", "--depth=50", "--window=50")
    assert git(acme_repo, "count-objects", "-v").split("\n")[0] == "count: 0"  # nothing loose any more
    pack_index = next((acme_repo / "objects" / "pack").glob("*.idx"))
    assert "chain length = 1" in git(acme_repo, "verify-pack", "-v", str(pack_index))  # deltas to resolve
    store = Store(acme_repo)
    assert store.list_prompt_versions(PROMPT) == before
    assert store.show_prompt_version(PROMPT, 2).text.endswith("revision 1\n</prompt>")
    assert store.create_prompt_version(PROMPT, text="after the repack").version == 7


def test_show_finds_version_n_by_walking_back_from_the_tip(acme_repo, api):
    for n in range(1, 6):
        api.create_prompt_version(PROMPT, text=f"text {n}", label=f"Label {n}")
    shown = api.show_prompt_version(PROMPT, 2)
    assert (shown.version, shown.label, shown.text) == (2, "Label 2", "text 2")
    assert shown.id == git(acme_repo, "rev-parse", f"{REF}~3").strip()


def test_diff_is_the_unified_diff_of_the_two_texts(api):
    api.create_prompt_version(PROMPT, text="a\nb\nc\n")
    api.create_prompt_version(PROMPT, text="a\nB\nc\n")
    result = api.diff_prompt_versions(PROMPT, 1, 2)
    assert result.diff == (f"--- {PROMPT} version 1\n+++ {PROMPT} version 2\n@@ -1,3 +1,3 @@\n a\n-b\n+B\n c\n")
    assert (result.from_version, result.to_version, result.identical) == (1, 2, False)


def test_diff_marks_a_text_without_a_final_newline_as_git_does(api):
    api.create_prompt_version(PROMPT, text="a\nb")
    api.create_prompt_version(PROMPT, text="a\nb\n")
    assert api.diff_prompt_versions(PROMPT, 1, 2).diff.endswith("-b\n\\ No newline at end of file\n+b\n")


def test_diff_of_equal_texts_is_empty(api):
    api.create_prompt_version(PROMPT, text="a")
    api.create_prompt_version(PROMPT, text="b")
    api.create_prompt_version(PROMPT, text="a")
    result = api.diff_prompt_versions(PROMPT, 1, 3)
    assert (result.diff, result.identical) == ("", True)


# --- restore ------------------------------------------------------------------------------------------


def test_restore_sets_the_live_body_and_keeps_the_other_fields(acme_repo, api):
    before = live_prompt(acme_repo)
    api.create_prompt_version(PROMPT, text="restored text\n")
    api.create_prompt_version(PROMPT)
    result = api.restore_prompt_version(PROMPT, 1)
    assert (result.message, result.skipped, result.version) == ("Restored", False, 1)
    assert live_prompt(acme_repo) == {**before, "body": "restored text\n"}
    assert git(acme_repo, "rev-parse", LIVE).strip() == result.commit
    fsck(acme_repo)


def test_restore_is_one_commit_naming_prompt_and_version_and_creates_no_version(acme_repo, api):
    first = api.create_prompt_version(PROMPT, text="old")
    api.create_prompt_version(PROMPT)
    tip, live_before = git(acme_repo, "rev-parse", REF), git(acme_repo, "rev-parse", LIVE).strip()
    api.restore_prompt_version(PROMPT, 1)
    assert git(acme_repo, "rev-parse", REF) == tip
    assert git(acme_repo, "rev-parse", f"{LIVE}^").strip() == live_before
    assert git(acme_repo, "log", "-1", "--format=%s", LIVE).strip() == f"Restore prompt {PROMPT} to version 1"
    assert trailers(acme_repo, LIVE) == [("Org", ACME_ID), ("Prompt-Id", PROMPT), ("Version", "1"),
                                         ("Version-Id", first.version_id)]
    assert git(acme_repo, "diff", "--name-only", f"{LIVE}^", LIVE).split() == [f"prompts/{PROMPT}.yaml"]


def test_matches_current_prompt_follows_a_restore(api):
    api.create_prompt_version(PROMPT)
    api.create_prompt_version(PROMPT, text="candidate")
    assert [v.matches_current_prompt for v in api.list_prompt_versions(PROMPT).versions] == [False, True]
    api.restore_prompt_version(PROMPT, 2)
    assert [v.matches_current_prompt for v in api.list_prompt_versions(PROMPT).versions] == [True, False]
    assert api.show_prompt_version(PROMPT, 2).matches_current_prompt is True


def test_restoring_the_live_text_is_a_noop(acme_repo, api):
    api.create_prompt_version(PROMPT)
    refs = all_refs(acme_repo)
    result = api.restore_prompt_version(PROMPT, 1)
    assert (result.message, result.skipped) == ("No changes", True)
    assert all_refs(acme_repo) == refs


def test_versions_outlive_the_prompt_in_the_live_state_and_restore_recreates_it(acme_repo, api, tmp_path):
    api.create_prompt_version(PROMPT, text="kept")
    import_acme(acme_repo, tmp_path, drop_prompt=True)
    listed = api.list_prompt_versions(PROMPT)
    assert [(v.version, v.matches_current_prompt) for v in listed.versions] == [(1, False)]
    assert api.diff_prompt_versions(PROMPT, 1, 1).identical
    api.restore_prompt_version(PROMPT, 1)
    assert live_prompt(acme_repo) == {"id": PROMPT, "body": "kept"}
    fsck(acme_repo)


def test_create_needs_the_prompt_in_the_live_state(acme_repo, api, tmp_path):
    api.create_prompt_version(PROMPT)
    import_acme(acme_repo, tmp_path, drop_prompt=True)
    refs = all_refs(acme_repo)
    with pytest.raises(NotFound, match=f"prompt {PROMPT} not found in any org") as error:
        api.create_prompt_version(PROMPT, text="x")
    assert error.value.title == "Prompt not found"
    assert all_refs(acme_repo) == refs


# --- which org ----------------------------------------------------------------------------------------


def test_the_org_is_found_when_left_out_and_can_be_named(api):
    assert api.create_prompt_version(PROMPT).org_id == ACME_ID
    assert api.create_prompt_version(PROMPT, org=ACME_ID, text="x").version == 2


def test_a_prompt_in_two_orgs_needs_org_and_each_org_has_its_own_versions(acme_repo, api, tmp_path):
    other = "64ee9a8b1e7f2a0011223355"
    import_acme(acme_repo, tmp_path, org_id=other, body="other org's text")
    with pytest.raises(InvalidInput, match=f"prompt {PROMPT} is in several orgs: {ACME_ID}, {other}"):
        api.create_prompt_version(PROMPT)
    assert api.create_prompt_version(PROMPT, org=other).version == 1
    assert api.create_prompt_version(PROMPT, org=ACME_ID, text="x").version == 1
    assert api.show_prompt_version(PROMPT, 1, org=other).text == "other org's text"


def test_versions_in_another_org_make_an_org_less_lookup_ambiguous(acme_repo, api, tmp_path):
    other = "64ee9a8b1e7f2a0011223355"
    import_acme(acme_repo, tmp_path, org_id=other)
    api.create_prompt_version(PROMPT, org=other)
    import_acme(acme_repo, tmp_path, org_id=other, drop_prompt=True)
    assert api.create_prompt_version(PROMPT).org_id == ACME_ID  # create looks at live trees only
    with pytest.raises(InvalidInput, match="several orgs"):
        api.list_prompt_versions(PROMPT)


# --- bad input from Python callers ---------------------------------------------------------------------


@pytest.mark.parametrize("kwargs, message", [
    ({"source": "manual"}, "source 'manual' is not one of manual_save, ai_apply, checkpoint"),
    ({"label": "two\nlines"}, "label 'two\\nlines' must be one line"),
    ({"title": "a\rb"}, "title 'a\\rb' must be one line"),
    ({"display_version": "v1\n"}, "display version 'v1\\n' must be one line"),
    ({"description": "nul\0"}, "description 'nul\\x00' contains a NUL character"),
    ({"label": 3}, "label must be a string, got int"),
    ({"text": "a", "file": "b"}, "give the text with --text or with --file, not both"),
    ({"text": b"bytes"}, "text must be a string, got bytes"),
    ({"org": "../x"}, "org '../x' is not a valid identifier"),
])
def test_the_library_rejects_bad_input_before_writing(acme_repo, api, kwargs, message):
    refs, objects = all_refs(acme_repo), all_objects(acme_repo)
    with pytest.raises(InvalidInput) as error:
        api.create_prompt_version(PROMPT, **kwargs)
    assert message in error.value.message
    assert (all_refs(acme_repo), all_objects(acme_repo)) == (refs, objects)


@pytest.mark.parametrize("number", [0, -1, 2])
def test_an_unknown_version_is_not_found(api, number):
    api.create_prompt_version(PROMPT)
    with pytest.raises(NotFound, match=f"version {number} of prompt {PROMPT} not found in org {ACME_ID} "
                                       r"\(its versions are 1 to 1\)") as error:
        api.show_prompt_version(PROMPT, number)
    assert error.value.title == "Version not found"


@pytest.mark.parametrize("number", [1.0, True, None])  # "1" is version 1: test_aliases_resolve.py
def test_a_version_number_must_be_an_int(api, number):
    api.create_prompt_version(PROMPT)
    with pytest.raises(InvalidInput, match="version must be a whole number"):
        api.show_prompt_version(PROMPT, number)
