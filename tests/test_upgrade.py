"""snapshot upgrade of one org: the clean merge, each kind of conflict, answers, provenance, bad input."""

from __future__ import annotations

import pytest

from gitsnap import Conflict, InvalidInput, NotFound, Store
from gitsnap.merge import ABSENT
from tests.conftest import ALEX_ID, LEASING_PROMPT_ID, all_refs, git, run_cli
from tests.upgrading import (
    A1,
    A2,
    OWN,
    P1,
    P2,
    REF,
    TENANT,
    TM1,
    TM2,
    World,
    assert_clean,
    entity,
    live,
    onboard,
    snapshot,
)


@pytest.fixture
def world(acme_repo) -> World:
    with Store(acme_repo) as api:
        base = snapshot(api, "Baseline")
        onboard(api, base, TENANT, "Initech")
        yield World(acme_repo, api, base)


def rename_p1(name: str):
    return lambda doc: entity(doc, "pipelines", P1).update(name=name)


# --- a clean merge -----------------------------------------------------------------------------------


def tenant_edits(doc: dict) -> None:
    entity(doc, "pipelines", P1)["name"] = "Initech leasing"
    doc["automations"].append({"id": "initech-welcome", "name": "Welcome", "enabled": True})
    doc["templates"] = [t for t in doc["templates"] if t["id"] != TM2]


def reference_edits(doc: dict) -> None:
    entity(doc, "pipelines", P1)["description"] = "From first contact to signed lease, in 5 stages."
    entity(doc, "automations", A1)["trigger"]["event"] = "tour.confirmed"
    entity(doc, "prompts", LEASING_PROMPT_ID)["body"] += "\n<rule>Never discuss other tenants.</rule>"
    doc["templates"].append({"id": "new-template", "name": "Renewal reminder", "channel": "email"})


def test_a_clean_merge_takes_both_sides_changes_in_one_commit(world):
    world.customise(tenant_edits)
    tip, before = world.tip(), world.tree(live(TENANT))
    new = world.reference(reference_edits)

    result = world.api.upgrade_snapshot(new, to_orgs=[TENANT])

    org, = result.orgs
    assert (org.status, org.from_snapshot_id, org.org_name) == ("upgraded", world.base, "Initech")
    assert org.commit == world.tip() and git(world.repo, "rev-parse", f"{live(TENANT)}^").strip() == tip
    doc = world.live()
    assert entity(doc, "pipelines", P1)["name"] == "Initech leasing"
    assert entity(doc, "pipelines", P1)["description"] == "From first contact to signed lease, in 5 stages."
    assert entity(doc, "automations", A1)["trigger"]["event"] == "tour.confirmed"
    assert entity(doc, "prompts", LEASING_PROMPT_ID)["body"].endswith("<rule>Never discuss other tenants.</rule>")
    assert {a["id"] for a in doc["automations"]} >= {"initech-welcome", A2}
    templates = {t["id"] for t in doc["templates"]}
    assert templates >= {"new-template", TM1} and TM2 not in templates
    after = world.tree(live(TENANT))
    assert {name: after[name] for name in OWN} == {name: before[name] for name in OWN}
    assert_clean(world.repo)


def test_entities_taken_from_one_side_reuse_its_blob(world):
    world.customise(tenant_edits)
    new = world.reference(reference_edits)
    world.api.upgrade_snapshot(new, to_orgs=[TENANT])
    snapshot_tag = f"snapshots/{REF}/{new}"
    for path in ("templates/new-template.yaml", f"automations/{A1}.yaml", f"prompts/{LEASING_PROMPT_ID}.yaml"):
        assert world.blob(live(TENANT), path) == world.blob(snapshot_tag, path)
    assert world.blob(live(TENANT), f"pipelines/{P2}.yaml") == world.blob(snapshot_tag, f"pipelines/{P2}.yaml")


def test_the_summary_counts_what_the_merge_did_to_each_collection(world):
    world.customise(tenant_edits)
    org, = world.api.upgrade_snapshot(world.reference(reference_edits), to_orgs=[TENANT]).orgs
    assert list(org.summary) == ["pipelines", "automations", "prompts", "templates"]
    counts = {name: (s.taken, s.merged, s.added, s.deleted) for name, s in org.summary.items()}
    assert counts == {"pipelines": (0, 1, 0, 0), "automations": (1, 0, 0, 0), "prompts": (1, 0, 0, 0),
                      "templates": (0, 0, 1, 0)}


def test_the_commit_records_provenance_in_trailers_git_reads(world):
    world.customise(tenant_edits)
    new = world.reference(reference_edits, name="Baseline v2")
    world.api.upgrade_snapshot(new, to_orgs=[TENANT])
    assert world.trailer("Based-On-Snapshot") == new
    assert world.trailer("Upgraded-From-Snapshot") == world.base
    assert world.trailer("Based-On-Commit") == git(world.repo, "rev-parse", f"snapshots/{REF}/{new}^{{commit}}").strip()
    assert (world.trailer("Org"), world.trailer("Source-Org"), world.trailer("User")) == (TENANT, REF, "")
    message = git(world.repo, "log", "-1", "--format=%B", live(TENANT))
    assert message.startswith("Upgrade Initech to snapshot Baseline v2\n\n")
    assert "pipelines: 1 merged; automations: 1 taken; prompts: 1 taken; templates: 1 added\n" in message


def test_the_user_is_the_author_as_in_apply(world):
    new = world.reference(reference_edits)
    world.api.upgrade_snapshot(new, to_orgs=[TENANT], user_id=ALEX_ID)
    assert git(world.repo, "log", "-1", "--format=%an <%ae>|%cn", live(TENANT)).strip() == \
        "Alex Rep <alex@acme.example>|Pat Superadmin"
    assert world.trailer("User") == ALEX_ID


def test_org_names_are_data_in_the_subject(world):
    world.customise(lambda doc: doc["org"].update(name="Initech\nEvil: yes"))
    world.api.upgrade_snapshot(world.reference(reference_edits), to_orgs=[TENANT])
    subject = git(world.repo, "log", "-1", "--format=%s", live(TENANT)).strip()
    assert subject == "Upgrade Initech\\nEvil: yes to snapshot Next"
    assert world.trailer("Evil") == ""
    assert_clean(world.repo)


# --- conflicts ---------------------------------------------------------------------------------------


def conflicts_of(world: World, new: str, **options) -> list[dict]:
    """Upgrade TENANT, expecting conflicts and nothing written; their JSON."""
    tip, refs = world.tip(), all_refs(world.repo)
    org, = world.api.upgrade_snapshot(new, to_orgs=[TENANT], **options).orgs
    assert org.status == "conflicts" and org.commit == tip
    assert all_refs(world.repo) == refs
    return [c.to_json() for c in org.conflicts]


def test_one_field_changed_differently_on_both_sides_is_a_conflict(world):
    world.customise(rename_p1("Initech leasing"))
    new = world.reference(rename_p1("Reference leasing"))
    assert conflicts_of(world, new) == [{
        "collection": "pipelines", "id": P1, "field": "name", "path": f"pipelines/{P1}/name",
        "base": "Leasing inquiries", "ours": "Initech leasing", "theirs": "Reference leasing"}]


def test_a_delete_against_a_change_is_a_conflict_of_the_whole_entity(world):
    world.customise(lambda doc: doc.update(automations=[a for a in doc["automations"] if a["id"] != A1]))
    new = world.reference(lambda doc: entity(doc, "automations", A1)["trigger"].update(event="tour.confirmed"))
    conflict, = conflicts_of(world, new)
    assert (conflict["collection"], conflict["id"], conflict["field"], conflict["path"]) == \
        ("automations", A1, "", f"automations/{A1}")
    assert "ours" not in conflict  # deleted on our side: absent, which is not null
    assert conflict["base"]["trigger"] == {"event": "tour.booked"}
    assert conflict["theirs"]["trigger"] == {"event": "tour.confirmed"}


def test_an_entity_added_on_both_sides_differently_conflicts_where_they_differ(world):
    added = {"id": "welcome", "name": "Welcome", "channel": "sms"}
    world.customise(lambda doc: doc["templates"].append({**added, "body": "Hi {{first_name}}"}))
    new = world.reference(lambda doc: doc["templates"].append({**added, "body": "Hello {{first_name}}"}))
    assert conflicts_of(world, new) == [{
        "collection": "templates", "id": "welcome", "field": "body", "path": "templates/welcome/body",
        "ours": "Hi {{first_name}}", "theirs": "Hello {{first_name}}"}]  # no base: it is absent


def test_the_same_change_on_both_sides_is_taken_once(world):
    world.customise(rename_p1("Leasing"))
    world.api.upgrade_snapshot(world.reference(rename_p1("Leasing")), to_orgs=[TENANT])
    assert entity(world.live(), "pipelines", P1)["name"] == "Leasing"


# --- answers -----------------------------------------------------------------------------------------


@pytest.fixture
def two_conflicts(world) -> str:
    """TENANT and the new snapshot renamed P1 differently and changed A1's trigger differently."""
    def ours(doc):
        rename_p1("Initech leasing")(doc)
        entity(doc, "automations", A1)["trigger"]["event"] = "tour.requested"

    def theirs(doc):
        rename_p1("Reference leasing")(doc)
        entity(doc, "automations", A1)["trigger"]["event"] = "tour.confirmed"
        entity(doc, "templates", TM1)["channel"] = "email"

    world.customise(ours)
    return world.reference(theirs)


def test_a_resolve_path_answers_its_conflict(world, two_conflicts):
    org, = world.api.upgrade_snapshot(two_conflicts, to_orgs=[TENANT], resolve={
        f"pipelines/{P1}/name": "theirs", f"automations/{A1}/trigger.event": "ours"}).orgs
    assert org.status == "upgraded" and org.conflicts == []
    assert [(c.path, c.resolution) for c in org.resolved] == [
        (f"pipelines/{P1}/name", "theirs"), (f"automations/{A1}/trigger.event", "ours")]
    doc = world.live()
    assert entity(doc, "pipelines", P1)["name"] == "Reference leasing"
    assert entity(doc, "automations", A1)["trigger"]["event"] == "tour.requested"
    assert entity(doc, "templates", TM1)["channel"] == "email"
    message = git(world.repo, "log", "-1", "--format=%B", live(TENANT))
    assert f"Resolved: pipelines/{P1}/name=theirs\nResolved: automations/{A1}/trigger.event=ours\n" in message
    assert_clean(world.repo)


def test_a_strategy_answers_every_conflict_no_path_answers(world, two_conflicts):
    org, = world.api.upgrade_snapshot(two_conflicts, to_orgs=[TENANT], strategy="ours",
                                      resolve={f"pipelines/{P1}/name": "theirs"}).orgs
    assert org.status == "upgraded"
    assert [(c.path, c.resolution) for c in org.resolved] == [
        (f"pipelines/{P1}/name", "theirs"), (f"automations/{A1}/trigger.event", "ours")]
    doc = world.live()
    assert (entity(doc, "pipelines", P1)["name"], entity(doc, "automations", A1)["trigger"]["event"]) == \
        ("Reference leasing", "tour.requested")


def test_answering_some_conflicts_leaves_the_others_and_writes_nothing(world, two_conflicts):
    conflicts = conflicts_of(world, two_conflicts, resolve={f"pipelines/{P1}/name": "theirs"})
    assert [c["path"] for c in conflicts] == [f"automations/{A1}/trigger.event"]


def test_an_entity_path_answers_a_delete_against_a_change(world):
    world.customise(lambda doc: doc.update(automations=[a for a in doc["automations"] if a["id"] != A1]))
    new = world.reference(lambda doc: entity(doc, "automations", A1)["trigger"].update(event="tour.confirmed"))
    org, = world.api.upgrade_snapshot(new, to_orgs=[TENANT], resolve={f"automations/{A1}": "ours"}).orgs
    assert org.status == "upgraded" and A1 not in {a["id"] for a in world.live()["automations"]}


def test_base_drops_a_field_both_sides_added_differently(world):
    added = {"id": "welcome", "name": "Welcome", "channel": "sms"}
    world.customise(lambda doc: doc["templates"].append({**added, "body": "Hi"}))
    new = world.reference(lambda doc: doc["templates"].append({**added, "body": "Hello"}))
    world.api.upgrade_snapshot(new, to_orgs=[TENANT], resolve={"templates/welcome/body": "base"})
    assert entity(world.live(), "templates", "welcome") == added
    assert_clean(world.repo)


def test_an_answer_that_leaves_an_invalid_entity_is_refused(world):
    world.customise(lambda doc: doc["pipelines"].append({"id": "sales", "name": "Sales"}))
    new = world.reference(lambda doc: doc["pipelines"].append({"id": "sales", "name": "Sales pipeline"}))
    refs = all_refs(world.repo)
    with pytest.raises(InvalidInput, match=f"org {TENANT}: the merged pipelines/sales is not a valid entity "
                                           r"\(name: Field required\)"):
        world.api.upgrade_snapshot(new, to_orgs=[TENANT], resolve={"pipelines/sales/name": "base"})
    assert all_refs(world.repo) == refs


def test_a_resolve_path_that_matches_no_conflict_is_refused_and_nothing_is_written(world, two_conflicts):
    refs = all_refs(world.repo)
    result = run_cli("snapshot", "upgrade", two_conflicts, "--to-org", TENANT, "--strategy", "theirs",
                     "--resolve", f"pipelines/{P1}/nmae=ours", repo=world.repo)
    assert result.exit_code == 2
    assert f"no conflict at resolve path 'pipelines/{P1}/nmae' in any of the orgs" in result.stderr
    assert f"their conflicts: automations/{A1}/trigger.event, pipelines/{P1}/name" in result.stderr
    assert all_refs(world.repo) == refs


# --- outcomes and provenance -------------------------------------------------------------------------


def test_an_org_already_based_on_the_snapshot_is_up_to_date(world):
    new = world.reference(reference_edits)
    world.api.upgrade_snapshot(new, to_orgs=[TENANT])
    tip = world.tip()
    org, = world.api.upgrade_snapshot(new, to_orgs=[TENANT]).orgs
    assert (org.status, org.from_snapshot_id, org.commit) == ("up to date", new, tip)
    assert world.tip() == tip


def test_an_org_never_applied_from_a_snapshot_is_not_derived(world):
    result = world.api.upgrade_snapshot(world.reference(reference_edits), to_orgs=[REF])
    org, = result.orgs
    assert (org.status, org.from_snapshot_id, result.exit_code) == ("not derived", None, 2)


def test_a_second_upgrade_chains_from_the_first(world):
    world.customise(tenant_edits)
    second = world.reference(reference_edits, name="v2")
    world.api.upgrade_snapshot(second, to_orgs=[TENANT])
    # v3 changes again what v2 changed: merged from v2 (not the baseline), it is no conflict
    third = world.reference(lambda doc: entity(doc, "automations", A1)["trigger"].update(event="tour.scheduled"),
                            name="v3")
    org, = world.api.upgrade_snapshot(third, to_orgs=[TENANT]).orgs
    assert (org.status, org.from_snapshot_id) == ("upgraded", second)
    assert (world.trailer("Based-On-Snapshot"), world.trailer("Upgraded-From-Snapshot")) == (third, second)
    log = git(world.repo, "log", "--format=%(trailers:key=Based-On-Snapshot,valueonly,separator=)", live(TENANT))
    assert [line for line in log.splitlines() if line] == [third, second, world.base]
    assert entity(world.live(), "automations", A1)["trigger"]["event"] == "tour.scheduled"
    assert_clean(world.repo)


def test_the_base_is_the_latest_snapshot_applied_after_later_imports(world):
    world.customise(rename_p1("Initech leasing"))
    world.customise(lambda doc: entity(doc, "templates", TM1).update(channel="email"))
    org, = world.api.upgrade_snapshot(world.reference(reference_edits), to_orgs=[TENANT]).orgs
    assert (org.status, org.from_snapshot_id) == ("upgraded", world.base)


def test_a_merge_that_changes_no_file_still_moves_the_baseline(world):
    # TENANT already made v2's change by hand: the merge changes no file, but the org is now based on v2,
    # so v3 changing that field again is taken, not a conflict against the older baseline.
    world.customise(rename_p1("Leasing"))
    second = world.reference(rename_p1("Leasing"), name="v2")
    tree = world.tree(live(TENANT))
    org, = world.api.upgrade_snapshot(second, to_orgs=[TENANT]).orgs
    assert org.status == "upgraded" and world.tree(live(TENANT)) == tree
    assert world.trailer("Based-On-Snapshot") == second
    body = git(world.repo, "log", "-1", "--format=%b", live(TENANT))
    assert f"No file changed: the org is now based on snapshot {second}" in body
    third = world.reference(rename_p1("Leasing and renewals"), name="v3")
    org, = world.api.upgrade_snapshot(third, to_orgs=[TENANT]).orgs
    assert org.status == "upgraded" and entity(world.live(), "pipelines", P1)["name"] == "Leasing and renewals"


def test_a_deleted_base_snapshot_is_read_from_the_apply_commit(world):
    world.customise(tenant_edits)
    new = world.reference(reference_edits)
    world.api.delete_snapshot(world.base)
    org, = world.api.upgrade_snapshot(new, to_orgs=[TENANT]).orgs
    assert (org.status, org.from_snapshot_id) == ("upgraded", world.base)
    assert entity(world.live(), "pipelines", P1)["name"] == "Initech leasing"


def test_a_deleted_base_snapshot_is_read_from_the_commit_the_upgrade_recorded(world):
    second = world.reference(reference_edits, name="v2")
    world.api.upgrade_snapshot(second, to_orgs=[TENANT])
    third = world.reference(lambda doc: entity(doc, "automations", A1)["trigger"].update(event="tour.scheduled"))
    world.api.delete_snapshot(second)
    org, = world.api.upgrade_snapshot(third, to_orgs=[TENANT]).orgs
    assert (org.status, org.from_snapshot_id) == ("upgraded", second)  # else: v2 -> v3 would be a conflict


def test_a_deleted_base_snapshot_no_commit_records_is_not_found(world, tmp_path):
    # A commit that names its base snapshot only (as no gitsnap upgrade writes), on top of the live tip.
    second = world.reference(reference_edits, name="v2")
    message = f"Upgrade by hand\n\nBased-On-Snapshot: {second}\nUpgraded-From-Snapshot: {world.base}\n"
    tree = git(world.repo, "rev-parse", f"{live(TENANT)}^{{tree}}").strip()
    commit = git(world.repo, "commit-tree", tree, "-p", world.tip(), input=message.encode()).strip()
    git(world.repo, "update-ref", live(TENANT), commit)
    world.api.delete_snapshot(second)
    third = world.reference(rename_p1("Leasing"), name="v3")
    refs = all_refs(world.repo)
    result = run_cli("snapshot", "upgrade", third, "--to-org", TENANT, "--json", repo=world.repo)
    assert result.exit_code == 3 and result.json["error"] == "Snapshot not found"
    assert result.json["details"].startswith(f"org {TENANT}'s base snapshot {second} was deleted, and commit {commit}")
    assert all_refs(world.repo) == refs


# --- bad input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("args, code, message", [
    (["not-an-id", "--to-org", TENANT], 2, "'not-an-id' is not a snapshot id"),
    (["0123456789abcdef01234567", "--to-org", TENANT], 3, "snapshot 0123456789abcdef01234567 not found"),
    (["{new}", "--to-org", "66aa000000000000000000ff"], 3, "org 66aa000000000000000000ff not found"),
    (["{new}", "--to-org", "../x"], 2, "org '../x' is not a valid identifier"),
    (["{new}"], 2, "give the orgs to upgrade: --to-org ORG (repeatable) or --all-from ORG, not both"),
    (["{new}", "--to-org", TENANT, "--all-from", REF], 2, "--to-org ORG (repeatable) or --all-from ORG, not both"),
    (["{new}", "--to-org", TENANT, "--resolve", f"pipelines/{P1}/name"], 2, "is not PATH=ours|theirs|base"),
    (["{new}", "--to-org", TENANT, "--resolve", f"pipelines/{P1}/name=mine"], 2, "is not PATH=ours|theirs|base"),
    (["{new}", "--to-org", TENANT, "--strategy", "base"], 2, "'base' is not one of 'ours', 'theirs'"),
    (["{new}", "--to-org", TENANT, "--user", "nobody"], 3, f"user nobody is not a member of org {REF}"),
])
def test_bad_input_changes_no_ref(world, args, code, message):
    world.customise(rename_p1("Initech leasing"))
    new = world.reference(rename_p1("Reference leasing"))
    refs = all_refs(world.repo)
    result = run_cli("snapshot", "upgrade", *[arg.format(new=new) for arg in args], repo=world.repo)
    assert (result.exit_code, result.stdout) == (code, "")
    assert message in result.stderr
    assert all_refs(world.repo) == refs


def test_the_python_api_checks_answers_too(world):
    new = world.reference(reference_edits)
    with pytest.raises(InvalidInput, match="--resolve takes PATH=ours|theirs|base; got x=mine"):
        world.api.upgrade_snapshot(new, to_orgs=[TENANT], resolve={"x": "mine"})
    with pytest.raises(InvalidInput, match="--strategy must be ours or theirs, got 'base'"):
        world.api.upgrade_snapshot(new, to_orgs=[TENANT], strategy="base")
    with pytest.raises(NotFound):
        world.api.upgrade_snapshot(new, all_from="66aa000000000000000000ff")


def test_the_result_says_the_exit_status(world):
    world.customise(rename_p1("Initech leasing"))
    result = world.api.upgrade_snapshot(world.reference(rename_p1("Reference leasing")), to_orgs=[TENANT])
    assert result.exit_code == Conflict.exit_code == 4


# --- the command line --------------------------------------------------------------------------------


def test_conflicts_exit_4_with_the_result_document(world):
    world.customise(rename_p1("Initech leasing"))
    new = world.reference(rename_p1("Reference leasing"), name="v2")
    result = run_cli("snapshot", "upgrade", new, "--to-org", TENANT, "--json", repo=world.repo)
    assert result.exit_code == 4
    data = result.json
    assert set(data) == {"message", "snapshotId", "snapshotName", "sourceOrgId", "orgs", "counts"}
    assert (data["message"], data["snapshotId"], data["snapshotName"], data["sourceOrgId"]) == \
        ("1 org: 1 with conflicts", new, "v2", REF)
    assert data["counts"] == {"upgraded": 0, "upToDate": 0, "conflicts": 1, "notDerived": 0}
    org, = data["orgs"]
    assert set(org) == {"orgId", "orgName", "status", "fromSnapshotId", "commit", "summary", "conflicts", "resolved"}
    assert (org["orgId"], org["orgName"], org["status"], org["fromSnapshotId"]) == \
        (TENANT, "Initech", "conflicts", world.base)
    assert org["conflicts"] == [{"collection": "pipelines", "id": P1, "field": "name", "path": f"pipelines/{P1}/name",
                                 "base": "Leasing inquiries", "ours": "Initech leasing", "theirs": "Reference leasing"}]
    assert org["summary"]["pipelines"] == {"kept": 2, "taken": 0, "merged": 1, "added": 0, "deleted": 0,
                                           "conflicts": 1, "resolved": 0}


def test_human_output_lists_conflicts_as_base_ours_theirs(world):
    world.customise(lambda doc: (rename_p1("Initech leasing")(doc),
                                 doc.update(automations=[a for a in doc["automations"] if a["id"] != A1])))
    new = world.reference(lambda doc: (rename_p1("Reference leasing")(doc),
                                       entity(doc, "automations", A1)["trigger"].update(event="tour.confirmed")))
    out = run_cli("snapshot", "upgrade", new, "--to-org", TENANT, repo=world.repo).stdout.splitlines()
    assert out[0] == f"Upgrade to snapshot {new} 'Next' of org {REF}"
    assert out[1] == f"  conflicts  {TENANT}  Initech: 2 conflicts (from snapshot {world.base})"
    assert out[2] == f'      pipelines/{P1}/name: "Leasing inquiries" → "Initech leasing" / "Reference leasing"'
    assert out[3] == (f'      automations/{A1}: {{"name": "Send tour confirmation SMS"... → (absent) / '
                      '{"name": "Send tour confirmation SMS"...')
    assert out[4].startswith("Nothing was written for orgs with conflicts; answer them with --resolve")
    assert out[5] == "1 org: 1 with conflicts"


def test_human_output_of_an_upgrade_names_the_commit_and_the_changes(world):
    world.customise(tenant_edits)
    new = world.reference(reference_edits)
    result = run_cli("snapshot", "upgrade", new, "--to-org", TENANT, "--user", ALEX_ID, repo=world.repo)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[1:] == [
        f"  upgraded  {TENANT}  Initech: commit {world.tip()[:12]} from snapshot {world.base} (2 taken, 1 merged, "
        "1 added)", "1 org: 1 upgraded"]
    assert_clean(world.repo)


def test_resolve_on_the_command_line_splits_at_the_last_equals_sign(world):
    # Item paths hold "=": stages[id="s2"] (a list of objects with ids merges per id).
    def stages(name: str):
        def edit(doc):
            entity(doc, "pipelines", P1)["stages"] = [{"id": "s1", "name": "New"}, {"id": "s2", "name": name}]
        return edit

    based = world.reference(stages("Tour"), name="with ids")  # the base must hold the id list: re-apply from it
    world.api.apply_snapshot(based, TENANT, replace_config=True)
    world.customise(stages("Visit"))
    new = world.reference(stages("Showing"))
    path = f'pipelines/{P1}/stages[id="s2"].name'
    result = run_cli("snapshot", "upgrade", new, "--to-org", TENANT, "--resolve", f"{path}=ours", "--json",
                     repo=world.repo)
    assert result.exit_code == 0, result.stdout + result.stderr
    assert [(c["path"], c["resolution"]) for c in result.json["orgs"][0]["resolved"]] == [(path, "ours")]
    assert entity(world.live(), "pipelines", P1)["stages"][1] == {"id": "s2", "name": "Visit"}


def test_absent_sides_stay_absent_in_python(world):
    world.customise(lambda doc: doc.update(automations=[a for a in doc["automations"] if a["id"] != A1]))
    new = world.reference(lambda doc: entity(doc, "automations", A1)["trigger"].update(event="tour.confirmed"))
    conflict, = world.api.upgrade_snapshot(new, to_orgs=[TENANT]).orgs[0].conflicts
    assert conflict.ours is ABSENT and conflict.base["id"] == A1
