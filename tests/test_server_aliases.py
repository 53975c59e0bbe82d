"""Prompt aliases over HTTP against a real `gitsnap serve --protect-alias production`."""

from __future__ import annotations

import pytest

from gitsnap import Store
from tests.conftest import ACME_ID, ALEX_ID, LEASING_PROMPT_ID, all_refs, fsck, git
from tests.http_service import INITECH_ONLY_PROMPT, GitsnapServer, bearer, build_two_orgs, token

ALEX = bearer(token(ALEX_ID, [ACME_ID]))
ADMIN = bearer(token(ALEX_ID, [ACME_ID], role="admin"))
ALIASES = f"/api/prompts/{LEASING_PROMPT_ID}/aliases"


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    path = build_two_orgs(tmp_path_factory.mktemp("aliases") / "gitsnap.git")
    with Store(path) as store:
        for text in ("one", "two", "three"):
            store.create_prompt_version(LEASING_PROMPT_ID, org=ACME_ID, text=text)
    return path


@pytest.fixture(scope="module")
def http(repo, tmp_path_factory):
    running = GitsnapServer(repo, tmp_path_factory.mktemp("home"), "--protect-alias", "production")
    yield running.http
    running.stop()


def envelope(response, status: int) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error", "details"}, body
    return body["details"]


def test_set_list_show_and_history(http, repo):
    moved = http.put(f"{ALIASES}/staging", json={"version": 2, "reason": "QA"}, headers=ALEX)
    assert moved.status_code == 200, moved.text
    assert moved.json() == {"alias": "staging", "version": 2, "versionId": moved.json()["versionId"],
                            "previousVersion": None, "skipped": False}
    again = http.put(f"{ALIASES}/staging", json={"version": 2}, headers=ALEX)
    assert again.json()["skipped"] is True
    http.put(f"{ALIASES}/staging", json={"version": "latest", "expect": 2}, headers=ALEX).raise_for_status()
    listed = http.get(ALIASES, headers=ALEX).json()
    assert [(a["alias"], a["version"]) for a in listed["aliases"]] == [("staging", 3)]
    shown = http.get(f"/api/prompts/{LEASING_PROMPT_ID}/versions/staging", headers=ALEX).json()
    assert shown["version"] == 3 and shown["text"] == "three" and shown["aliases"] == ["staging"]
    history = http.get(f"{ALIASES}/staging/history", headers=ALEX).json()
    assert [(m["version"], m["previousVersion"], m["reason"]) for m in history["moves"]] == [(3, 2, None), (2, None, "QA")]
    assert git(repo, "show", f"refs/prompt-aliases/{ACME_ID}/{LEASING_PROMPT_ID}/staging:prompt.yaml").endswith("three\n")
    fsck(repo)


def test_expect_elsewhere_is_409_naming_where_it_is_and_writes_nothing(http, repo):
    http.put(f"{ALIASES}/canary", json={"version": 1}, headers=ALEX).raise_for_status()
    refs = all_refs(repo)
    details = envelope(http.put(f"{ALIASES}/canary", json={"version": 3, "expect": 2}, headers=ALEX), 409)
    assert "version 1" in details and all_refs(repo) == refs


def test_a_protected_alias_needs_an_admin_token(http, repo):
    refs = all_refs(repo)
    assert "role admin" in envelope(http.put(f"{ALIASES}/production", json={"version": 1}, headers=ALEX), 403)
    assert all_refs(repo) == refs
    assert http.put(f"{ALIASES}/production", json={"version": 1}, headers=ADMIN).status_code == 200
    assert "role admin" in envelope(http.delete(f"{ALIASES}/production", headers=ALEX), 403)
    deleted = http.delete(f"{ALIASES}/production", headers=ADMIN)
    assert deleted.status_code == 200 and deleted.json()["deleted"] is True
    assert http.get(f"{ALIASES}/production/history", headers=ALEX).json()["moves"][0]["deleted"] is True


@pytest.mark.parametrize("alias, body, status", [
    ("latest", {"version": 1}, 400), ("bad..name", {"version": 1}, 400), ("a\u2028b", {"version": 1}, 400),
    ("ok", {"version": 99}, 404), ("ok", {"version": 1, "reason": "two\nlines"}, 400),
    ("ok", {"version": 1, "colour": "blue"}, 400), ("ok", {"version": [1]}, 400), ("ok", {}, 400),
])
def test_bad_alias_input_is_refused_and_writes_nothing(http, repo, alias, body, status):
    refs = all_refs(repo)
    envelope(http.put(f"{ALIASES}/{alias}", json=body, headers=ALEX), status)
    assert all_refs(repo) == refs


def test_another_orgs_prompt_is_not_found_whether_or_not_it_exists(http):
    elsewhere = envelope(http.get(f"/api/prompts/{INITECH_ONLY_PROMPT}/aliases", headers=ALEX), 404)
    nowhere = envelope(http.get("/api/prompts/65f9b1c2e8a1d4e001a0ffff/aliases", headers=ALEX), 404)
    assert elsewhere.replace(INITECH_ONLY_PROMPT, "X") == nowhere.replace("65f9b1c2e8a1d4e001a0ffff", "X")
    moved = http.put(f"/api/prompts/{INITECH_ONLY_PROMPT}/aliases/x", json={"version": 1}, headers=ALEX)
    assert envelope(moved, 404).replace(INITECH_ONLY_PROMPT, "X") == nowhere.replace("65f9b1c2e8a1d4e001a0ffff", "X")
