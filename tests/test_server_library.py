"""The library's part of the HTTP service: lookups scoped to some orgs (``among``), an import checked against
its org, an org's live document, and a restore authored by a user. In-process, on real repositories."""

from __future__ import annotations

import json

import pytest

from gitsnap import InvalidInput, NotFound, Store
from tests.conftest import ACME_ID, ALEX_ID, LEASING_PROMPT_ID, all_refs, git
from tests.http_service import INITECH_ID, INITECH_ONLY_PROMPT, INITECH_ONLY_STUB, build_two_orgs, initech_document


@pytest.fixture
def store(tmp_path):
    with Store(build_two_orgs(tmp_path / "gitsnap.git")) as opened:
        yield opened


def test_an_id_in_two_orgs_is_found_in_the_one_among_the_orgs_given(store):
    with pytest.raises(InvalidInput, match="in several orgs"):
        store.prompt_org(LEASING_PROMPT_ID)
    assert store.prompt_org(LEASING_PROMPT_ID, among={INITECH_ID}) == INITECH_ID
    assert store.stub_org("lead-intake-flow", among={ACME_ID}) == ACME_ID


def test_an_id_outside_the_orgs_given_is_not_found_naming_only_them(store):
    with pytest.raises(NotFound) as outside:
        store.prompt_org(INITECH_ONLY_PROMPT, among={ACME_ID})
    assert outside.value.message == f"prompt {INITECH_ONLY_PROMPT} not found in org {ACME_ID}"
    with pytest.raises(NotFound) as stub:
        store.stub_org(INITECH_ONLY_STUB, among={ACME_ID, "66aa000000000000000000ff"})
    assert stub.value.message == f"stub {INITECH_ONLY_STUB} not found in any of the orgs {ACME_ID}, 66aa000000000000000000ff"
    with pytest.raises(NotFound, match="any of the orgs given"):
        store.prompt_org(LEASING_PROMPT_ID, among=set())


def test_live_only_ignores_versions_of_a_prompt_gone_from_the_live_tree(store):
    store.create_prompt_version(INITECH_ONLY_PROMPT, org=INITECH_ID)
    document = initech_document()
    document["prompts"] = [p for p in document["prompts"] if p.get("id") != INITECH_ONLY_PROMPT]
    store.import_org(json.dumps(document).encode())
    assert store.prompt_org(INITECH_ONLY_PROMPT) == INITECH_ID
    with pytest.raises(NotFound):
        store.prompt_org(INITECH_ONLY_PROMPT, live_only=True)


def test_a_snapshot_of_another_org_is_the_same_not_found_as_a_missing_one(store):
    snapshot = store.create_snapshot(INITECH_ID, ALEX_ID, "Initech").snapshot.id
    assert store.show_snapshot(snapshot, among={INITECH_ID}).snapshot.id == snapshot
    missing = "6650a1b2c3d4e5f601234567"
    for call in (store.show_snapshot, store.delete_snapshot,
                 lambda sid, among: store.apply_snapshot(sid, "66aa000000000000000000ff", "X", among=among)):
        with pytest.raises(NotFound) as elsewhere:
            call(snapshot, among={ACME_ID})
        with pytest.raises(NotFound) as nowhere:
            call(missing, among={ACME_ID})
        assert elsewhere.value.message.replace(snapshot, "<id>") == nowhere.value.message.replace(missing, "<id>")
    assert store.show_snapshot(snapshot).snapshot.id == snapshot  # still there


def test_listings_hold_only_the_orgs_given(store):
    store.create_snapshot(ACME_ID, ALEX_ID, "Acme")
    store.create_snapshot(INITECH_ID, ALEX_ID, "Initech")
    assert {s.source_org_id for s in store.list_snapshots(among={ACME_ID, "66aa000000000000000000ff"}).snapshots} == {ACME_ID}
    assert store.list_snapshots(among=set()).snapshots == []
    assert {s.source_org_id for s in store.list_snapshots().snapshots} == {ACME_ID, INITECH_ID}
    assert [o.id for o in store.list_orgs(among={INITECH_ID}).orgs] == [INITECH_ID]


def test_an_import_for_another_org_is_refused_before_anything_is_written(store):
    refs = all_refs(store.path)
    with pytest.raises(InvalidInput) as refused:
        store.import_org(json.dumps(initech_document()).encode(), name="request body", org=ACME_ID)
    assert refused.value.message == f"request body holds org {INITECH_ID}, not {ACME_ID}; nothing was written"
    assert all_refs(store.path) == refs
    assert store.import_org(json.dumps(initech_document()).encode(), org=INITECH_ID).skipped


def test_an_org_document_is_its_live_state_only(store):
    assert store.org_document(ACME_ID)["org"]["id"] == ACME_ID
    commit = all_refs(store.path)[f"refs/heads/orgs/{ACME_ID}"]
    with pytest.raises(NotFound):
        store.org_document(commit)
    with pytest.raises(InvalidInput):
        store.org_document("..")


def test_a_restore_by_a_user_is_authored_by_them(store):
    store.create_prompt_version(LEASING_PROMPT_ID, org=ACME_ID, text="first")
    result = store.restore_prompt_version(LEASING_PROMPT_ID, 1, org=ACME_ID, user_id=ALEX_ID)
    assert git(store.path, "log", "-1", "--format=%an <%ae>%n%(trailers:key=User,valueonly)", result.commit) == \
        f"Alex Rep <alex@acme.example>\n{ALEX_ID}\n\n"
    with pytest.raises(NotFound, match="is not a member of org"):
        store.restore_prompt_version(LEASING_PROMPT_ID, 1, org=ACME_ID, user_id="64ee9a8b1e7f2a00112233aa")
