"""``gitsnap prompt ...`` as a user runs it: JSON shapes, human output, text sources, exit codes."""

from __future__ import annotations

import pytest

from gitsnap import Store
from tests.conftest import ACME_ID, LEASING_PROMPT_ID, all_objects, all_refs, fsck, git, run_cli
from tests.test_prompts import import_acme, live_prompt

PROMPT = LEASING_PROMPT_ID
REF = f"refs/prompts/{ACME_ID}/{PROMPT}"
SNAPSHOT_KEYS = {"_id", "version", "label", "displayVersion", "title", "description", "source", "createdAt",
                 "matchesCurrentPrompt", "preview"}
T1, T1_ISO = "1778835600 +0000", "2026-05-15T09:00:00.000Z"


@pytest.fixture
def api(acme_repo) -> Store:
    return Store(acme_repo)


def cli(repo, *args, **kwargs):
    return run_cli(*args, repo=repo, **kwargs)


def test_create_prints_exactly_the_platform_shape(acme_repo):
    result = cli(acme_repo, "prompt", "version", "create", PROMPT, "--label", "Pre-launch checkpoint",
                 "--display-version", "v1.4", "--title", "Pre-launch", "--description", "Snapshot before rolling out.",
                 "--source", "manual_save", "--json", env={"GIT_COMMITTER_DATE": T1})
    assert result.exit_code == 0, result.stderr
    commit = git(acme_repo, "rev-parse", REF).strip()
    body = live_prompt(acme_repo)["body"]
    assert result.json == {
        "message": "Version saved", "skipped": False, "version": 1, "versionId": commit,
        "versionSnapshot": {"_id": commit, "version": 1, "label": "Pre-launch checkpoint", "displayVersion": "v1.4",
                            "title": "Pre-launch", "description": "Snapshot before rolling out.",
                            "source": "manual_save", "createdAt": T1_ISO, "matchesCurrentPrompt": True,
                            "preview": body[:120] + "…"},
    }
    fsck(acme_repo)


def test_an_unchanged_text_is_reported_as_skipped_with_exit_0(acme_repo, api):
    first = api.create_prompt_version(PROMPT)
    result = cli(acme_repo, "prompt", "version", "create", PROMPT, "--label", "ignored", "--json")
    assert result.exit_code == 0
    assert (result.json["message"], result.json["skipped"], result.json["versionId"]) == \
        ("No changes", True, first.version_id)
    human = cli(acme_repo, "prompt", "version", "create", PROMPT)
    assert human.stdout.startswith(f"No changes: prompt {PROMPT} is already at version 1 ({first.version_id[:12]})")


def test_file_gives_the_text_byte_for_byte(acme_repo, api, tmp_path):
    path = tmp_path / "prompt.md"
    path.write_bytes("<prompt>\r\n  Windows lines — ü\r\n</prompt>".encode())
    result = cli(acme_repo, "prompt", "version", "create", PROMPT, "--file", str(path), "--source", "ai_apply")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"Saved version 1 of prompt {PROMPT} in org {ACME_ID}: commit ")
    assert api.show_prompt_version(PROMPT, 1).text == "<prompt>\r\n  Windows lines — ü\r\n</prompt>"
    assert api.show_prompt_version(PROMPT, 1).source == "ai_apply"


def test_file_dash_reads_stdin_and_text_gives_it_inline(acme_repo, api):
    assert cli(acme_repo, "prompt", "version", "create", PROMPT, "--file", "-", input="from stdin\n").exit_code == 0
    assert cli(acme_repo, "prompt", "version", "create", PROMPT, "--text", "inline").exit_code == 0
    assert [api.show_prompt_version(PROMPT, n).text for n in (1, 2)] == ["from stdin\n", "inline"]


def test_list_json_has_prompt_org_and_snapshots_newest_first(acme_repo, api):
    api.create_prompt_version(PROMPT)
    api.create_prompt_version(PROMPT, text="second")
    listed = cli(acme_repo, "prompt", "version", "list", PROMPT, "--json").json
    assert set(listed) == {"promptId", "orgId", "versions"}
    assert (listed["promptId"], listed["orgId"]) == (PROMPT, ACME_ID)
    assert [set(v) for v in listed["versions"]] == [SNAPSHOT_KEYS | {"aliases"}] * 2
    assert [(v["version"], v["matchesCurrentPrompt"], v["preview"]) for v in listed["versions"]][0] == (2, False, "second")
    no_preview = cli(acme_repo, "prompt", "version", "list", PROMPT, "--json", "--no-preview").json
    assert [v["preview"] for v in no_preview["versions"]] == [None, None]


def test_list_table_stars_the_matching_version_and_shows_previews_on_request(acme_repo, api):
    api.create_prompt_version(PROMPT, label="Live one")
    api.create_prompt_version(PROMPT, text="draft text", label="Draft")
    lines = cli(acme_repo, "prompt", "version", "list", PROMPT).stdout.splitlines()
    assert lines[0].split() == ["VERSION", "LABEL", "DISPLAY", "SOURCE", "CREATED", "ALIASES"]
    assert lines[1].split()[:2] == ["2", "Draft"] and lines[2].split()[:3] == ["*", "1", "Live"]
    with_preview = cli(acme_repo, "prompt", "version", "list", PROMPT, "--preview").stdout.splitlines()
    assert with_preview[0].split()[-1] == "PREVIEW" and with_preview[1].endswith("draft text")
    assert with_preview[2].endswith("<prompt><role>Leasing assistant</role>…")


def test_show_json_is_the_snapshot_with_the_full_text(acme_repo, api):
    api.create_prompt_version(PROMPT, text="full text", description="Why.")
    shown = cli(acme_repo, "prompt", "version", "show", PROMPT, "1", "--json").json
    assert set(shown) == SNAPSHOT_KEYS | {"text", "aliases"}
    assert (shown["text"], shown["description"], shown["version"]) == ("full text", "Why.", 1)
    human = cli(acme_repo, "prompt", "version", "show", PROMPT, "1").stdout
    assert human.startswith(f"Version 1 of prompt {PROMPT} in org {ACME_ID}\n") and human.endswith("\n\nfull text\n")


def test_diff_prints_the_unified_diff(acme_repo, api):
    api.create_prompt_version(PROMPT, text="a\nb\n")
    api.create_prompt_version(PROMPT, text="a\nc\n")
    result = cli(acme_repo, "prompt", "version", "diff", PROMPT, "1", "2")
    assert result.stdout == f"--- {PROMPT} version 1\n+++ {PROMPT} version 2\n@@ -1,2 +1,2 @@\n a\n-b\n+c\n"
    as_json = cli(acme_repo, "prompt", "version", "diff", PROMPT, "1", "2", "--json").json
    assert (as_json["fromVersion"], as_json["toVersion"], as_json["diff"]) == (1, 2, result.stdout)


def test_restore_prints_the_commit_and_then_nothing_to_do(acme_repo, api):
    api.create_prompt_version(PROMPT, text="older")
    api.create_prompt_version(PROMPT)
    result = cli(acme_repo, "prompt", "restore", PROMPT, "1")
    assert result.exit_code == 0
    commit = git(acme_repo, "rev-parse", f"refs/heads/orgs/{ACME_ID}").strip()
    assert result.stdout == f"Restored prompt {PROMPT} in org {ACME_ID} to version 1: commit {commit[:12]}\n"
    again = cli(acme_repo, "prompt", "restore", PROMPT, "1", "--json").json
    assert (again["message"], again["skipped"], again["commit"], again["versionId"]) == \
        ("No changes", True, commit, api.show_prompt_version(PROMPT, 1).id)
    assert live_prompt(acme_repo)["body"] == "older"


# --- errors -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command", [["version", "create"], ["version", "list"], ["version", "show", "{}", "1"],
                                     ["version", "diff", "{}", "1", "2"], ["restore", "{}", "1"]])
def test_an_unknown_prompt_is_exit_3_with_the_platform_error(acme_repo, command):
    refs = all_refs(acme_repo)
    args = [part.format("65f9b1c2e8a1d4e001a0ffff") for part in command]
    if "{}" not in command:
        args.append("65f9b1c2e8a1d4e001a0ffff")
    result = cli(acme_repo, "prompt", *args, "--json")
    assert result.exit_code == 3
    assert result.json == {"error": "Prompt not found",
                           "details": "prompt 65f9b1c2e8a1d4e001a0ffff not found in any org (gitsnap org list)"}
    assert all_refs(acme_repo) == refs


def test_a_prompt_unknown_in_the_named_org_is_not_found(acme_repo):
    result = cli(acme_repo, "prompt", "version", "list", "65f9b1c2e8a1d4e001a0ffff", "--org", ACME_ID, "--json")
    assert (result.exit_code, result.json["error"]) == (3, "Prompt not found")
    assert result.json["details"] == f"prompt 65f9b1c2e8a1d4e001a0ffff not found in org {ACME_ID} (gitsnap org export {ACME_ID})"


@pytest.mark.parametrize("command", [["show", PROMPT, "4"], ["diff", PROMPT, "1", "4"]])
def test_an_unknown_version_is_exit_3_with_the_platform_error(acme_repo, api, command):
    api.create_prompt_version(PROMPT)
    result = cli(acme_repo, "prompt", "version", *command, "--json")
    assert result.exit_code == 3
    assert result.json == {"error": "Version not found",
                           "details": f"version 4 of prompt {PROMPT} not found in org {ACME_ID} (its versions are 1 to 1)"}
    human = cli(acme_repo, "prompt", "restore", PROMPT, "4")
    assert (human.exit_code, human.stdout) == (3, "")
    assert human.stderr == f"gitsnap: version 4 of prompt {PROMPT} not found in org {ACME_ID} (its versions are 1 to 1)\n"


def test_a_live_prompt_without_versions_has_no_version_to_show(acme_repo):
    result = cli(acme_repo, "prompt", "version", "show", PROMPT, "1", "--json")
    assert (result.exit_code, result.json["error"]) == (3, "Version not found")
    assert "it has no versions yet" in result.json["details"]


@pytest.mark.parametrize("args, message", [
    (["--text", "a", "--file", "b"], "gitsnap: give the text with --text or with --file, not both"),
    (["--source", "manual"], "'manual' is not one of 'manual_save', 'ai_apply', 'checkpoint'"),
    (["--label", "two\nlines"], "gitsnap: label 'two\\nlines' must be one line of text (it holds a line break)"),
    (["--title", "two\nlines"], "gitsnap: title 'two\\nlines' must be one line"),
    (["--display-version", "v1\nv2"], "gitsnap: display version 'v1\\nv2' must be one line"),
    (["--org", "../x"], "gitsnap: org '../x' is not a valid identifier"),
])
def test_bad_create_options_are_exit_2_and_change_nothing(acme_repo, api, args, message):
    api.create_prompt_version(PROMPT)
    refs, objects = all_refs(acme_repo), all_objects(acme_repo)
    result = cli(acme_repo, "prompt", "version", "create", PROMPT, *args)
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert (all_refs(acme_repo), all_objects(acme_repo)) == (refs, objects)


@pytest.mark.parametrize("command, bad", [(["version", "create", "../x"], "../x"), (["version", "list", "a b"], "a b"),
                                          (["version", "show", "x.lock", "1"], "x.lock"), (["restore", "a..b", "1"], "a..b")])
def test_a_bad_prompt_id_is_exit_2(acme_repo, command, bad):
    result = cli(acme_repo, "prompt", *command)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"gitsnap: prompt id {bad!r} is not a valid identifier")


@pytest.mark.parametrize("args", [["show", PROMPT, "one!"], ["diff", PROMPT, "x y", "1"], ["list", PROMPT, "--limit", "0"]])
def test_a_version_or_limit_that_is_not_a_number_is_exit_2(acme_repo, args):  # nor latest, nor an alias name
    result = cli(acme_repo, "prompt", "version", *args)
    assert result.exit_code == 2 and "Traceback" not in result.stderr


def test_a_missing_file_is_not_found_and_a_non_utf8_file_is_invalid(acme_repo, tmp_path):
    missing = cli(acme_repo, "prompt", "version", "create", PROMPT, "--file", str(tmp_path / "nope.md"), "--json")
    assert (missing.exit_code, missing.json["error"]) == (3, "File not found")
    latin = tmp_path / "latin.md"
    latin.write_bytes(b"caf\xe9")
    bad = cli(acme_repo, "prompt", "version", "create", PROMPT, "--file", str(latin))
    assert bad.exit_code == 2
    assert bad.stderr == f"gitsnap: {latin}: not UTF-8 text (byte 0xe9 at offset 3)\n"
    assert REF not in all_refs(acme_repo)


def test_a_prompt_in_two_orgs_is_exit_2_naming_both(acme_repo, tmp_path):
    other = "64ee9a8b1e7f2a0011223355"
    import_acme(acme_repo, tmp_path, org_id=other)
    refs = all_refs(acme_repo)
    result = cli(acme_repo, "prompt", "version", "create", PROMPT)
    assert result.exit_code == 2
    assert result.stderr == f"gitsnap: prompt {PROMPT} is in several orgs: {ACME_ID}, {other}; choose one with --org\n"
    assert all_refs(acme_repo) == refs
    assert cli(acme_repo, "prompt", "version", "create", PROMPT, "--org", other).exit_code == 0
