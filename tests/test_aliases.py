"""Prompt aliases through the Python API, read back with the real git CLI: every move a commit, history kept."""

from __future__ import annotations

import pytest
import yaml

from gitsnap import Conflict, InvalidInput, NotFound, Store
from tests.conftest import ACME_ID, ALEX_ID, LEASING_PROMPT_ID, all_objects, all_refs, fsck, git

PROMPT = LEASING_PROMPT_ID
VERSIONS = f"refs/prompts/{ACME_ID}/{PROMPT}"
PRODUCTION = f"refs/prompt-aliases/{ACME_ID}/{PROMPT}/production"
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
T1, T1_ISO = "1778835600 +0000", "2026-05-15T09:00:00.000Z"


@pytest.fixture
def api(acme_repo) -> Store:
    """Acme with versions 1, 2, 3 of the leasing prompt."""
    store = Store(acme_repo)
    for n in (1, 2, 3):
        store.create_prompt_version(PROMPT, text=f"text {n}", label=f"Label {n}")
    return store


def clean(repo) -> None:
    """What every write must leave: git fsck --strict and gitsnap verify both clean."""
    fsck(repo)
    result = Store(repo).verify()
    assert result.ok, result.problems


def version_id(repo, number: int) -> str:
    tip = int(git(repo, "log", "-1", "--format=%(trailers:key=Version,valueonly)", VERSIONS).strip())
    return git(repo, "rev-parse", f"{VERSIONS}~{tip - number}").strip()


def first_parent_log(repo, ref: str = PRODUCTION) -> list[tuple[str, ...]]:
    """(subject, Version, Previous-Version, Deleted, Reason) of each commit on the ref, as plain git reads them."""
    keys = ("Version", "Previous-Version", "Deleted", "Reason")
    fields = "%x1f".join(["%s", *(f"%(trailers:key={key},valueonly,separator=%x2c)" for key in keys)])
    out = git(repo, "log", "--first-parent", f"--format={fields}%x1e", ref)
    return [tuple(part.strip() for part in entry.strip("\n").split("\x1f")) for entry in out.split("\x1e")[:-1]]


# --- set ----------------------------------------------------------------------------------------------


def test_set_points_the_alias_at_the_version_and_git_show_gives_its_text(acme_repo, api):
    result = api.set_prompt_alias(PROMPT, "production", 2)
    assert (result.alias, result.version, result.version_id, result.previous_version, result.skipped) == \
        ("production", 2, version_id(acme_repo, 2), None, False)
    assert git(acme_repo, "rev-parse", PRODUCTION).strip() == result.commit
    assert yaml.safe_load(git(acme_repo, "show", f"{PRODUCTION}:prompt.yaml")) == {"id": PROMPT, "body": "text 2"}
    assert git(acme_repo, "rev-parse", f"{PRODUCTION}^{{tree}}") == \
        git(acme_repo, "rev-parse", f"{VERSIONS}~1^{{tree}}")
    clean(acme_repo)


def test_each_move_is_a_commit_and_git_log_first_parent_is_the_history(acme_repo, api):
    api.set_prompt_alias(PROMPT, "production", 1)
    api.set_prompt_alias(PROMPT, "production", 3, reason="Passed the eval")
    api.set_prompt_alias(PROMPT, "production", 2, reason="Rollback: answers too long")
    assert first_parent_log(acme_repo) == [
        ("Move alias production from version 3 to version 2", "2", "3", "", "Rollback: answers too long"),
        ("Move alias production from version 1 to version 3", "3", "1", "", "Passed the eval"),
        ("Set alias production to version 1", "1", "", "", ""),
    ]
    clean(acme_repo)


def test_a_move_has_the_previous_move_then_the_version_as_parents_and_the_first_has_none(acme_repo, api):
    api.set_prompt_alias(PROMPT, "production", 1)
    api.set_prompt_alias(PROMPT, "production", 3)
    lines = git(acme_repo, "log", "--first-parent", "--format=%H %P", PRODUCTION).splitlines()
    newest, first = [line.split() for line in lines]
    assert newest[1:] == [first[0], version_id(acme_repo, 3)]
    assert first[1:] == []  # a version as its only parent would lead git log --first-parent into the versions
    git(acme_repo, "merge-base", "--is-ancestor", version_id(acme_repo, 3), PRODUCTION)  # exit 0: reachable


def test_the_trailers_say_everything_as_git_parses_them(acme_repo, api, monkeypatch):
    api.set_prompt_alias(PROMPT, "production", 2)
    monkeypatch.setenv("GIT_AUTHOR_DATE", T1)
    api.set_prompt_alias(PROMPT, "production", 3, reason="Passed the eval")
    message = git(acme_repo, "log", "-1", "--format=%B", PRODUCTION)
    parsed = git(acme_repo, "interpret-trailers", "--parse", input=message.encode()).splitlines()
    assert parsed == ["Alias: production", "Version: 3", f"Version-Id: {version_id(acme_repo, 3)}",
                      "Previous-Version: 2", "Reason: Passed the eval", f"Prompt-Id: {PROMPT}", f"Org: {ACME_ID}"]
    assert git(acme_repo, "log", "-1", "--format=%an <%ae> %aI", PRODUCTION).strip() == \
        "Test Runner <runner@gitsnap.test> 2026-05-15T09:00:00+00:00"


def test_setting_the_alias_where_it_is_is_a_skipped_noop(acme_repo, api):
    first = api.set_prompt_alias(PROMPT, "production", 2)
    before = (all_refs(acme_repo), all_objects(acme_repo))
    again = api.set_prompt_alias(PROMPT, "production", "2", reason="ignored")
    assert (again.skipped, again.version, again.previous_version, again.commit) == (True, 2, 2, first.commit)
    assert (all_refs(acme_repo), all_objects(acme_repo)) == before


def test_an_alias_can_be_set_to_latest_or_to_where_another_alias_points(acme_repo, api):
    api.set_prompt_alias(PROMPT, "staging", "latest")
    promoted = api.set_prompt_alias(PROMPT, "production", "staging")
    assert (promoted.version, promoted.version_id) == (3, version_id(acme_repo, 3))
    api.create_prompt_version(PROMPT, text="text 4")
    assert api.show_prompt_version(PROMPT, "staging").version == 3  # an alias does not follow the tip
    assert api.show_prompt_version(PROMPT, "latest").version == 4
    clean(acme_repo)


def test_user_id_records_the_org_member_as_who_moved_it(acme_repo, api):
    api.set_prompt_alias(PROMPT, "production", 1, user_id=ALEX_ID)
    member = yaml.safe_load(git(acme_repo, "show", f"refs/heads/orgs/{ACME_ID}:users/{ALEX_ID}.yaml"))
    author = git(acme_repo, "log", "-1", "--format=%an <%ae>|%(trailers:key=User,valueonly)", PRODUCTION).strip()
    assert author == f"{member['name']} <{member['email']}>|{ALEX_ID}"
    moved = api.prompt_alias_history(PROMPT, "production").moves[0]
    assert (moved.moved_by, moved.user_id) == (f"{member['name']} <{member['email']}>", ALEX_ID)
    with pytest.raises(NotFound, match="not a member"):
        api.set_prompt_alias(PROMPT, "production", 2, user_id="nobody")


def test_aliases_of_one_prompt_are_separate_refs_per_org_and_prompt(acme_repo, api):
    other_prompt = "65f9b1c2e8a1d4e001a0c001"
    api.create_prompt_version(other_prompt, text="other")
    api.set_prompt_alias(PROMPT, "production", 3)
    api.set_prompt_alias(other_prompt, "production", 1)
    assert {ref for ref in all_refs(acme_repo) if ref.startswith("refs/prompt-aliases/")} == {
        PRODUCTION, f"refs/prompt-aliases/{ACME_ID}/{other_prompt}/production"}
    assert api.show_prompt_version(other_prompt, "production").text == "other"
    clean(acme_repo)


# --- expect: compare-and-swap on where the alias is ----------------------------------------------------


def test_expect_moves_the_alias_only_from_where_it_is(acme_repo, api):
    api.set_prompt_alias(PROMPT, "production", 1, expect="none")
    moved = api.set_prompt_alias(PROMPT, "production", 2, expect=1)
    assert (moved.previous_version, moved.version) == (1, 2)
    before = all_refs(acme_repo)
    with pytest.raises(Conflict, match="is at version 2, not at version 1 as expected"):
        api.set_prompt_alias(PROMPT, "production", 3, expect=1)
    with pytest.raises(Conflict, match="is at version 2, not absent as expected"):
        api.set_prompt_alias(PROMPT, "production", 3, expect="none")
    with pytest.raises(Conflict, match=r"absent \(never set\), not at version 1"):
        api.set_prompt_alias(PROMPT, "staging", 3, expect="1")
    assert all_refs(acme_repo) == before
    clean(acme_repo)


def test_expect_is_checked_before_the_noop(api):
    api.set_prompt_alias(PROMPT, "production", 2)
    with pytest.raises(Conflict):
        api.set_prompt_alias(PROMPT, "production", 2, expect=1)
    assert api.set_prompt_alias(PROMPT, "production", 2, expect=2).skipped


@pytest.mark.parametrize("expect", [0, -1, "latest", "two", 1.5, True, "01x"])
def test_an_expect_that_is_not_a_version_number_or_none_is_invalid(api, expect):
    with pytest.raises(InvalidInput, match="expect must be a version number or 'none'"):
        api.set_prompt_alias(PROMPT, "production", 1, expect=expect)


# --- delete -------------------------------------------------------------------------------------------


def test_delete_is_a_last_move_to_the_empty_tree_and_the_ref_stays(acme_repo, api):
    api.set_prompt_alias(PROMPT, "production", 3)
    deleted = api.delete_prompt_alias(PROMPT, "production", reason="Retired")
    assert (deleted.alias, deleted.previous_version, deleted.previous_version_id) == \
        ("production", 3, version_id(acme_repo, 3))
    assert git(acme_repo, "rev-parse", PRODUCTION).strip() == deleted.commit
    assert git(acme_repo, "rev-parse", f"{PRODUCTION}^{{tree}}").strip() == EMPTY_TREE
    assert first_parent_log(acme_repo)[0] == ("Delete alias production (was version 3)", "", "3", "true", "Retired")
    assert git(acme_repo, "cat-file", "-e", f"{PRODUCTION}:prompt.yaml", check=False) == ""
    assert api.list_prompt_aliases(PROMPT).aliases == []
    with pytest.raises(NotFound, match="alias production of prompt .* was deleted"):
        api.show_prompt_version(PROMPT, "production")
    clean(acme_repo)


def test_a_set_after_a_delete_continues_the_same_history(acme_repo, api):
    api.set_prompt_alias(PROMPT, "production", 1)
    api.delete_prompt_alias(PROMPT, "production")
    again = api.set_prompt_alias(PROMPT, "production", 2, expect="none")
    assert again.previous_version is None
    assert [entry[:4] for entry in first_parent_log(acme_repo)] == [
        ("Set alias production to version 2", "2", "", ""),
        ("Delete alias production (was version 1)", "", "1", "true"),
        ("Set alias production to version 1", "1", "", ""),
    ]
    moves = api.prompt_alias_history(PROMPT, "production").moves
    assert [(m.version, m.previous_version, m.deleted) for m in moves] == [(2, None, False), (None, 1, True),
                                                                            (1, None, False)]
    clean(acme_repo)


def test_deleting_an_absent_or_deleted_alias_is_not_found_and_writes_nothing(acme_repo, api):
    with pytest.raises(NotFound, match="has no alias 'production'"):
        api.delete_prompt_alias(PROMPT, "production")
    api.set_prompt_alias(PROMPT, "production", 1)
    api.delete_prompt_alias(PROMPT, "production")
    before = (all_refs(acme_repo), all_objects(acme_repo))
    with pytest.raises(NotFound, match="was deleted"):
        api.delete_prompt_alias(PROMPT, "production")
    assert (all_refs(acme_repo), all_objects(acme_repo)) == before


def test_delete_with_expect_is_a_compare_and_swap(acme_repo, api):
    api.set_prompt_alias(PROMPT, "production", 2)
    with pytest.raises(Conflict, match="is at version 2, not at version 3"):
        api.delete_prompt_alias(PROMPT, "production", expect=3)
    assert api.delete_prompt_alias(PROMPT, "production", expect=2).previous_version == 2


# --- list and history ----------------------------------------------------------------------------------


def test_list_gives_each_alias_with_its_version_and_who_moved_it_when(acme_repo, api, monkeypatch):
    monkeypatch.setenv("GIT_AUTHOR_DATE", T1)
    api.set_prompt_alias(PROMPT, "staging", 3)
    api.set_prompt_alias(PROMPT, "production", 2)
    listed = api.list_prompt_aliases(PROMPT)
    assert (listed.prompt_id, listed.org_id) == (PROMPT, ACME_ID)
    assert [(a.alias, a.version, a.version_id, a.updated_at, a.updated_by) for a in listed.aliases] == [
        ("production", 2, version_id(acme_repo, 2), T1_ISO, "Test Runner <runner@gitsnap.test>"),
        ("staging", 3, version_id(acme_repo, 3), T1_ISO, "Test Runner <runner@gitsnap.test>"),
    ]


def test_a_prompt_without_aliases_lists_none_and_an_unknown_prompt_is_not_found(api):
    assert api.list_prompt_aliases(PROMPT).aliases == []
    with pytest.raises(NotFound, match="prompt nope not found in org"):
        api.list_prompt_aliases("nope", org=ACME_ID)


def test_history_is_newest_first_with_who_when_and_why(api, monkeypatch):
    api.set_prompt_alias(PROMPT, "production", 1)
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Rel Manager")
    monkeypatch.setenv("GIT_AUTHOR_DATE", T1)
    api.set_prompt_alias(PROMPT, "production", 3, reason="Passed the eval")
    history = api.prompt_alias_history(PROMPT, "production")
    newest = history.moves[0]
    assert (newest.version, newest.previous_version, newest.reason, newest.moved_by, newest.moved_at) == \
        (3, 1, "Passed the eval", "Rel Manager <runner@gitsnap.test>", T1_ISO)
    assert [m.version for m in history.moves] == [3, 1]
    assert [m.version for m in api.prompt_alias_history(PROMPT, "production", limit=1).moves] == [3]


def test_a_reason_that_a_trailer_line_cannot_hold_as_is_reads_back_exactly(api):
    api.set_prompt_alias(PROMPT, "production", 1, reason='  "quoted" — ü ')
    assert api.prompt_alias_history(PROMPT, "production").moves[0].reason == '"quoted" — ü'


def test_resolving_reads_no_history_of_the_alias(acme_repo, api):
    """The tip and its trailers say everything: with the alias's older moves gone, set and resolve still work."""
    api.set_prompt_alias(PROMPT, "production", 1)
    tip = api.set_prompt_alias(PROMPT, "production", 2).commit
    older = git(acme_repo, "rev-parse", f"{tip}^1").strip()
    (acme_repo / "objects" / older[:2] / older[2:]).unlink()  # a loose object: the first move
    assert api.show_prompt_version(PROMPT, "production").version == 2
    assert api.set_prompt_alias(PROMPT, "production", 3).previous_version == 2


def test_a_reason_over_500_characters_is_invalid_and_writes_nothing(acme_repo, api):
    before = (all_refs(acme_repo), all_objects(acme_repo))
    with pytest.raises(InvalidInput, match="reason is 501 characters long; at most 500"):
        api.set_prompt_alias(PROMPT, "production", 1, reason="r" * 501)
    assert (all_refs(acme_repo), all_objects(acme_repo)) == before
    assert api.set_prompt_alias(PROMPT, "production", 1, reason="r" * 500).version == 1
