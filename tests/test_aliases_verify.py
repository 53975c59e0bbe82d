"""``gitsnap verify`` of alias refs: what gitsnap wrote passes; moves made wrongly with plain git are named."""

from __future__ import annotations

import pytest

from gitsnap import Store
from gitsnap.gitmessage import format_message
from tests.conftest import ACME_ID, LEASING_PROMPT_ID, git, run_cli
from tests.test_aliases import PRODUCTION, VERSIONS, version_id

PROMPT = LEASING_PROMPT_ID
OTHER_PROMPT = "65f9b1c2e8a1d4e001a0c001"


@pytest.fixture
def aliased(acme_repo):
    """Versions 1..3 of the leasing prompt, one of another prompt; production moved 1 -> 2."""
    with Store(acme_repo) as store:
        for n in (1, 2, 3):
            store.create_prompt_version(PROMPT, text=f"text {n}")
        store.create_prompt_version(OTHER_PROMPT, text="other")
        store.set_prompt_alias(PROMPT, "production", 1)
        store.set_prompt_alias(PROMPT, "production", 2)
    return acme_repo


def move_by_hand(repo, version: str, trailers: dict[str, str], tree: str | None = None,
                 parents: list[str] | None = None, ref: str = PRODUCTION) -> str:
    """A move made by plain git on top of the alias's tip (gitsnap's trailers, with ``trailers`` changed)."""
    tip = git(repo, "rev-parse", ref).strip()
    fields = {"Alias": "production", "Version": "3", "Version-Id": version, "Previous-Version": "2",
              "Prompt-Id": PROMPT, "Org": ACME_ID, **trailers}
    message = format_message("Move by hand", "", [(k, v) for k, v in fields.items() if v is not None])
    tree = tree or git(repo, "rev-parse", f"{version}^{{tree}}").strip()
    args = [arg for parent in (parents if parents is not None else [tip, version]) for arg in ("-p", parent)]
    commit = git(repo, "commit-tree", tree, *args, input=message.encode()).strip()
    git(repo, "update-ref", ref, commit)
    return commit


def problems(repo) -> list[tuple[str, str]]:
    return [(p.ref, p.problem) for p in Store(repo).verify().problems]


def test_what_gitsnap_wrote_passes_with_aliases_and_moves_counted(aliased):
    Store(aliased).delete_prompt_alias(PROMPT, "production")
    Store(aliased).set_prompt_alias(PROMPT, "staging", "latest")
    result = run_cli("verify", "--json", repo=aliased)
    assert result.exit_code == 0, result.stdout
    assert (result.json["checked"]["aliases"], result.json["checked"]["aliasMoves"]) == (2, 4)
    assert run_cli("verify", repo=aliased).stdout.endswith(", 2 aliases (4 moves)\n")


def test_a_move_to_a_version_of_another_prompt_is_named(aliased):
    other = git(aliased, "rev-parse", f"refs/prompts/{ACME_ID}/{OTHER_PROMPT}").strip()
    commit = move_by_hand(aliased, other, {"Version": "1"})
    assert problems(aliased) == [(PRODUCTION, f"move {commit}: version {other} is not a version of prompt {PROMPT} "
                                              f"(not on {VERSIONS})")]
    assert run_cli("verify", repo=aliased).exit_code == 1


def test_a_version_trailer_that_is_not_the_versions_number_is_named(aliased):
    commit = move_by_hand(aliased, version_id(aliased, 3), {"Version": "2"})
    assert problems(aliased) == [(PRODUCTION, f"move {commit}: Version is 2, but {version_id(aliased, 3)} is "
                                              "version 3")]


def test_a_second_parent_that_is_not_the_version_id_is_named(aliased):
    tip = git(aliased, "rev-parse", PRODUCTION).strip()
    commit = move_by_hand(aliased, version_id(aliased, 3), {}, parents=[tip, version_id(aliased, 1)])
    [(ref, problem)] = problems(aliased)
    assert ref == PRODUCTION and problem.startswith(f"move {commit}: its parents are")


def test_a_tree_that_is_not_the_versions_tree_is_named(aliased):
    tree = git(aliased, "rev-parse", f"{version_id(aliased, 1)}^{{tree}}").strip()
    commit = move_by_hand(aliased, version_id(aliased, 3), {}, tree=tree)
    assert problems(aliased) == [(PRODUCTION, f"move {commit}: its tree is not version 3's tree")]


def test_a_previous_version_that_is_not_where_the_last_move_left_it_is_named(aliased):
    commit = move_by_hand(aliased, version_id(aliased, 3), {"Previous-Version": "1"})
    assert problems(aliased) == [(PRODUCTION, f"move {commit}: Previous-Version is 1, but the move before it left "
                                              "the alias at 2")]


def test_trailers_naming_another_alias_or_prompt_are_named(aliased):
    commit = move_by_hand(aliased, version_id(aliased, 3), {"Alias": "staging"})
    [(ref, problem)] = problems(aliased)
    assert (ref, problem) == (PRODUCTION, f"move {commit}: its Org/Prompt-Id/Alias trailers say "
                                          f"{ACME_ID}/{PROMPT}/staging, the ref names {ACME_ID}/{PROMPT}/production")


def test_a_commit_without_alias_trailers_is_named(aliased):
    tip = git(aliased, "rev-parse", PRODUCTION).strip()
    commit = git(aliased, "commit-tree", f"{tip}^{{tree}}", "-p", tip, "-m", "hand-made").strip()
    git(aliased, "update-ref", PRODUCTION, commit)
    [(ref, problem)] = problems(aliased)
    assert ref == PRODUCTION and f"commit {commit} is not a gitsnap alias move" in problem


def test_alias_refs_of_a_shape_gitsnap_never_writes_are_named(aliased):
    tip = git(aliased, "rev-parse", PRODUCTION).strip()
    for ref in (f"refs/prompt-aliases/{ACME_ID}/{PROMPT}/latest", f"refs/prompt-aliases/{ACME_ID}/{PROMPT}/7",
                f"refs/prompt-aliases/{ACME_ID}/stray"):
        git(aliased, "update-ref", ref, tip)
    found = dict(problems(aliased))
    assert len(found) == 3 and all(p.startswith("not a gitsnap ref: prompt aliases are") for p in found.values())


def test_an_unreadable_alias_ref_leaves_the_listings_working_and_is_named(aliased):
    tip = git(aliased, "rev-parse", PRODUCTION).strip()
    canary = f"refs/prompt-aliases/{ACME_ID}/{PROMPT}/canary"
    git(aliased, "update-ref", canary, git(aliased, "commit-tree", f"{tip}^{{tree}}", "-m", "foreign").strip())
    listed = run_cli("prompt", "alias", "list", PROMPT, "--json", repo=aliased)
    assert listed.exit_code == 0
    assert [a["alias"] for a in listed.json["aliases"]] == ["production"]
    assert [u["ref"] for u in listed.json["unreadable"]] == [canary]
    assert "warning:" in run_cli("prompt", "alias", "list", PROMPT, repo=aliased).stderr
    versions = run_cli("prompt", "version", "list", PROMPT, "--json", repo=aliased).json["versions"]
    assert [v["aliases"] for v in versions] == [[], ["production"], []]
    assert run_cli("prompt", "version", "show", PROMPT, "canary", repo=aliased).exit_code == 1  # damaged: not "missing"
