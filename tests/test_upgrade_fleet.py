"""snapshot upgrade of a fleet: --all-from, several --to-org, outcomes side by side, answers, races."""

from __future__ import annotations

import json

import pytest

from gitsnap import Store
from tests.conftest import ALEX_ID, all_refs, git, run_cli
from tests.upgrading import (
    A1,
    OTHER,
    P1,
    REF,
    TENANT,
    THIRD,
    TM1,
    World,
    assert_clean,
    edit,
    entity,
    live,
    onboard,
    snapshot,
)

ELSEWHERE = "66bb00000000000000000001"  # applied from another reference org's snapshot
GLOBEX_REF = "66bb0000000000000000ffff"


def rename_p1(name: str):
    return lambda doc: entity(doc, "pipelines", P1).update(name=name)


@pytest.fixture
def fleet(acme_repo, tmp_path) -> tuple[World, str]:
    """TENANT (merges cleanly) and OTHER (conflicts) from the baseline; THIRD from the new snapshot; the new id."""
    with Store(acme_repo) as api:
        world = World(acme_repo, api, snapshot(api, "Baseline"))
        onboard(api, world.base, TENANT, "Initech")
        onboard(api, world.base, OTHER, "Globex")
        world.customise(lambda doc: entity(doc, "templates", TM1).update(channel="email"), org=TENANT)
        world.customise(rename_p1("Globex leasing"), org=OTHER)
        new = world.reference(rename_p1("Reference leasing"), name="v2")
        onboard(api, new, THIRD, "Umbrella")
        other_ref = {"org": {"id": GLOBEX_REF, "name": "Other reference"},
                     "users": [{"id": "u1", "name": "U", "email": "u@example.com"}],
                     "pipelines": [{"id": P1, "name": "Sales"}]}
        api.import_org(json.dumps(other_ref).encode())
        api.apply_snapshot(api.create_snapshot(GLOBEX_REF, "u1", "Other").snapshot.id, ELSEWHERE, "Elsewhere")
        yield world, new


def test_all_from_upgrades_every_org_based_on_the_reference_each_on_its_own(fleet):
    world, new = fleet
    tips = {org: world.tip(org) for org in (TENANT, OTHER, THIRD, ELSEWHERE, REF)}
    result = world.api.upgrade_snapshot(new, all_from=REF)
    assert [(o.org_id, o.status) for o in result.orgs] == [
        (TENANT, "upgraded"), (OTHER, "conflicts"), (THIRD, "up to date")]
    assert (result.counts.upgraded, result.counts.conflicts, result.counts.up_to_date, result.exit_code) == (1, 1, 1, 4)
    assert result.message == "3 orgs: 1 upgraded, 1 up to date, 1 with conflicts"
    assert world.tip(TENANT) != tips[TENANT]
    assert entity(world.live(TENANT), "pipelines", P1)["name"] == "Reference leasing"
    assert {org: world.tip(org) for org in (OTHER, THIRD, ELSEWHERE, REF)} == \
        {org: tips[org] for org in (OTHER, THIRD, ELSEWHERE, REF)}
    assert_clean(world.repo)


def test_all_from_on_the_command_line_exits_4_with_one_line_per_org(fleet):
    world, new = fleet
    result = run_cli("snapshot", "upgrade", new, "--all-from", REF, repo=world.repo)
    assert result.exit_code == 4
    lines = result.stdout.splitlines()
    assert lines[1].startswith(f"  upgraded    {TENANT}  Initech: commit {world.tip(TENANT)[:12]} from snapshot ")
    assert lines[2] == f"  conflicts   {OTHER}  Globex: 1 conflict (from snapshot {world.base})"
    assert lines[3] == f'      pipelines/{P1}/name: "Leasing inquiries" → "Globex leasing" / "Reference leasing"'
    assert lines[4] == f"  up to date  {THIRD}  Umbrella: already based on snapshot {new}"
    assert lines[-1] == "3 orgs: 1 upgraded, 1 up to date, 1 with conflicts"


def test_a_resolve_path_applies_in_the_orgs_where_it_matches_a_conflict(fleet):
    world, new = fleet
    world.customise(rename_p1("Initech leasing"), org=TENANT)  # now the same conflict path in two orgs
    world.customise(lambda doc: entity(doc, "automations", A1).update(enabled=False), org=OTHER)
    result = world.api.upgrade_snapshot(new, all_from=REF, resolve={f"pipelines/{P1}/name": "ours"})
    assert [o.status for o in result.orgs] == ["upgraded", "upgraded", "up to date"] and result.exit_code == 0
    assert entity(world.live(TENANT), "pipelines", P1)["name"] == "Initech leasing"
    assert entity(world.live(OTHER), "pipelines", P1)["name"] == "Globex leasing"
    assert_clean(world.repo)


def test_a_resolve_path_needs_to_match_in_one_org_only(fleet):
    world, new = fleet
    result = world.api.upgrade_snapshot(new, to_orgs=[TENANT, OTHER], resolve={f"pipelines/{P1}/name": "theirs"})
    assert [o.status for o in result.orgs] == ["upgraded", "upgraded"]
    assert [c.path for c in result.orgs[1].resolved] == [f"pipelines/{P1}/name"] and result.orgs[0].resolved == []


def test_a_resolve_path_matching_in_no_org_writes_nothing_in_any(fleet):
    world, new = fleet
    refs = all_refs(world.repo)
    result = run_cli("snapshot", "upgrade", new, "--all-from", REF, "--resolve", f"pipelines/{P1}=ours",
                     "--resolve", f"templates/{TM1}/channel=ours", "--json", repo=world.repo)
    assert result.exit_code == 2
    assert result.json["details"].startswith(
        f"no conflict at resolve path 'templates/{TM1}/channel' in any of the orgs")
    assert all_refs(world.repo) == refs


def test_named_orgs_are_upgraded_and_one_not_derived_exits_2(fleet):
    world, new = fleet
    result = run_cli("snapshot", "upgrade", new, "--to-org", TENANT, "--to-org", REF, "--to-org", TENANT, "--json",
                     repo=world.repo)
    assert result.exit_code == 2
    assert [(o["orgId"], o["status"]) for o in result.json["orgs"]] == [(TENANT, "upgraded"), (REF, "not derived")]
    assert result.json["orgs"][0]["commit"] == world.tip(TENANT)
    assert result.json["counts"] == {"upgraded": 1, "upToDate": 0, "conflicts": 0, "notDerived": 1}
    assert_clean(world.repo)


def test_conflicts_take_precedence_over_not_derived_in_the_exit_status(fleet):
    world, new = fleet
    result = world.api.upgrade_snapshot(new, to_orgs=[OTHER, REF])
    assert [o.status for o in result.orgs] == ["conflicts", "not derived"] and result.exit_code == 4


def test_all_from_an_org_nobody_derives_from_upgrades_none(fleet):
    world, new = fleet
    result = run_cli("snapshot", "upgrade", new, "--all-from", ELSEWHERE, "--json", repo=world.repo)
    assert result.exit_code == 0 and result.json["orgs"] == [] and result.json["message"] == "0 orgs"


def test_all_from_finds_the_reference_by_the_snapshot_tag_when_the_commit_does_not_name_it(fleet):
    world, new = fleet
    # A commit naming its base snapshot only, without Source-Org (as no gitsnap command writes), on OTHER.
    message = f"Rebased by hand\n\nBased-On-Snapshot: {world.base}\n"
    tree = git(world.repo, "rev-parse", f"{live(OTHER)}^{{tree}}").strip()
    git(world.repo, "update-ref", live(OTHER),
        git(world.repo, "commit-tree", tree, "-p", world.tip(OTHER), input=message.encode()).strip())
    result = world.api.upgrade_snapshot(new, all_from=REF)
    assert [o.org_id for o in result.orgs] == [TENANT, OTHER, THIRD]


def test_all_from_sets_aside_an_org_it_cannot_read(fleet):
    world, new = fleet
    (world.repo / "refs" / "heads" / "orgs" / "broken").write_text("1" * 40 + "\n")  # a commit it does not have
    result = run_cli("snapshot", "upgrade", new, "--all-from", REF, "--json", repo=world.repo)
    assert result.exit_code == 4
    assert [o["orgId"] for o in result.json["orgs"]] == [TENANT, OTHER, THIRD]
    assert [entry["ref"] for entry in result.json["unreadable"]] == ["refs/heads/orgs/broken"]
    assert "gitsnap: warning: refs/heads/orgs/broken cannot be read and was left out" in result.stderr


def test_progress_counts_the_merges_then_the_commits(fleet):
    world, new = fleet
    seen = []
    world.api.upgrade_snapshot(new, all_from=REF, progress=seen.append, strategy="theirs", user_id=ALEX_ID)
    assert seen == ["\rMerging: 1/3", "\rMerging: 2/3", "\rMerging: 3/3\n", "\rCommitting: 1/2", "\rCommitting: 2/2\n"]


def test_a_dry_run_moves_nothing_and_announces_what_the_real_run_does(fleet):
    world, new = fleet
    dates = {"GIT_COMMITTER_DATE": "1778835600 +0000", "GIT_AUTHOR_DATE": "1778835600 +0000"}
    refs, objects = all_refs(world.repo), git(world.repo, "rev-list", "--objects", "--all")
    args = ["--json", "snapshot", "upgrade", new, "--all-from", REF, "--strategy", "theirs"]
    dry = run_cli(*args, "--dry-run", repo=world.repo, env=dates)
    assert dry.exit_code == 0, dry.stderr
    assert all_refs(world.repo) == refs and git(world.repo, "rev-list", "--objects", "--all") == objects
    assert dry.json["dryRun"] is True
    assert [c["ref"] for c in dry.json["changes"]] == [live(TENANT), live(OTHER)]
    real = run_cli(*args, repo=world.repo, env=dates)
    assert real.exit_code == 0, real.stderr
    after = all_refs(world.repo)
    assert {c["ref"]: (c["old"], c["new"]) for c in dry.json["changes"]} == \
        {ref: (refs[ref], after[ref]) for ref in after if after[ref] != refs.get(ref)}
    assert {k: v for k, v in dry.json.items() if k not in ("dryRun", "changes")} == real.json
    assert_clean(world.repo)


# --- races: an org that moves between its merge and its commit ---------------------------------------


def test_an_org_that_moved_since_its_merge_is_merged_again_at_its_new_tip(fleet):
    world, new = fleet
    moved = []
    with Store(world.repo) as elsewhere:
        def meanwhile(text: str) -> None:  # every merge done, nothing written yet: another writer imports
            if text == "\rMerging: 1/1\n":
                moved.append(edit(elsewhere, TENANT, lambda doc: entity(doc, "automations", A1).update(enabled=False)))

        org, = world.api.upgrade_snapshot(new, to_orgs=[TENANT], progress=meanwhile).orgs
    assert org.status == "upgraded" and git(world.repo, "rev-parse", f"{live(TENANT)}^").strip() == moved[0]
    doc = world.live(TENANT)
    assert entity(doc, "automations", A1)["enabled"] is False
    assert entity(doc, "pipelines", P1)["name"] == "Reference leasing"
    assert entity(doc, "templates", TM1)["channel"] == "email"
    assert_clean(world.repo)


def test_an_org_that_moved_into_a_conflict_is_reported_and_left_as_it_is(fleet):
    world, new = fleet
    with Store(world.repo) as elsewhere:
        def meanwhile(text: str) -> None:
            if text == "\rMerging: 1/1\n":
                edit(elsewhere, TENANT, rename_p1("Initech leasing"))

        tip_before = world.tip(TENANT)
        org, = world.api.upgrade_snapshot(new, to_orgs=[TENANT], progress=meanwhile).orgs
    assert org.status == "conflicts" and [c.path for c in org.conflicts] == [f"pipelines/{P1}/name"]
    assert org.commit == world.tip(TENANT) != tip_before  # the other writer's commit, and nothing on top
    assert_clean(world.repo)
