"""``gitsnap prompt alias ...`` and versions named by an alias or ``latest``, as a user runs them: JSON, exit codes."""

from __future__ import annotations

from pathlib import Path

import pytest

from gitsnap import Store
from gitsnap.cli import cli as root
from tests.conftest import ACME_ID, LEASING_PROMPT_ID, all_objects, all_refs, fsck, git, run_cli
from tests.test_aliases import PRODUCTION, VERSIONS, clean, version_id
from tests.test_prompts import live_prompt

PROMPT = LEASING_PROMPT_ID
OTHER_PROMPT = "65f9b1c2e8a1d4e001a0c001"
LABEL_VS_ALIAS = ("A version's --label is its own descriptive subject, fixed when it is created; an alias is a "
                  "movable name")
README = Path(__file__).resolve().parent.parent / "README.md"


@pytest.fixture
def repo3(acme_repo) -> Path:
    """Acme with versions 1, 2, 3 of the leasing prompt."""
    with Store(acme_repo) as store:
        for n in (1, 2, 3):
            store.create_prompt_version(PROMPT, text=f"text {n}\n", label=f"Label {n}")
    return acme_repo


def cli(repo, *args, **kwargs):
    return run_cli(*args, repo=repo, **kwargs)


def alias(repo, *args, **kwargs):
    return cli(repo, "prompt", "alias", *args, **kwargs)


# --- the commands ----------------------------------------------------------------------------------------


def test_set_prints_the_alias_version_and_where_it_was(repo3):
    first = alias(repo3, "set", PROMPT, "production", "2", "--json")
    assert first.exit_code == 0, first.stderr
    assert first.json == {"alias": "production", "version": 2, "versionId": version_id(repo3, 2),
                          "previousVersion": None, "skipped": False}
    moved = alias(repo3, "set", PROMPT, "production", "3", "--reason", "Passed the eval")
    assert moved.stdout == (f"Moved alias production of prompt {PROMPT} from version 2 to version 3 "
                            f"({version_id(repo3, 3)[:12]})\n")
    clean(repo3)


def test_an_alias_already_there_is_skipped_with_exit_0(repo3):
    alias(repo3, "set", PROMPT, "production", "2")
    before = (all_refs(repo3), all_objects(repo3))
    again = alias(repo3, "set", PROMPT, "production", "2", "--json")
    assert (again.exit_code, again.json["skipped"], again.json["previousVersion"]) == (0, True, 2)
    assert alias(repo3, "set", PROMPT, "production", "2").stdout.startswith(
        f"No changes: alias production of prompt {PROMPT} is already at version 2")
    assert (all_refs(repo3), all_objects(repo3)) == before


def test_a_lost_expect_is_exit_4_naming_where_the_alias_is(repo3):
    alias(repo3, "set", PROMPT, "production", "3")
    before = all_refs(repo3)
    result = alias(repo3, "set", PROMPT, "production", "1", "--expect", "2")
    assert result.exit_code == 4
    assert result.stderr == (f"gitsnap: alias production of prompt {PROMPT} in org {ACME_ID} is at version 3, "
                             "not at version 2 as expected; nothing was changed\n")
    as_json = alias(repo3, "set", PROMPT, "production", "1", "--expect", "none", "--json")
    assert (as_json.exit_code, as_json.json["error"]) == (4, "Alias moved")
    assert "is at version 3, not absent" in as_json.json["details"]
    assert all_refs(repo3) == before


def test_list_prints_each_alias_and_its_version(repo3):
    alias(repo3, "set", PROMPT, "staging", "latest")
    alias(repo3, "set", PROMPT, "production", "1", env={"GIT_AUTHOR_DATE": "1778835600 +0000"})
    listed = alias(repo3, "list", PROMPT, "--json").json
    assert listed["promptId"] == PROMPT and listed["orgId"] == ACME_ID
    assert listed["aliases"][0] == {"alias": "production", "version": 1, "versionId": version_id(repo3, 1),
                                    "updatedAt": "2026-05-15T09:00:00.000Z",
                                    "updatedBy": "Test Runner <runner@gitsnap.test>"}
    assert [a["alias"] for a in listed["aliases"]] == ["production", "staging"]
    table = alias(repo3, "list", PROMPT).stdout.splitlines()
    assert table[0].split() == ["ALIAS", "VERSION", "COMMIT", "UPDATED", "BY"]
    assert table[1].split()[:2] == ["production", "1"] and table[2].split()[:2] == ["staging", "3"]
    assert alias(repo3, "list", OTHER_PROMPT).stdout.startswith(f"No aliases on prompt {OTHER_PROMPT}")


def test_history_lists_every_move_newest_first_with_the_deletion(repo3):
    alias(repo3, "set", PROMPT, "production", "1")
    alias(repo3, "set", PROMPT, "production", "3", "--reason", "Passed the eval")
    deleted = alias(repo3, "delete", PROMPT, "production", "--expect", "3", "--json")
    assert deleted.json == {"alias": "production", "deleted": True, "previousVersion": 3,
                            "previousVersionId": version_id(repo3, 3)}
    history = alias(repo3, "history", PROMPT, "production", "--json").json
    assert (history["promptId"], history["orgId"], history["alias"]) == (PROMPT, ACME_ID, "production")
    assert [(m["version"], m["previousVersion"], m["deleted"], m["reason"]) for m in history["moves"]] == [
        (None, 3, True, None), (3, 1, False, "Passed the eval"), (1, None, False, None)]
    assert set(history["moves"][0]) == {"commit", "version", "versionId", "previousVersion", "deleted", "reason",
                                        "movedBy", "movedAt", "userId"}
    logged = git(repo3, "log", "--first-parent", "--format=%H", PRODUCTION).split()
    assert [m["commit"] for m in history["moves"]] == logged
    table = alias(repo3, "history", PROMPT, "production").stdout.splitlines()
    assert table[0].split() == ["VERSION", "FROM", "WHEN", "WHO", "REASON"]
    assert table[1].split()[:2] == ["deleted", "3"] and table[2].endswith("Passed the eval")
    clean(repo3)


def test_delete_says_the_history_stays(repo3):
    alias(repo3, "set", PROMPT, "staging", "2")
    result = alias(repo3, "delete", PROMPT, "staging")
    assert result.stdout.startswith(f"Deleted alias staging of prompt {PROMPT} (it was at version 2); its history "
                                    f"stays: gitsnap prompt alias history {PROMPT} staging")


# --- versions by alias and latest --------------------------------------------------------------------------


def test_version_show_takes_an_alias_latest_or_a_number(repo3):
    alias(repo3, "set", PROMPT, "production", "2")
    by_alias = cli(repo3, "prompt", "version", "show", PROMPT, "production", "--json").json
    assert (by_alias["version"], by_alias["text"], by_alias["aliases"]) == (2, "text 2\n", ["production"])
    assert cli(repo3, "prompt", "version", "show", PROMPT, "latest", "--json").json["version"] == 3
    assert cli(repo3, "prompt", "version", "show", PROMPT, "03", "--json").json["version"] == 3  # a number
    human = cli(repo3, "prompt", "version", "show", PROMPT, "production").stdout
    assert "  aliases: production\n" in human


def test_version_diff_takes_aliases_and_names_the_versions(repo3):
    alias(repo3, "set", PROMPT, "production", "1")
    result = cli(repo3, "prompt", "version", "diff", PROMPT, "production", "latest", "--json").json
    assert (result["fromVersion"], result["toVersion"]) == (1, 3)
    assert result["diff"].startswith(f"--- {PROMPT} version 1\n+++ {PROMPT} version 3\n")


def test_restore_by_alias_puts_that_versions_text_live(repo3):
    alias(repo3, "set", PROMPT, "production", "2")
    result = cli(repo3, "prompt", "restore", PROMPT, "production", "--json")
    assert result.exit_code == 0, result.stderr
    assert (result.json["version"], result.json["versionId"]) == (2, version_id(repo3, 2))
    assert live_prompt(repo3)["body"] == "text 2\n"
    assert git(repo3, "log", "-1", "--format=%s", f"refs/heads/orgs/{ACME_ID}").strip() == \
        f"Restore prompt {PROMPT} to version 2"
    assert cli(repo3, "prompt", "restore", PROMPT, "latest").exit_code == 0
    assert live_prompt(repo3)["body"] == "text 3\n"
    clean(repo3)


def test_version_list_shows_each_versions_aliases(repo3):
    alias(repo3, "set", PROMPT, "production", "2")
    alias(repo3, "set", PROMPT, "staging", "2")
    alias(repo3, "set", PROMPT, "canary", "3")
    alias(repo3, "set", PROMPT, "old", "1")
    alias(repo3, "delete", PROMPT, "old")
    listed = cli(repo3, "prompt", "version", "list", PROMPT, "--json").json
    assert [(v["version"], v["aliases"]) for v in listed["versions"]] == [
        (3, ["canary"]), (2, ["production", "staging"]), (1, [])]
    table = cli(repo3, "prompt", "version", "list", PROMPT).stdout.splitlines()
    assert table[0].split()[-1] == "ALIASES" and table[2].endswith("production, staging")


def test_version_create_keeps_the_platform_shape_without_aliases(repo3):
    created = cli(repo3, "prompt", "version", "create", PROMPT, "--text", "text 4", "--json").json
    assert "aliases" not in created["versionSnapshot"]


# --- bad input: exit 2 or 3 naming the value, nothing written ---------------------------------------------


HOSTILE_NAMES = {"a line break": "prod\nuction", "a carriage return": "prod\r", "a control character": "prod\x07",
                 "an escape sequence": "prod\x1b[31m", "dot dot": "..", "dots inside": "a..b", "a slash": "team/prod",
                 "300 characters": "p" * 300, "empty": "", "a leading dash": "-prod", "a lock suffix": "prod.lock",
                 "a trailing dot": "prod.", "a space": "prod uction", "unicode": "prödüction"}


@pytest.mark.parametrize("name", HOSTILE_NAMES.values(), ids=HOSTILE_NAMES.keys())
def test_an_alias_name_that_is_not_an_identifier_is_exit_2_and_writes_nothing(repo3, name):
    before = (all_refs(repo3), all_objects(repo3))
    result = alias(repo3, "set", PROMPT, "--", name, "1") if name.startswith("-") else \
        alias(repo3, "set", PROMPT, name, "1")
    assert result.exit_code == 2, result.stderr
    assert result.stderr.startswith(f"gitsnap: alias {name!r} is not a valid identifier")
    assert len(result.stderr.splitlines()) == 1 and "Traceback" not in result.stderr
    assert (all_refs(repo3), all_objects(repo3)) == before


@pytest.mark.parametrize("command", [["set", PROMPT, "latest", "1"], ["delete", PROMPT, "latest"],
                                     ["set", PROMPT, "12", "1"], ["history", PROMPT, "latest"]])
def test_latest_and_numbers_cannot_be_alias_names(repo3, command):
    before = (all_refs(repo3), all_objects(repo3))
    result = alias(repo3, *command)
    assert result.exit_code == 2, result.stderr
    assert f"alias {command[2]!r} is " in result.stderr
    assert ("reserved" if command[2] == "latest" else "a number") in result.stderr
    assert (all_refs(repo3), all_objects(repo3)) == before


@pytest.mark.parametrize("version", ["99", "0"])
def test_setting_an_alias_to_a_version_that_does_not_exist_is_exit_3(repo3, version):
    before = (all_refs(repo3), all_objects(repo3))
    result = alias(repo3, "set", PROMPT, "production", version)
    assert result.exit_code == 3
    assert f"version {version} of prompt {PROMPT} not found in org {ACME_ID} (its versions are 1 to 3)" in result.stderr
    assert (all_refs(repo3), all_objects(repo3)) == before


@pytest.mark.parametrize("version", ["one!", "v 1", "+1", "1e3 ", "٣", "x" * 300])
def test_a_version_that_is_no_number_latest_or_alias_name_is_exit_2(repo3, version):
    for command in (["prompt", "alias", "set", PROMPT, "production", version],
                    ["prompt", "version", "show", PROMPT, version], ["prompt", "restore", PROMPT, version]):
        before = (all_refs(repo3), all_objects(repo3))
        result = cli(repo3, *command)
        assert result.exit_code == 2, (command, result.stderr)
        assert "is not a version number, 'latest' or an alias" in result.stderr
        assert (all_refs(repo3), all_objects(repo3)) == before


def test_an_alias_of_another_prompt_is_unknown_here_and_names_this_prompts_aliases(repo3):
    with Store(repo3) as store:
        store.create_prompt_version(OTHER_PROMPT, text="other")
        store.set_prompt_alias(OTHER_PROMPT, "canary", 1)
        store.set_prompt_alias(PROMPT, "production", 3)
        store.set_prompt_alias(PROMPT, "staging", 2)
    before = (all_refs(repo3), all_objects(repo3))
    for command in (["prompt", "version", "show", PROMPT, "canary"], ["prompt", "alias", "set", PROMPT, "x", "canary"],
                    ["prompt", "restore", PROMPT, "canary"], ["prompt", "alias", "history", PROMPT, "canary"]):
        result = cli(repo3, *command)
        assert result.exit_code == 3, (command, result.stderr)
        assert (f"prompt {PROMPT} has no alias 'canary' in org {ACME_ID} (its aliases are production, staging; "
                f"gitsnap prompt alias list {PROMPT} --org {ACME_ID})") in result.stderr
    assert (all_refs(repo3), all_objects(repo3)) == before


@pytest.mark.parametrize("reason", ["two\nlines", "cr\rhere", "sep\u2028arator", "nul\x00"])
def test_a_reason_that_is_not_one_line_is_exit_2_and_writes_nothing(repo3, reason):
    before = (all_refs(repo3), all_objects(repo3))
    result = alias(repo3, "set", PROMPT, "production", "1", "--reason", reason) if "\x00" not in reason else \
        _api_error(repo3, reason)
    assert result.exit_code == 2
    assert f"reason {reason!r} must be one line of text" in result.stderr
    assert (all_refs(repo3), all_objects(repo3)) == before


def _api_error(repo, reason):
    """A NUL cannot be a process argument: the same check through the library, shaped as a CLI result."""
    from gitsnap import InvalidInput

    from .conftest import CliResult

    with pytest.raises(InvalidInput) as error:
        Store(repo).set_prompt_alias(PROMPT, "production", 1, reason=reason)
    return CliResult(error.value.exit_code, "", f"gitsnap: {error.value.message}\n")


def test_an_unknown_prompt_is_exit_3(repo3):
    result = alias(repo3, "set", "nope", "production", "1", "--org", ACME_ID)
    assert result.exit_code == 3 and f"prompt nope not found in org {ACME_ID}" in result.stderr
    assert alias(repo3, "list", "nope").exit_code == 3


# --- dry run (the git layer's: objects kept in memory, each CAS recorded) -----------------------------------


@pytest.mark.parametrize("command", [["set", PROMPT, "production", "3", "--reason", "r"],
                                     ["set", PROMPT, "staging", "production"], ["delete", PROMPT, "production"]])
def test_a_dry_run_moves_nothing_and_names_the_move_the_real_run_makes(repo3, command):
    alias(repo3, "set", PROMPT, "production", "2")
    dates = {"GIT_COMMITTER_DATE": "1778835600 +0000", "GIT_AUTHOR_DATE": "1778835600 +0000"}
    before = all_refs(repo3)
    dry = alias(repo3, *command, "--dry-run", "--json", env=dates)
    assert dry.exit_code == 0, dry.stderr
    assert all_refs(repo3) == before
    real = alias(repo3, *command, "--json", env=dates)
    after = all_refs(repo3)
    moved = {ref: (before.get(ref), after[ref]) for ref in after if before.get(ref) != after[ref]}
    assert {c["ref"]: (c["old"], c["new"]) for c in dry.json["changes"]} == moved and len(moved) == 1
    assert {k: v for k, v in dry.json.items() if k not in ("dryRun", "changes")} == real.json
    clean(repo3)


# --- help --------------------------------------------------------------------------------------------------


def test_every_alias_command_says_how_a_label_differs_from_an_alias_and_the_readme_too():
    group = root.get_command(None, "prompt").commands["alias"]
    for name in [None, *group.commands]:
        args = ["prompt", "alias", *([name] if name else []), "--help"]
        result = run_cli(*args)
        assert result.exit_code == 0
        assert LABEL_VS_ALIAS in " ".join(result.stdout.split()), args
        assert name is None or "Example:" in result.stdout
    assert LABEL_VS_ALIAS in " ".join(README.read_text().split())


def test_fsck_is_clean_after_every_kind_of_write(repo3):
    for command in (["set", PROMPT, "production", "1"], ["set", PROMPT, "production", "2", "--reason", "r"],
                    ["delete", PROMPT, "production"], ["set", PROMPT, "production", "latest"]):
        assert alias(repo3, *command).exit_code == 0
        fsck(repo3)
        assert cli(repo3, "verify").exit_code == 0
    assert git(repo3, "rev-parse", f"{PRODUCTION}^2").strip() == git(repo3, "rev-parse", VERSIONS).strip()
