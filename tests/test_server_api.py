"""The HTTP service's endpoints against a real `gitsnap serve`: each one's success and error paths.

One server per module over a repository of two orgs (Acme, and Initech sharing Acme's prompt ids
and stubrefs); tests that write use prompts, stubs and orgs of their own, so they do not interfere.
"""

from __future__ import annotations

import json

from tests.conftest import ACME_ID, ALEX_ID, LEASING_PROMPT_ID, all_refs, fsck, git, run_cli
from tests.http_service import (
    INITECH_ID,
    INITECH_ONLY_PROMPT,
    bearer,
    initech_document,
    module_server,
    token,
)

NEW_ORG = "66aa00000000000000000010"
IMPORTED_ORG = "66aa00000000000000000020"
ALEX = bearer(token(ALEX_ID, [ACME_ID, NEW_ORG, IMPORTED_ORG]))
ACME_ONLY = bearer(token(ALEX_ID, [ACME_ID]))  # the orgs NEW_ORG and IMPORTED_ORG get copies of Acme's prompts
ADMIN = bearer(token("64ee9a8b1e7f2a0011223390", ["*"]))
PROMPT = "65f9b1c2e8a1d4e001a0c0{:02x}".format  # Acme's prompts c001..c013, one per test that writes


repo, server, http = module_server("api")


def error(response, status: int) -> str:
    """The details of an error response, after checking its status and that it is exactly the envelope."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error", "details"}, body
    return body["details"]


# --- no token needed ---------------------------------------------------------------------------------


def test_healthz_openapi_and_docs_need_no_token(http):
    assert http.get("/healthz").json() == {"status": "ok"}
    assert http.get("/openapi.json").json()["info"]["title"] == "gitsnap"
    assert "swagger" in http.get("/docs").text.lower()


def test_every_response_carries_a_request_id_and_keeps_the_callers(http):
    assert len(http.get("/healthz").headers["x-request-id"]) == 32
    assert http.get("/healthz", headers={"X-Request-Id": "platform-req-42"}).headers["x-request-id"] == "platform-req-42"


def test_an_unknown_route_and_a_wrong_method_are_the_envelope(http):
    assert "GET /api/nothing" in error(http.get("/api/nothing", headers=ALEX), 404)
    assert http.get("/api/nothing").json()["error"] == "Not found"
    error(http.put("/api/org-snapshots", headers=ALEX), 405)


# --- org snapshots -----------------------------------------------------------------------------------


def snapshot_body(**fields) -> dict:
    return {"name": "Production baseline 2026-05", "description": "Reference Acme Corp configuration.",
            "sourceOrgId": ACME_ID, "sourceUserId": ALEX_ID, **fields}


def test_snapshot_create_is_201_in_seed_000s_shape_and_the_clis(http, repo):
    response = http.post("/api/org-snapshots", headers=ALEX, json=snapshot_body())
    assert response.status_code == 201
    created = response.json()
    assert created["message"] == "Snapshot created"
    snapshot = created["snapshot"]
    assert snapshot["name"] == "Production baseline 2026-05"
    assert snapshot["sourceOrgName"] == "Acme Corp"
    assert (snapshot["sourceUserName"], snapshot["sourceUserEmail"]) == ("Alex Rep", "alex@acme.example")
    assert snapshot["counts"] == {"pipelines": 3, "automations": 12, "prompts": 20, "templates": 30}
    shown = run_cli("--json", "snapshot", "show", snapshot["_id"], repo=repo)
    assert shown.json == {"snapshot": snapshot} == http.get(f"/api/org-snapshots/{snapshot['_id']}", headers=ALEX).json()
    fsck(repo)


def test_snapshot_create_for_another_user_is_403_and_writes_nothing(http, repo):
    refs = all_refs(repo)
    details = error(http.post("/api/org-snapshots", headers=ALEX, json=snapshot_body(sourceUserId="64ee9a8b1e7f2a0011223390")), 403)
    assert "may not act for user '64ee9a8b1e7f2a0011223390'" in details
    assert all_refs(repo) == refs


def test_snapshot_create_refuses_a_bad_name_with_the_clis_words(http, repo):
    refs = all_refs(repo)
    assert "snapshot name" in error(http.post("/api/org-snapshots", headers=ALEX, json=snapshot_body(name=" ")), 400)
    assert "line break" in error(http.post("/api/org-snapshots", headers=ALEX, json=snapshot_body(name="a\nb")), 400)
    assert "121 characters" in error(http.post("/api/org-snapshots", headers=ALEX, json=snapshot_body(name="x" * 121)), 400)
    assert all_refs(repo) == refs


def test_snapshot_create_with_a_user_outside_the_org_is_404(http):
    alien = bearer(token("64ee9a8b1e7f2a00112233aa", [ACME_ID]))
    details = error(http.post("/api/org-snapshots", headers=alien,
                              json=snapshot_body(sourceUserId="64ee9a8b1e7f2a00112233aa")), 404)
    assert details == f"user 64ee9a8b1e7f2a00112233aa is not a member of org {ACME_ID}"


def test_snapshots_are_listed_shown_and_deleted(http):
    created = http.post("/api/org-snapshots", headers=ALEX, json=snapshot_body(name="To delete")).json()["snapshot"]
    listed = http.get("/api/org-snapshots", params={"orgId": ACME_ID}, headers=ALEX).json()["snapshots"]
    assert created in listed
    assert listed == sorted(listed, key=lambda s: s["_id"], reverse=True)
    deleted = http.delete(f"/api/org-snapshots/{created['_id']}", headers=ALEX)
    assert deleted.status_code == 200 and deleted.json() == {"message": "Snapshot deleted", "snapshot": created}
    assert "not found" in error(http.get(f"/api/org-snapshots/{created['_id']}", headers=ALEX), 404)
    error(http.delete(f"/api/org-snapshots/{created['_id']}", headers=ALEX), 404)


def test_a_listing_without_org_holds_only_the_tokens_orgs(http):
    # its own snapshot of each org: the module's other tests may run in another worker, on another repository
    acme = http.post("/api/org-snapshots", headers=ALEX, json=snapshot_body(name="Acme baseline")).json()["snapshot"]
    initech = http.post("/api/org-snapshots", headers=ADMIN,
                        json=snapshot_body(sourceOrgId=INITECH_ID, sourceUserId="64ee9a8b1e7f2a0011223390",
                                           name="Initech baseline")).json()["snapshot"]
    mine = http.get("/api/org-snapshots", headers=ALEX).json()["snapshots"]
    assert acme in mine and {s["sourceOrgId"] for s in mine} == {ACME_ID}
    everyone = http.get("/api/org-snapshots", headers=ADMIN).json()["snapshots"]
    assert acme in everyone and initech in everyone and {s["sourceOrgId"] for s in everyone} == {ACME_ID, INITECH_ID}
    error(http.get("/api/org-snapshots", params={"orgId": INITECH_ID}, headers=ALEX), 403)


def test_a_malformed_snapshot_id_is_400(http):
    assert "not a snapshot id" in error(http.get("/api/org-snapshots/nothex", headers=ALEX), 400)


def test_apply_onboards_a_new_org_201_and_a_replace_is_200(http, repo):
    snapshot = http.post("/api/org-snapshots", headers=ALEX, json=snapshot_body(name="Template")).json()["snapshot"]
    applied = http.post(f"/api/org-snapshots/{snapshot['_id']}/apply", headers=ALEX,
                        json={"targetOrgId": NEW_ORG, "targetOrgName": "Globex"})
    assert applied.status_code == 201
    assert applied.json() | {"commit": None} == {
        "message": "Snapshot applied", "orgId": NEW_ORG, "orgName": "Globex", "snapshotId": snapshot["_id"],
        "commit": None, "skipped": False, "counts": snapshot["counts"]}
    assert f"Based-On-Snapshot: {snapshot['_id']}" in git(repo, "log", "-1", f"orgs/{NEW_ORG}")
    assert "Alex Rep" in git(repo, "log", "-1", "--format=%an", f"orgs/{NEW_ORG}")
    again = http.post(f"/api/org-snapshots/{snapshot['_id']}/apply", headers=ALEX,
                      json={"targetOrgId": NEW_ORG, "replaceConfig": True})
    assert again.status_code == 200 and again.json()["skipped"] is True
    assert "already exists" in error(http.post(f"/api/org-snapshots/{snapshot['_id']}/apply", headers=ALEX,
                                               json={"targetOrgId": NEW_ORG}), 400)
    fsck(repo)


def test_apply_to_an_org_outside_the_token_or_as_a_dry_run_writes_nothing(http, repo):
    snapshot = http.post("/api/org-snapshots", headers=ALEX, json=snapshot_body(name="Kept")).json()["snapshot"]
    refs = all_refs(repo)
    error(http.post(f"/api/org-snapshots/{snapshot['_id']}/apply", headers=ALEX,
                    json={"targetOrgId": "66aa000000000000000000ff", "targetOrgName": "Elsewhere"}), 403)
    target = "66aa000000000000000000fe"
    token_for_target = bearer(token(ALEX_ID, [ACME_ID, target]))
    previewed = http.post(f"/api/org-snapshots/{snapshot['_id']}/apply", headers=token_for_target,
                          json={"targetOrgId": target, "targetOrgName": "Preview Co", "dryRun": True})
    assert previewed.status_code == 201, previewed.text
    body = previewed.json()
    assert body["dryRun"] is True and body["orgId"] == target
    (change,) = body["changes"]
    assert change["ref"] == f"refs/heads/orgs/{target}" and change["old"] is None
    assert len(change["diff"]["collections"]["prompts"]["added"]) == 20
    assert all_refs(repo) == refs


# --- orgs --------------------------------------------------------------------------------------------


def imported_document() -> dict:
    document = initech_document()
    document["org"] = {"id": IMPORTED_ORG, "name": "Umbrella"}  # its users are Acme's: Alex among them
    return document


def test_put_imports_an_export_and_an_unchanged_one_is_skipped(http, repo):
    document = imported_document()
    first = http.put(f"/api/orgs/{IMPORTED_ORG}", headers=ALEX, json=document)
    assert first.status_code == 200
    assert (first.json()["message"], first.json()["skipped"], first.json()["orgName"]) == ("Imported", False, "Umbrella")
    assert "Alex Rep" in git(repo, "log", "-1", "--format=%an", f"orgs/{IMPORTED_ORG}")
    again = http.put(f"/api/orgs/{IMPORTED_ORG}", headers=ALEX, json=document).json()
    assert again["skipped"] is True and again["commit"] == first.json()["commit"]
    exported = http.get(f"/api/orgs/{IMPORTED_ORG}", headers=ALEX).json()
    assert exported == json.loads(run_cli("org", "export", IMPORTED_ORG, "--format", "json", repo=repo).stdout)
    assert exported["org"] == {"id": IMPORTED_ORG, "name": "Umbrella"}
    fsck(repo)


def test_put_of_another_orgs_export_is_400_and_writes_nothing(http, repo):
    refs = all_refs(repo)
    details = error(http.put(f"/api/orgs/{IMPORTED_ORG}", headers=ALEX, json=initech_document()), 400)
    assert details == f"request body holds org {INITECH_ID}, not {IMPORTED_ORG}; nothing was written"
    assert all_refs(repo) == refs


def test_put_names_every_bad_field_with_its_document_path(http, repo):
    document = imported_document()
    del document["users"][0]["email"]
    document["pipelines"][1]["name"] = 7
    refs = all_refs(repo)
    details = error(http.put(f"/api/orgs/{IMPORTED_ORG}", headers=ALEX, json=document), 400)
    assert "request body: users[0].email: required field is missing" in details
    assert "request body: pipelines[1].name: Input should be a valid string (got 7)" in details
    assert all_refs(repo) == refs


def test_put_takes_a_json_object_only(http):
    assert "expected a JSON object" in error(http.put(f"/api/orgs/{IMPORTED_ORG}", headers=ALEX, json=[1]), 400)
    yaml_body = http.put(f"/api/orgs/{IMPORTED_ORG}", headers={**ALEX, "Content-Type": "application/json"},
                         content=b"org: {id: x, name: y}")
    assert "expected a JSON object" in error(yaml_body, 400)
    not_json = http.put(f"/api/orgs/{IMPORTED_ORG}", headers={**ALEX, "Content-Type": "text/plain"}, content=b"{}")
    assert "Content-Type: application/json" in error(not_json, 400)


def test_put_to_an_org_outside_the_token_is_403(http):
    error(http.put(f"/api/orgs/{INITECH_ID}", headers=ALEX, json=initech_document()), 403)


def test_the_org_list_holds_only_the_tokens_orgs(http):
    mine = http.get("/api/orgs", headers=bearer(token(ALEX_ID, [ACME_ID]))).json()
    assert [org["_id"] for org in mine["orgs"]] == [ACME_ID] and "unreadable" not in mine
    assert {ACME_ID, INITECH_ID} <= {org["_id"] for org in http.get("/api/orgs", headers=ADMIN).json()["orgs"]}


def test_an_org_is_its_live_export_document(http, repo):
    exported = http.get(f"/api/orgs/{ACME_ID}", headers=ALEX)
    assert exported.json() == json.loads(run_cli("org", "export", ACME_ID, "--format", "json", repo=repo).stdout)
    error(http.get(f"/api/orgs/{INITECH_ID}", headers=ALEX), 403)
    assert "not found" in error(http.get(f"/api/orgs/{NEW_ORG}0", headers=bearer(token(orgs=[f"{NEW_ORG}0"]))), 404)


def test_an_org_path_is_never_a_revision(http, repo):
    commit = all_refs(repo)[f"refs/heads/orgs/{ACME_ID}"]
    error(http.get(f"/api/orgs/{commit}", headers=bearer(token(orgs=[commit]))), 404)


# --- prompt versions ---------------------------------------------------------------------------------


def create_version(http, prompt_id: str, headers=None, **body):
    return http.post(f"/api/prompts/{prompt_id}/versions", headers=headers or ACME_ONLY, json=body)


def test_version_create_is_201_in_seed_001s_shape_and_unchanged_text_is_skipped(http, repo):
    body = {"prompt": "<prompt>Be brief.</prompt>", "label": "Pre-launch checkpoint", "displayVersion": "v1.4",
            "title": "Pre-launch", "description": "Snapshot before rolling out.", "source": "ai_apply"}
    created = create_version(http, PROMPT(1), **body)
    assert created.status_code == 201
    result = created.json()
    assert (result["message"], result["skipped"], result["version"]) == ("Version saved", False, 1)
    snapshot = result["versionSnapshot"]
    assert snapshot | {"_id": None, "createdAt": None} == {
        "_id": None, "version": 1, "label": "Pre-launch checkpoint", "displayVersion": "v1.4", "title": "Pre-launch",
        "description": "Snapshot before rolling out.", "source": "ai_apply", "createdAt": None,
        "matchesCurrentPrompt": False, "preview": "<prompt>Be brief.</prompt>"}
    assert snapshot["_id"] == result["versionId"]
    again = create_version(http, PROMPT(1), prompt="<prompt>Be brief.</prompt>", label="Other")
    assert again.status_code == 201
    assert (again.json()["message"], again.json()["skipped"], again.json()["versionId"]) == ("No changes", True, result["versionId"])
    fsck(repo)


def test_version_create_without_text_takes_the_live_body(http):
    result = create_version(http, PROMPT(2)).json()
    assert result["versionSnapshot"]["matchesCurrentPrompt"] is True and result["versionSnapshot"]["source"] == "manual_save"


def test_seed_001s_body_is_open_other_fields_are_ignored(http):
    assert create_version(http, PROMPT(3), prompt="open body", platformField={"any": 1}).status_code == 201


def test_versions_are_listed_and_shown_by_number_or_latest(http, repo):
    first = create_version(http, PROMPT(4), prompt="one").json()
    second = create_version(http, PROMPT(4), prompt="two", label="Second").json()
    listed = http.get(f"/api/prompts/{PROMPT(4)}/versions", headers=ACME_ONLY).json()
    assert (listed["promptId"], listed["orgId"]) == (PROMPT(4), ACME_ID)
    assert [v["version"] for v in listed["versions"]] == [2, 1]
    assert listed == run_cli("--json", "prompt", "version", "list", PROMPT(4), "--org", ACME_ID, repo=repo).json
    shown = http.get(f"/api/prompts/{PROMPT(4)}/versions/1", headers=ACME_ONLY).json()
    assert (shown["_id"], shown["text"]) == (first["versionId"], "one")
    latest = http.get(f"/api/prompts/{PROMPT(4)}/versions/latest", headers=ACME_ONLY).json()
    assert (latest["_id"], latest["text"], latest["label"]) == (second["versionId"], "two", "Second")
    assert "versions are 1 to 2" in error(http.get(f"/api/prompts/{PROMPT(4)}/versions/3", headers=ACME_ONLY), 404)
    assert "has no alias 'two'" in error(http.get(f"/api/prompts/{PROMPT(4)}/versions/two", headers=ACME_ONLY), 404)
    assert "bad..x" in error(http.get(f"/api/prompts/{PROMPT(4)}/versions/bad..x", headers=ACME_ONLY), 400)
    assert "versions are 1 to 2" in error(http.get(f"/api/prompts/{PROMPT(4)}/versions/{'9' * 40}",
                                                   headers=ACME_ONLY), 404)


def test_latest_of_a_prompt_without_versions_is_404(http):
    assert "no versions yet" in error(http.get(f"/api/prompts/{PROMPT(5)}/versions/latest", headers=ACME_ONLY), 404)


def test_restore_makes_a_version_live_authored_by_the_tokens_user(http, repo):
    create_version(http, PROMPT(6), prompt="restored text")
    create_version(http, PROMPT(6), prompt="later text")
    restored = http.post(f"/api/prompts/{PROMPT(6)}/versions/1/restore", headers=ACME_ONLY)
    assert restored.status_code == 200
    assert (restored.json()["message"], restored.json()["version"], restored.json()["skipped"]) == ("Restored", 1, False)
    assert git(repo, "log", "-1", "--format=%an", f"orgs/{ACME_ID}") == "Alex Rep\n"
    live = json.loads(run_cli("org", "export", ACME_ID, "--format", "json", repo=repo).stdout)
    assert next(prompt for prompt in live["prompts"] if prompt["id"] == PROMPT(6))["body"] == "restored text"
    again = http.post(f"/api/prompts/{PROMPT(6)}/versions/1/restore", headers=ACME_ONLY, json={"userId": ALEX_ID})
    assert again.json()["skipped"] is True
    fsck(repo)


def test_restore_for_another_user_is_403(http, repo):
    refs = all_refs(repo)
    error(http.post(f"/api/prompts/{LEASING_PROMPT_ID}/versions/latest/restore", headers=ACME_ONLY,
                    json={"userId": "64ee9a8b1e7f2a0011223390"}), 403)
    assert all_refs(repo) == refs


def test_a_prompt_in_two_of_the_tokens_orgs_needs_orgId(http):
    assert f"in several orgs: {ACME_ID}, {INITECH_ID}" in error(create_version(http, PROMPT(7), headers=ADMIN), 400)
    chosen = http.post(f"/api/prompts/{PROMPT(7)}/versions", params={"orgId": INITECH_ID}, headers=ADMIN, json={})
    assert chosen.status_code == 201
    listed = http.get(f"/api/prompts/{PROMPT(7)}/versions", params={"orgId": INITECH_ID}, headers=ADMIN).json()
    assert listed["orgId"] == INITECH_ID and len(listed["versions"]) == 1


def test_a_ref_locked_by_a_stale_writer_is_409_and_writes_nothing(http, repo):
    lock = repo / "refs" / "prompts" / ACME_ID / f"{PROMPT(9)}.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    lock.write_text("")
    try:
        refs = all_refs(repo)
        details = error(create_version(http, PROMPT(9), prompt="blocked"), 409)
        assert f"refs/prompts/{ACME_ID}/{PROMPT(9)} has been locked for over 2 s" in details
        assert all_refs(repo) == refs
    finally:
        lock.unlink()
    assert create_version(http, PROMPT(9), prompt="free again").status_code == 201


def test_a_prompt_with_an_orgId_outside_the_token_is_403(http):
    error(http.get(f"/api/prompts/{INITECH_ONLY_PROMPT}/versions", params={"orgId": INITECH_ID}, headers=ACME_ONLY), 403)


# --- stub snapshots ----------------------------------------------------------------------------------

STUB = "lead-intake-flow"


def save_stub(http, stubref: str = STUB, headers=ACME_ONLY, **body):
    return http.post(f"/api/stubs/{stubref}/snapshots", params={"orgId": ACME_ID}, headers=headers, json=body)


def test_stub_save_is_201_in_seed_002s_shape(http, repo):
    saved = save_stub(http, snapshot_type="stub", snapshot_name="before-escalation", snapshot_gpt_chat_tasks=True)
    assert saved.status_code == 201
    snapshot = saved.json()["snapshot"]
    assert set(saved.json()) == {"snapshot"}
    assert set(snapshot) == {"stubber_snapshot_uuid", "child_snapshot_references", "createdAt", "orguuid", "snapshot",
                             "snapshot_name", "snapshot_type", "stubref", "updatedAt"}
    assert (snapshot["orguuid"], snapshot["stubref"], snapshot["snapshot_type"]) == (ACME_ID, STUB, "stub")
    assert len(snapshot["child_snapshot_references"]) == 2
    shown = run_cli("--json", "stub", "snapshot", "show", STUB, "--org", ACME_ID, "--name", "before-escalation", repo=repo)
    assert shown.json == saved.json()
    fsck(repo)


def test_stub_save_with_chosen_child_snapshots_and_the_default_name(http):
    saved = save_stub(http, snapshot_type="stub",
                      child_snapshots={"cust": {"snapshot_type": "gpt_chat_task", "chat_name": "customer_support"}})
    snapshot = saved.json()["snapshot"]
    assert (saved.status_code, snapshot["snapshot_name"], len(snapshot["child_snapshot_references"])) == (201, "_default", 1)


def test_a_gpt_chat_task_is_saved_listed_and_restored(http):
    saved = save_stub(http, snapshot_type="gpt_chat_task", chat_name="advanced_support", snapshot_name="mid-call")
    assert saved.status_code == 201 and saved.json()["snapshot"]["snapshot_type"] == "gpt_chat_task"
    listed = http.get(f"/api/stubs/{STUB}/snapshots", params={"orgId": ACME_ID}, headers=ACME_ONLY).json()
    assert ("gpt_chat_task", "mid-call", "advanced_support") in {
        (s["snapshot_type"], s["snapshot_name"], s["chat_name"]) for s in listed["snapshots"]}
    restored = http.post(f"/api/stubs/{STUB}/snapshots/gpt_chat_task/mid-call/restore", params={"orgId": ACME_ID},
                         headers=ACME_ONLY, json={"chat_name": "advanced_support"})
    assert restored.status_code == 200 and restored.json()["skipped"] is True  # the live chat is what was saved


def test_stub_restore_of_a_snapshot_that_is_not_there_is_404(http):
    error(http.post(f"/api/stubs/{STUB}/snapshots/stub/never-saved/restore", params={"orgId": ACME_ID}, headers=ACME_ONLY), 404)


def test_stub_save_with_a_bad_selector_is_400_and_writes_nothing(http, repo):
    refs = all_refs(repo)
    assert "snapshot_type" in error(save_stub(http, snapshot_type="everything"), 400)
    assert "child_snapshots.cust.snapshot_type" in error(
        save_stub(http, snapshot_type="stub", child_snapshots={"cust": {"snapshot_type": "stub", "chat_name": "x"}}), 400)
    assert "not a valid identifier" in error(save_stub(http, snapshot_type="stub", snapshot_name="../x"), 400)
    assert "chat nope not found" in error(save_stub(http, snapshot_type="gpt_chat_task", chat_name="nope"), 404)
    assert all_refs(repo) == refs
