"""Stub snapshots: save (named, overwritable, with chat children), list, show, against real git."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitsnap import Store
from gitsnap.models import IDENTIFIER_RULE, identifier_problem
from gitsnap.stub_refs import Selector
from tests.conftest import all_objects, all_refs, fsck, git, run_cli

ORG = "64ee9a8b1e7f2a0011223344"
OTHER_ORG = "64ee9a8b1e7f2a0011223355"
STUB = "lead-intake-flow"
OTHER_STUB = "maintenance-triage-flow"
PREFIX = f"refs/stubs/{ORG}/{STUB}"
STUB_REF = f"{PREFIX}/stub"
CHAT_REF = f"{PREFIX}/gpt_chat_task"
LIVE = f"refs/heads/orgs/{ORG}"
T1, T1_ISO = "1778835600 +0000", "2026-05-15T09:00:00.000Z"
T2, T2_ISO = "1778839200 +0000", "2026-05-15T10:00:00.000Z"
PLATFORM_KEYS = {"stubber_snapshot_uuid", "child_snapshot_references", "createdAt", "orguuid", "snapshot",
                 "snapshot_name", "snapshot_type", "stubref", "updatedAt"}


def stub_doc(step: int = 1, support: list | None = None, advanced: list | None = None, **extra_chats) -> dict:
    chats = {"customer_support": {"messages": support if support is not None else ["hello"]},
             "advanced_support": {"messages": advanced if advanced is not None else []}, **extra_chats}
    return {"stubref": STUB, "data": {"step": step, "greeting": "Hi"}, "chats": chats}


def org_doc(stub: dict | None = None, org: str = ORG, with_stub: bool = True) -> dict:
    other = {"stubref": OTHER_STUB, "data": {"step": 0}, "chats": {"customer_support": {"m": 1}}}
    stubs = ([stub or stub_doc()] if with_stub else []) + [other]
    return {"org": {"id": org, "name": "Acme Corp"},
            "users": [{"id": "64ee9a8b1e7f2a0011223399", "name": "Alex Rep", "email": "alex@acme.example"}],
            "stubs": stubs}


@pytest.fixture
def write(tmp_path):
    """Write a document as JSON in tmp_path and return its path."""
    counter = iter(range(1000))

    def write_doc(document: dict) -> str:
        path = tmp_path / f"doc{next(counter)}.json"
        path.write_text(json.dumps(document))
        return str(path)

    return write_doc


@pytest.fixture
def live(repo, write):
    """Replace the org's live state: ``live(stub_doc(...))``, or ``live(None)`` to drop the stub."""

    def set_live(stub: dict | None, org: str = ORG) -> None:
        Store(repo).import_org(write(org_doc(stub, org=org, with_stub=stub is not None)))

    set_live(stub_doc())
    return set_live


@pytest.fixture
def api(repo, live) -> Store:
    return Store(repo)


def cli(repo, *args, **kwargs):
    return run_cli(*args, repo=repo, **kwargs)


def trailers(repo, rev: str) -> list[tuple[str, str]]:
    """The trailers of a commit as the real git parses them."""
    message = git(repo, "log", "-1", "--format=%B", rev)
    parsed = git(repo, "interpret-trailers", "--parse", input=message.encode())
    return [tuple(line.split(": ", 1)) for line in parsed.splitlines()]


def trailer_values(repo, rev: str, key: str) -> list[str]:
    return [value for name, value in trailers(repo, rev) if name == key]


def blob_at(repo, rev: str, path: str) -> str:
    return git(repo, "rev-parse", f"{rev}:{path}").strip()


def count(repo, ref: str) -> int:
    return int(git(repo, "rev-list", "--count", ref))


# --- save ---------------------------------------------------------------------------------------------


def test_save_points_the_default_ref_at_a_tree_reusing_the_live_blob(repo, live):
    result = cli(repo, "stub", "snapshot", "save", STUB)
    assert result.exit_code == 0, result.stderr
    ref = f"{STUB_REF}/_default"
    assert git(repo, "ls-tree", "--name-only", ref).split() == ["stub.yaml"]
    assert blob_at(repo, ref, "stub.yaml") == blob_at(repo, LIVE, f"stubs/{STUB}/stub.yaml")
    assert "Saved stub snapshot _default of lead-intake-flow" in result.stdout
    fsck(repo)


def test_save_writes_the_subject_and_trailers_git_parses(repo, api):
    api.save_stub_snapshot(STUB, name="before-escalation")
    ref = f"{STUB_REF}/before-escalation"
    assert git(repo, "log", "-1", "--format=%s", ref).strip() == f"Save stub {STUB} as before-escalation"
    names = [name for name, _ in trailers(repo, ref)]
    assert names == ["Snapshot-Uuid", "Snapshot-Type", "Snapshot-Name", "Stubref", "Org", "Created-At"]
    assert dict(trailers(repo, ref))["Snapshot-Type"] == "stub"
    assert dict(trailers(repo, ref))["Org"] == ORG


def test_save_json_has_exactly_the_platform_keys(repo, live):
    result = cli(repo, "stub", "snapshot", "save", STUB, "--name", "x", "--json")
    snapshot = result.json["snapshot"]
    assert set(result.json) == {"snapshot"}
    assert set(snapshot) == PLATFORM_KEYS
    assert snapshot["snapshot"] == {"stubref": STUB, "data": {"step": 1, "greeting": "Hi"}}
    assert (snapshot["snapshot_type"], snapshot["snapshot_name"], snapshot["stubref"], snapshot["orguuid"]) == \
        ("stub", "x", STUB, ORG)
    assert snapshot["stubber_snapshot_uuid"] == trailer_values(repo, f"{STUB_REF}/x", "Snapshot-Uuid")[0]


def test_overwrite_keeps_uuid_and_created_at_and_grows_the_history(repo, live, monkeypatch):
    first = cli(repo, "stub", "snapshot", "save", STUB, "--json", env={"GIT_COMMITTER_DATE": T1}).json["snapshot"]
    old_tip = git(repo, "rev-parse", f"{STUB_REF}/_default").strip()
    live(stub_doc(step=2))
    second = cli(repo, "stub", "snapshot", "save", STUB, "--json", env={"GIT_COMMITTER_DATE": T2}).json["snapshot"]
    assert second["stubber_snapshot_uuid"] == first["stubber_snapshot_uuid"]
    assert (first["createdAt"], first["updatedAt"]) == (T1_ISO, T1_ISO)
    assert (second["createdAt"], second["updatedAt"]) == (T1_ISO, T2_ISO)
    assert count(repo, f"{STUB_REF}/_default") == 2
    assert git(repo, "rev-parse", f"{STUB_REF}/_default^").strip() == old_tip
    assert second["snapshot"]["data"]["step"] == 2
    fsck(repo)


def test_unchanged_state_saved_again_moves_nothing_and_reports_the_snapshot(repo, api):
    first = api.save_stub_snapshot(STUB, all_chats=True)
    refs, objects = all_refs(repo), all_objects(repo)
    result = cli(repo, "stub", "snapshot", "save", STUB, "--all-chats")
    assert result.exit_code == 0
    assert result.stdout.startswith(f"No changes: stub snapshot _default of {STUB} is already at {first.commit[:12]}")
    assert (all_refs(repo), all_objects(repo)) == (refs, objects)
    again = api.save_stub_snapshot(STUB, all_chats=True)
    assert not again.saved and again.snapshot == first.snapshot


def test_all_chats_saves_each_chat_as_a_child_snapshot_the_parent_references(repo, api):
    result = api.save_stub_snapshot(STUB, name="before-escalation", all_chats=True)
    parent = f"{STUB_REF}/before-escalation"
    uuids = []
    for chat in ("advanced_support", "customer_support"):
        child = f"{CHAT_REF}/{chat}/before-escalation"
        assert git(repo, "ls-tree", "--name-only", child).split() == ["chat.yaml"]
        assert blob_at(repo, child, "chat.yaml") == blob_at(repo, LIVE, f"stubs/{STUB}/chats/{chat}.yaml")
        assert dict(trailers(repo, child))["Chat"] == chat
        uuids.append(trailer_values(repo, child, "Snapshot-Uuid")[0])
        commit = git(repo, "rev-parse", child).strip()
        assert f"{chat}={chat} {commit}" in trailer_values(repo, parent, "Child")
    assert trailer_values(repo, parent, "Child-Snapshot") == uuids
    assert result.snapshot.child_snapshot_references == uuids
    fsck(repo)


def test_child_keys_name_the_chosen_chats(repo, live):
    result = cli(repo, "stub", "snapshot", "save", STUB, "--name", "pick", "--child", "cust=customer_support", "--json")
    assert result.exit_code == 0, result.stderr
    child = f"{CHAT_REF}/customer_support/pick"
    assert trailer_values(repo, f"{STUB_REF}/pick", "Child") == [f"cust=customer_support {git(repo, 'rev-parse', child).strip()}"]
    assert f"{CHAT_REF}/advanced_support/pick" not in all_refs(repo)
    assert result.json["snapshot"]["child_snapshot_references"] == trailer_values(repo, child, "Snapshot-Uuid")
    assert set(result.json["snapshot"]["snapshot"]["chats"]) == {"customer_support"}


def test_a_changed_chat_alone_moves_the_parent_to_pin_the_new_child(repo, api, live):
    api.save_stub_snapshot(STUB, all_chats=True)
    live(stub_doc(support=["hello", "a new message"]))
    api.save_stub_snapshot(STUB, all_chats=True)
    parent, child = f"{STUB_REF}/_default", f"{CHAT_REF}/customer_support/_default"
    assert (count(repo, parent), count(repo, child), count(repo, f"{CHAT_REF}/advanced_support/_default")) == (2, 2, 1)
    assert git(repo, "rev-parse", f"{parent}^{{tree}}") == git(repo, "rev-parse", f"{parent}^^{{tree}}")
    assert f"customer_support=customer_support {git(repo, 'rev-parse', child).strip()}" in trailer_values(repo, parent, "Child")


def test_dropping_the_children_is_a_new_save(repo, api):
    api.save_stub_snapshot(STUB, all_chats=True)
    result = api.save_stub_snapshot(STUB)
    assert result.saved and result.snapshot.child_snapshot_references == []
    assert count(repo, f"{STUB_REF}/_default") == 2
    assert "chats" not in result.snapshot.snapshot


def test_chat_snapshot_tree_reuses_the_live_chat_blob(repo, live):
    result = cli(repo, "stub", "snapshot", "save", STUB, "--type", "gpt_chat_task", "--chat", "customer_support",
                 "--name", "mid-call", "--json")
    ref = f"{CHAT_REF}/customer_support/mid-call"
    assert blob_at(repo, ref, "chat.yaml") == blob_at(repo, LIVE, f"stubs/{STUB}/chats/customer_support.yaml")
    assert git(repo, "log", "-1", "--format=%s", ref).strip() == f"Save chat customer_support of stub {STUB} as mid-call"
    snapshot = result.json["snapshot"]
    assert (snapshot["snapshot_type"], snapshot["snapshot"], snapshot["child_snapshot_references"]) == \
        ("gpt_chat_task", {"messages": ["hello"]}, [])
    fsck(repo)


def test_from_file_makes_the_document_the_live_state_then_saves_it(repo, live, write):
    other_tree = git(repo, "rev-parse", f"{LIVE}:stubs/{OTHER_STUB}")
    document = {"stubref": STUB, "data": {"step": 9}, "chats": {"customer_support": {"messages": ["from file"]}}}
    result = cli(repo, "stub", "snapshot", "save", STUB, "--from", write(document), "--all-chats")
    assert result.exit_code == 0, result.stderr
    assert git(repo, "log", "-1", "--format=%s", LIVE).strip() == f"Update stub {STUB}"
    assert count(repo, LIVE) == 2
    assert git(repo, "ls-tree", "--name-only", f"{LIVE}:stubs/{STUB}/chats").split() == ["customer_support.yaml"]
    assert git(repo, "rev-parse", f"{LIVE}:stubs/{OTHER_STUB}") == other_tree
    assert blob_at(repo, f"{STUB_REF}/_default", "stub.yaml") == blob_at(repo, LIVE, f"stubs/{STUB}/stub.yaml")
    assert f"{CHAT_REF}/advanced_support/_default" not in all_refs(repo)
    fsck(repo)


def test_from_file_already_live_adds_no_live_commit(repo, live, write):
    tip = git(repo, "rev-parse", LIVE)
    assert cli(repo, "stub", "snapshot", "save", STUB, "--from", write(stub_doc())).exit_code == 0
    assert git(repo, "rev-parse", LIVE) == tip


def test_from_file_for_another_stub_is_rejected(repo, live, write):
    refs = all_refs(repo)
    result = cli(repo, "stub", "snapshot", "save", STUB, "--from", write({**stub_doc(), "stubref": OTHER_STUB}))
    assert result.exit_code == 2
    assert f"stubref '{OTHER_STUB}' is not '{STUB}'" in result.stderr
    assert all_refs(repo) == refs


def test_from_file_that_is_not_a_stub_is_rejected_naming_the_field(repo, live, write):
    refs = all_refs(repo)
    path = write({"stubref": STUB, "data": ["not", "a", "mapping"]})
    result = cli(repo, "stub", "snapshot", "save", STUB, "--from", path)
    assert result.exit_code == 2
    assert f"{path}: data" in result.stderr and "Traceback" not in result.stderr
    assert all_refs(repo) == refs


def test_from_file_is_checked_against_the_chosen_children_before_anything_is_written(repo, live, write):
    refs = all_refs(repo)
    document = {"stubref": STUB, "data": {"step": 9}, "chats": {"customer_support": {}}}
    result = cli(repo, "stub", "snapshot", "save", STUB, "--from", write(document), "--child", "adv=advanced_support")
    assert result.exit_code == 3
    assert "chat advanced_support not found in stub lead-intake-flow (its chats: customer_support)" in result.stderr
    assert all_refs(repo) == refs


def test_from_file_adds_a_new_stub_to_the_named_org(repo, live, write):
    document = {"stubref": "new-flow", "data": {"step": 1}, "chats": {"intake": {"messages": []}}}
    result = cli(repo, "stub", "snapshot", "save", "new-flow", "--org", ORG, "--from", write(document), "--all-chats")
    assert result.exit_code == 0, result.stderr
    assert git(repo, "ls-tree", "-r", "--name-only", f"{LIVE}:stubs/new-flow").split() == ["chats/intake.yaml", "stub.yaml"]
    assert f"refs/stubs/{ORG}/new-flow/gpt_chat_task/intake/_default" in all_refs(repo)


def test_from_stdin(repo, live):
    document = json.dumps({**stub_doc(), "data": {"step": 7}})
    result = cli(repo, "stub", "snapshot", "save", STUB, "--from", "-", "--json", input=document)
    assert result.json["snapshot"]["snapshot"]["data"] == {"step": 7}


def test_from_a_missing_file_is_not_found(repo, live, tmp_path):
    result = cli(repo, "stub", "snapshot", "save", STUB, "--from", str(tmp_path / "nope.json"), "--json")
    assert result.exit_code == 3 and result.json["error"] == "Source not found"


# --- which org --------------------------------------------------------------------------------------------


def test_a_stub_in_several_orgs_needs_org(repo, live):
    live(stub_doc(), org=OTHER_ORG)
    refs = all_refs(repo)
    result = cli(repo, "stub", "snapshot", "save", STUB)
    assert result.exit_code == 2
    assert f"stub {STUB} is in several orgs: {ORG}, {OTHER_ORG}; choose one with --org" in result.stderr
    assert all_refs(repo) == refs
    assert cli(repo, "stub", "snapshot", "save", STUB, "--org", OTHER_ORG).exit_code == 0
    assert f"refs/stubs/{OTHER_ORG}/{STUB}/stub/_default" in all_refs(repo)


def test_an_unknown_stub_is_not_found(repo, live):
    refs = all_refs(repo)
    result = cli(repo, "stub", "snapshot", "save", "no-such-stub", "--json")
    assert result.exit_code == 3
    assert result.json == {"error": "Stub not found", "details": "stub no-such-stub not found in any org (gitsnap org list)"}
    assert all_refs(repo) == refs


def test_an_unknown_org_is_not_found(repo, live):
    result = cli(repo, "stub", "snapshot", "save", STUB, "--org", OTHER_ORG, "--json")
    assert result.exit_code == 3 and result.json["error"] == "Org not found"


def test_a_stub_missing_from_the_named_org_is_not_found(repo, live):
    live(None, org=OTHER_ORG)
    result = cli(repo, "stub", "snapshot", "save", STUB, "--org", OTHER_ORG, "--json")
    assert result.exit_code == 3 and result.json["error"] == "Stub not found"


# --- bad input ------------------------------------------------------------------------------------------

BAD_NAMES = ["../x", "a b", "x.lock", "..", "a/b", "a\nb"]


@pytest.mark.parametrize("bad", BAD_NAMES)
@pytest.mark.parametrize("what, args", [
    ("snapshot name", ["--name", "{}"]),
    ("chat name", ["--type", "gpt_chat_task", "--chat", "{}"]),
    ("chat name", ["--child", "key={}"]),
    ("child key", ["--child", "{}=customer_support"]),
    ("org", ["--org", "{}"]),
])
def test_a_bad_identifier_is_rejected_with_the_rule(repo, live, bad, what, args):
    refs = all_refs(repo)
    result = cli(repo, "stub", "snapshot", "save", STUB, *[arg.format(bad) for arg in args])
    assert result.exit_code == 2
    assert result.stderr == f"gitsnap: {what} {bad!r} is not a valid identifier (must match {IDENTIFIER_RULE})\n"
    assert all_refs(repo) == refs


@pytest.mark.parametrize("command", ["save", "show", "restore", "delete", "list"])
def test_a_bad_stubref_is_rejected_by_every_command(repo, live, command):
    refs = all_refs(repo)
    result = cli(repo, "stub", "snapshot", command, "../x")
    assert result.exit_code == 2
    assert "stubref '../x' is not a valid identifier" in result.stderr
    assert all_refs(repo) == refs


@pytest.mark.parametrize("command", ["show", "restore", "delete"])
@pytest.mark.parametrize("bad", ["../x", "a\nb"])
def test_a_bad_snapshot_name_is_rejected_by_every_selector_command(repo, api, command, bad):
    api.save_stub_snapshot(STUB)
    refs = all_refs(repo)
    result = cli(repo, "stub", "snapshot", command, STUB, "--name", bad)
    assert result.exit_code == 2
    assert result.stderr == f"gitsnap: snapshot name {bad!r} is not a valid identifier (must match {IDENTIFIER_RULE})\n"
    assert all_refs(repo) == refs


@pytest.mark.parametrize("command", ["list", "show", "restore", "delete"])
def test_an_unknown_stub_is_not_found_by_every_command(repo, live, command):
    refs = all_refs(repo)
    result = cli(repo, "stub", "snapshot", command, "no-such-stub", "--json")
    assert (result.exit_code, result.json["error"]) == (3, "Stub not found")
    assert all_refs(repo) == refs


@pytest.mark.parametrize("args, message", [
    (["--all-chats", "--type", "gpt_chat_task", "--chat", "customer_support"], "--all-chats and --child are for --type stub only"),
    (["--child", "c=customer_support", "--type", "gpt_chat_task", "--chat", "customer_support"], "--all-chats and --child are for --type stub only"),
    (["--chat", "customer_support"], "--chat is only for --type gpt_chat_task"),
    (["--type", "gpt_chat_task"], "--chat is required with --type gpt_chat_task"),
    (["--all-chats", "--child", "c=customer_support"], "use --all-chats or --child, not both"),
    (["--child", "a=customer_support", "--child", "b=customer_support"], "chat customer_support is chosen twice"),
    (["--child", "a=customer_support", "--child", "a=advanced_support"], "the key 'a' is given twice"),
    (["--child", "customer_support"], "'customer_support' is not KEY=CHAT"),
    (["--type", "chat"], "'chat' is not one of 'stub', 'gpt_chat_task'"),
])
def test_a_wrong_option_combination_is_a_usage_error(repo, live, args, message):
    refs = all_refs(repo)
    result = cli(repo, "stub", "snapshot", "save", STUB, *args)
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.stderr
    assert all_refs(repo) == refs


@pytest.mark.parametrize("args", [["--type", "gpt_chat_task", "--chat", "nope"], ["--child", "x=nope"]])
def test_an_unknown_chat_is_not_found(repo, live, args):
    refs = all_refs(repo)
    result = cli(repo, "stub", "snapshot", "save", STUB, *args, "--json")
    assert result.exit_code == 3
    assert result.json["error"] == "Chat not found"
    assert result.json["details"] == "chat nope not found in stub lead-intake-flow (its chats: advanced_support, customer_support)"
    assert all_refs(repo) == refs


# --- ref shapes -----------------------------------------------------------------------------------------

identifiers = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}", fullmatch=True).filter(lambda v: identifier_problem(v) is None)
selectors = st.one_of(
    st.builds(Selector, st.just("stub"), identifiers),
    st.builds(Selector, st.just("gpt_chat_task"), identifiers, identifiers),
)


@given(st.tuples(identifiers, identifiers), selectors, st.tuples(identifiers, identifiers), selectors)
def test_no_snapshot_ref_can_be_a_directory_of_another(place_a, a, place_b, b):
    ref_a, ref_b = a.ref(*place_a), b.ref(*place_b)
    assert not ref_b.startswith(ref_a + "/") and not ref_a.startswith(ref_b + "/")


def test_names_spelled_like_the_type_components_live_side_by_side(repo, live):
    live(stub_doc(stub={"messages": []}, gpt_chat_task={"messages": []}))
    api = Store(repo)
    api.save_stub_snapshot(STUB, name="gpt_chat_task", all_chats=True)
    api.save_stub_snapshot(STUB, name="stub", all_chats=True)
    refs = set(all_refs(repo))
    assert {f"{STUB_REF}/gpt_chat_task", f"{STUB_REF}/stub", f"{CHAT_REF}/stub/stub",
            f"{CHAT_REF}/gpt_chat_task/gpt_chat_task", f"{CHAT_REF}/stub/gpt_chat_task"} <= refs
    fsck(repo)


# --- list and show ------------------------------------------------------------------------------------


def test_list_shows_every_snapshot_with_its_saves(repo, api, live):
    api.save_stub_snapshot(STUB, name="pick", children={"cust": "customer_support"})
    api.save_stub_snapshot(STUB, snapshot_type="gpt_chat_task", name="mid-call", chat="advanced_support")
    live(stub_doc(step=2))
    api.save_stub_snapshot(STUB, name="pick", children={"cust": "customer_support"})
    result = cli(repo, "stub", "snapshot", "list", STUB, "--json")
    rows = [(s["snapshot_type"], s["snapshot_name"], s["chat_name"], s["saves"], [c["key"] for c in s["children"]])
            for s in result.json["snapshots"]]
    assert rows == [("stub", "pick", None, 2, ["cust"]),
                    ("gpt_chat_task", "mid-call", "advanced_support", 1, []),
                    ("gpt_chat_task", "pick", "customer_support", 1, [])]
    parent = result.json["snapshots"][0]
    assert parent["stubber_snapshot_uuid"] == trailer_values(repo, f"{STUB_REF}/pick", "Snapshot-Uuid")[0]
    assert parent["saves"] == count(repo, f"{STUB_REF}/pick")


def test_list_of_a_stub_without_snapshots_is_empty(repo, live):
    result = cli(repo, "stub", "snapshot", "list", STUB)
    assert result.exit_code == 0
    assert result.stdout == f"No snapshots of {STUB} yet (gitsnap stub snapshot save {STUB})\n"


def test_show_json_has_exactly_the_platform_keys(repo, api):
    saved = api.save_stub_snapshot(STUB, name="before-escalation", all_chats=True)
    result = cli(repo, "stub", "snapshot", "show", STUB, "--name", "before-escalation", "--json")
    assert set(result.json) == {"snapshot"} and set(result.json["snapshot"]) == PLATFORM_KEYS
    assert result.json == saved.to_json()


def test_show_of_a_stub_snapshot_with_children_is_a_stub_document(repo, api, write):
    api.save_stub_snapshot(STUB, name="x", all_chats=True)
    shown = cli(repo, "stub", "snapshot", "show", STUB, "--name", "x", "--json").json["snapshot"]["snapshot"]
    assert shown == stub_doc()
    tip = git(repo, "rev-parse", LIVE)
    assert cli(repo, "stub", "snapshot", "save", STUB, "--from", write(shown), "--name", "y").exit_code == 0
    assert git(repo, "rev-parse", LIVE) == tip


def test_show_of_a_chat_snapshot_defaults_nothing_but_the_name(repo, api):
    api.save_stub_snapshot(STUB, snapshot_type="gpt_chat_task", chat="customer_support")
    result = cli(repo, "stub", "snapshot", "show", STUB, "--type", "gpt_chat_task", "--chat", "customer_support")
    assert result.exit_code == 0
    assert "gpt_chat_task snapshot _default of chat customer_support of lead-intake-flow" in result.stdout
    assert result.stdout.rstrip().endswith("messages:\n- hello")


def test_show_of_an_unknown_snapshot_is_not_found(repo, api):
    result = cli(repo, "stub", "snapshot", "show", STUB, "--name", "never", "--json")
    assert result.exit_code == 3
    assert result.json["error"] == "Snapshot not found"
    assert "no stub snapshot 'never' of stub lead-intake-flow in org" in result.json["details"]


def test_snapshots_outlive_the_stub_in_the_live_state(repo, api, live):
    api.save_stub_snapshot(STUB, name="x")
    live(None)
    assert cli(repo, "stub", "snapshot", "show", STUB, "--name", "x").exit_code == 0
    assert [s["snapshot_name"] for s in cli(repo, "stub", "snapshot", "list", STUB, "--json").json["snapshots"]] == ["x"]


# --- interop ------------------------------------------------------------------------------------------


def test_git_log_of_a_snapshot_ref_lists_every_save(repo, api, live):
    for step in (1, 2, 3):
        live(stub_doc(step=step))
        api.save_stub_snapshot(STUB, name="x")
    assert git(repo, "log", "--format=%s", f"{STUB_REF}/x").splitlines() == [f"Save stub {STUB} as x"] * 3


def test_stub_snapshots_travel_with_an_explicit_refspec(repo, api, tmp_path):
    api.save_stub_snapshot(STUB, name="x", all_chats=True)
    copy = tmp_path / "copy.git"
    Store.init(copy)
    git(copy, "fetch", str(repo), "refs/stubs/*:refs/stubs/*", "refs/heads/*:refs/heads/*")
    assert all_refs(copy) == all_refs(repo)
    fsck(copy)
    shown = cli(copy, "stub", "snapshot", "show", STUB, "--name", "x", "--json").json
    assert shown == cli(repo, "stub", "snapshot", "show", STUB, "--name", "x", "--json").json


def test_overwrite_and_delete_work_on_refs_packed_by_git(repo, api, live):
    api.save_stub_snapshot(STUB, name="x", all_chats=True)
    git(repo, "pack-refs", "--all", "--prune")
    live(stub_doc(step=2))
    assert api.save_stub_snapshot(STUB, name="x", all_chats=True).saved
    assert count(repo, f"{STUB_REF}/x") == 2
    api.delete_stub_snapshot(STUB, name="x", with_children=True)
    assert set(all_refs(repo)) == {LIVE}
    fsck(repo)


def test_python_api_returns_the_platform_shape(api):
    result = api.save_stub_snapshot(STUB, name="api", children={"cust": "customer_support"})
    dumped = result.to_json()
    assert set(dumped) == {"snapshot"} and set(dumped["snapshot"]) == PLATFORM_KEYS
    assert result.saved and result.children[0].key == "cust"


# --- restore ------------------------------------------------------------------------------------------


def live_blob(repo, path: str) -> str:
    return blob_at(repo, LIVE, f"stubs/{STUB}/{path}")


def test_restore_brings_back_the_stub_and_its_chats_in_one_commit(repo, api, live):
    api.save_stub_snapshot(STUB, name="before-escalation", all_chats=True)
    saved = {path: live_blob(repo, path) for path in ("stub.yaml", "chats/customer_support.yaml", "chats/advanced_support.yaml")}
    live(stub_doc(step=5, support=["escalated"], advanced=["taken over"]))
    before = count(repo, LIVE)
    result = cli(repo, "stub", "snapshot", "restore", STUB, "--name", "before-escalation", "--json")
    assert result.exit_code == 0, result.stderr
    assert count(repo, LIVE) == before + 1
    assert {path: live_blob(repo, path) for path in saved} == saved
    assert sorted(result.json["files"]) == sorted(f"stubs/{STUB}/{path}" for path in saved)
    assert (result.json["message"], result.json["skipped"], result.json["keptChats"]) == ("Restored", False, [])
    assert git(repo, "log", "-1", "--format=%s", LIVE).strip() == f"Restore stub {STUB} from snapshot before-escalation"
    assert dict(trailers(repo, LIVE))["Snapshot-Commit"] == git(repo, "rev-parse", f"{STUB_REF}/before-escalation").strip()
    fsck(repo)


def test_restore_keeps_live_chats_the_snapshot_does_not_hold(repo, api, live):
    api.save_stub_snapshot(STUB, name="pick", children={"cust": "customer_support"})
    saved_support = live_blob(repo, "chats/customer_support.yaml")
    live(stub_doc(step=5, support=["changed"], advanced=["changed too"], new_chat={"messages": []}))
    advanced, new_chat = live_blob(repo, "chats/advanced_support.yaml"), live_blob(repo, "chats/new_chat.yaml")
    result = cli(repo, "stub", "snapshot", "restore", STUB, "--name", "pick")
    assert result.exit_code == 0, result.stderr
    assert live_blob(repo, "chats/customer_support.yaml") == saved_support
    assert (live_blob(repo, "chats/advanced_support.yaml"), live_blob(repo, "chats/new_chat.yaml")) == (advanced, new_chat)
    assert "kept live chats not in the snapshot: advanced_support, new_chat" in result.stdout


def test_restore_of_a_chat_snapshot_restores_that_chat_only(repo, api, live):
    api.save_stub_snapshot(STUB, snapshot_type="gpt_chat_task", chat="customer_support", name="mid-call")
    saved_support = live_blob(repo, "chats/customer_support.yaml")
    live(stub_doc(step=5, support=["changed"], advanced=["changed too"]))
    stub_yaml, advanced = live_blob(repo, "stub.yaml"), live_blob(repo, "chats/advanced_support.yaml")
    result = cli(repo, "stub", "snapshot", "restore", STUB, "--type", "gpt_chat_task", "--chat", "customer_support",
                 "--name", "mid-call", "--json")
    assert result.json["files"] == [f"stubs/{STUB}/chats/customer_support.yaml"]
    assert live_blob(repo, "chats/customer_support.yaml") == saved_support
    assert (live_blob(repo, "stub.yaml"), live_blob(repo, "chats/advanced_support.yaml")) == (stub_yaml, advanced)


def test_restore_restores_the_chat_states_saved_with_the_parent(repo, api, live):
    api.save_stub_snapshot(STUB, name="x", all_chats=True)
    saved_support = live_blob(repo, "chats/customer_support.yaml")
    live(stub_doc(support=["later"]))
    api.save_stub_snapshot(STUB, snapshot_type="gpt_chat_task", chat="customer_support", name="x")
    live(stub_doc(support=["much later"]))
    assert cli(repo, "stub", "snapshot", "restore", STUB, "--name", "x").exit_code == 0
    assert live_blob(repo, "chats/customer_support.yaml") == saved_support


def test_restore_when_the_live_state_already_matches_makes_no_commit(repo, api):
    api.save_stub_snapshot(STUB, all_chats=True)
    refs = all_refs(repo)
    result = cli(repo, "stub", "snapshot", "restore", STUB)
    assert result.exit_code == 0
    assert result.stdout == f"No changes: {STUB} in org {ORG} already matches snapshot _default\n"
    assert all_refs(repo) == refs


def test_restore_puts_back_a_stub_gone_from_the_live_state(repo, api, live):
    api.save_stub_snapshot(STUB, name="x", all_chats=True)
    saved_tree = git(repo, "rev-parse", f"{LIVE}:stubs/{STUB}")
    live(None)
    assert cli(repo, "stub", "snapshot", "restore", STUB, "--name", "x").exit_code == 0
    assert git(repo, "rev-parse", f"{LIVE}:stubs/{STUB}") == saved_tree
    fsck(repo)


def test_restore_of_a_chat_into_a_stub_gone_from_the_live_state_is_not_found(repo, api, live):
    api.save_stub_snapshot(STUB, snapshot_type="gpt_chat_task", chat="customer_support")
    live(None)
    refs = all_refs(repo)
    result = cli(repo, "stub", "snapshot", "restore", STUB, "--type", "gpt_chat_task", "--chat", "customer_support")
    assert result.exit_code == 3
    assert "restore a stub snapshot of it first" in result.stderr
    assert all_refs(repo) == refs


def test_restore_of_an_unknown_snapshot_is_not_found(repo, api):
    refs = all_refs(repo)
    result = cli(repo, "stub", "snapshot", "restore", STUB, "--name", "never", "--json")
    assert result.exit_code == 3 and result.json["error"] == "Snapshot not found"
    assert all_refs(repo) == refs


# --- delete -------------------------------------------------------------------------------------------


def test_delete_removes_the_ref_and_keeps_the_children(repo, api):
    api.save_stub_snapshot(STUB, name="pick", all_chats=True)
    result = cli(repo, "stub", "snapshot", "delete", STUB, "--name", "pick", "--json")
    assert result.exit_code == 0, result.stderr
    refs = all_refs(repo)
    assert f"{STUB_REF}/pick" not in refs
    assert {f"{CHAT_REF}/customer_support/pick", f"{CHAT_REF}/advanced_support/pick"} <= set(refs)
    assert [d["ref"] for d in result.json["deleted"]] == [f"{STUB_REF}/pick"]
    assert sorted(c["chat_name"] for c in result.json["keptChildren"]) == ["advanced_support", "customer_support"]
    fsck(repo)


def test_delete_with_children_removes_the_children_it_references(repo, api):
    api.save_stub_snapshot(STUB, name="pick", children={"cust": "customer_support"})
    api.save_stub_snapshot(STUB, snapshot_type="gpt_chat_task", chat="advanced_support", name="pick")
    result = cli(repo, "stub", "snapshot", "delete", STUB, "--name", "pick", "--with-children")
    assert result.exit_code == 0, result.stderr
    assert set(all_refs(repo)) == {LIVE, f"{CHAT_REF}/advanced_support/pick"}


def test_delete_with_children_keeps_a_child_saved_anew_since(repo, api):
    api.save_stub_snapshot(STUB, name="pick", children={"cust": "customer_support"})
    api.delete_stub_snapshot(STUB, snapshot_type="gpt_chat_task", chat="customer_support", name="pick")
    api.save_stub_snapshot(STUB, snapshot_type="gpt_chat_task", chat="customer_support", name="pick")
    result = cli(repo, "stub", "snapshot", "delete", STUB, "--name", "pick", "--with-children", "--json")
    assert f"{CHAT_REF}/customer_support/pick" in all_refs(repo)
    assert [c["key"] for c in result.json["keptChildren"]] == ["cust"]


def test_saving_after_a_delete_starts_a_new_snapshot(repo, api):
    first = api.save_stub_snapshot(STUB, name="x")
    api.delete_stub_snapshot(STUB, name="x")
    again = api.save_stub_snapshot(STUB, name="x")
    assert again.snapshot.stubber_snapshot_uuid != first.snapshot.stubber_snapshot_uuid
    assert count(repo, f"{STUB_REF}/x") == 1


@pytest.mark.parametrize("args, code", [
    (["--name", "never"], 3),
    (["--type", "gpt_chat_task", "--chat", "customer_support", "--with-children"], 2),
    (["--name", "a/b"], 2),
])
def test_a_bad_delete_changes_no_ref(repo, api, args, code):
    api.save_stub_snapshot(STUB, all_chats=True)
    refs = all_refs(repo)
    assert cli(repo, "stub", "snapshot", "delete", STUB, *args).exit_code == code
    assert all_refs(repo) == refs


def test_every_stub_command_documents_an_example():
    from gitsnap.cli.stubs import snapshot

    for name, command in snapshot.commands.items():
        assert "Example:" in command.help, name
