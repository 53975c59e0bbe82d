"""Tokens against a real `gitsnap serve`: what is refused (401), what is forbidden (403), and that a token
never learns whether another org's snapshot, prompt or stub exists."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.conftest import ACME_ID, ALEX_ID, LEASING_PROMPT_ID, all_refs
from tests.http_service import (
    INITECH_ID,
    INITECH_ONLY_PROMPT,
    INITECH_ONLY_STUB,
    INITECH_USER,
    GitsnapServer,
    bearer,
    module_server,
    token,
)

ACME = bearer(token(ALEX_ID, [ACME_ID]))


repo, server, http = module_server("auth")


def unauthorized(response) -> str:
    assert response.status_code == 401, response.text
    assert response.headers["www-authenticate"] == "Bearer"
    assert set(response.json()) == {"error", "details"} and response.json()["error"] == "Unauthorized"
    return response.json()["details"]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hs256_keyed_with(key: bytes, claims: dict) -> str:
    """An HS256 token whose HMAC key is ``key`` (PyJWT refuses to make one with a public key: we do it by hand)."""
    signing_input = f"{b64(json.dumps({'alg': 'HS256', 'typ': 'JWT'}).encode())}.{b64(json.dumps(claims).encode())}"
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(signature)}"


def claims(**changes) -> dict:
    return {"sub": ALEX_ID, "orgs": [ACME_ID], "exp": int(time.time()) + 600, **changes}


# --- 401 ---------------------------------------------------------------------------------------------


def test_no_token_is_401(http):
    assert "no token" in unauthorized(http.get("/api/orgs"))


@pytest.mark.parametrize("header", ["Basic YWxleDpzZWNyZXQ=", "Bearer", "Token abc", "bearer"])
def test_an_authorization_that_is_not_a_bearer_token_is_401(http, header):
    unauthorized(http.get("/api/orgs", headers={"Authorization": header}))


@pytest.mark.parametrize("value", ["not-a-jwt", "a.b.c", "e30.e30.", "eyJhbGciOiJIUzI1NiJ9.!!!.sig"])
def test_a_malformed_token_is_401(http, value):
    unauthorized(http.get("/api/orgs", headers=bearer(value)))


def test_a_token_signed_with_another_secret_is_401(http):
    details = unauthorized(http.get("/api/orgs", headers=bearer(token(secret="another-secret-of-at-least-32-bytes!!"))))
    assert details == "the token's signature does not match"


def test_an_expired_token_is_401(http):
    assert unauthorized(http.get("/api/orgs", headers=bearer(token(expires_in=-5)))) == "the token has expired"


def test_a_token_without_exp_or_sub_is_401(http):
    assert "no exp claim" in unauthorized(http.get("/api/orgs", headers=bearer(token(exp=None))))
    assert "no sub claim" in unauthorized(http.get("/api/orgs", headers=bearer(token(sub=None))))
    unauthorized(http.get("/api/orgs", headers=bearer(token(sub=""))))


@pytest.mark.parametrize("orgs", [None, ACME_ID, {"org": ACME_ID}, [ACME_ID, 7], [[ACME_ID]]])
def test_an_orgs_claim_that_is_not_a_list_of_strings_is_401(http, orgs):
    value = jwt.encode({key: value for key, value in claims(orgs=orgs).items() if value is not None},
                       "test-secret-for-gitsnap-serve-0123456789abcdef", algorithm="HS256")
    assert "orgs claim" in unauthorized(http.get("/api/orgs", headers=bearer(value)))


def test_an_unsigned_token_alg_none_is_401(http):
    value = jwt.encode(claims(), None, algorithm="none")
    assert "'none' are not accepted" in unauthorized(http.get("/api/orgs", headers=bearer(value)))


def test_an_rs256_token_to_a_server_with_only_a_secret_is_401(http):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    assert "'RS256' are not accepted" in unauthorized(
        http.get("/api/orgs", headers=bearer(jwt.encode(claims(), key, algorithm="RS256"))))


def test_a_request_without_a_token_is_refused_before_its_body_is_read(http):
    bad_json = http.post(f"/api/prompts/{LEASING_PROMPT_ID}/versions", headers={"Content-Type": "application/json"},
                         content=b'{"label": ')
    assert "no token" in unauthorized(bad_json)
    assert "no token" in unauthorized(http.put(f"/api/orgs/{ACME_ID}", headers={"Content-Type": "text/plain"},
                                               content=b"not json"))


def test_every_route_but_health_openapi_and_docs_needs_a_token(http):
    for path, methods in http.get("/openapi.json").json()["paths"].items():
        concrete = path.replace("{id}", "6650a1b2c3d4e5f601234567").replace("{orgId}", ACME_ID).replace(
            "{promptId}", LEASING_PROMPT_ID).replace("{n}", "1").replace("{stubref}", "lead-intake-flow").replace(
            "{type}", "stub").replace("{name}", "_default")
        for method in methods:
            response = http.request(method.upper(), concrete, json={})
            assert (response.status_code == 401) == (path != "/healthz"), (method, path, response.text)


# --- 403, and what a token may use -------------------------------------------------------------------


def test_an_org_outside_the_token_is_403_whether_or_not_it_exists(http):
    elsewhere = http.get(f"/api/orgs/{INITECH_ID}", headers=ACME)
    nowhere = http.get("/api/orgs/66aa0000000000000000dead", headers=ACME)
    assert elsewhere.status_code == nowhere.status_code == 403
    assert elsewhere.json()["details"].replace(INITECH_ID, "X") == nowhere.json()["details"].replace("66aa0000000000000000dead", "X")


def test_a_star_token_may_use_every_org(http):
    everyone = bearer(token("64ee9a8b1e7f2a0011223390", ["*"]))
    assert {org["_id"] for org in http.get("/api/orgs", headers=everyone).json()["orgs"]} == {ACME_ID, INITECH_ID}
    assert http.get(f"/api/orgs/{INITECH_ID}", headers=everyone).status_code == 200


def test_a_token_of_one_org_finds_a_prompt_both_orgs_hold_in_its_own(http):
    listed = http.get(f"/api/prompts/{LEASING_PROMPT_ID}/versions", headers=ACME).json()
    assert listed["orgId"] == ACME_ID


def test_a_token_with_no_orgs_may_use_none(http):
    nothing = bearer(token(orgs=[]))
    assert http.get("/api/orgs", headers=nothing).json() == {"orgs": []}
    assert http.get(f"/api/prompts/{LEASING_PROMPT_ID}/versions", headers=nothing).status_code == 404


# --- a token never learns whether another org's object exists ----------------------------------------


def same_answer(first, second, first_id: str, second_id: str) -> None:
    """Two responses alike but for the id asked about: same status, same body."""
    assert first.status_code == second.status_code, (first.text, second.text)
    assert first.status_code in (403, 404)
    assert first.text.replace(first_id, "<id>") == second.text.replace(second_id, "<id>")


@pytest.fixture(scope="module")
def initech_snapshot(server):
    everyone = bearer(token(INITECH_USER, [INITECH_ID]))
    body = {"name": "Initech only", "sourceOrgId": INITECH_ID, "sourceUserId": INITECH_USER}
    return server.http.post("/api/org-snapshots", headers=everyone, json=body).json()["snapshot"]["_id"]


@pytest.mark.parametrize("method, path, body", [
    ("GET", "/api/org-snapshots/{}", None),
    ("DELETE", "/api/org-snapshots/{}", None),
    ("POST", "/api/org-snapshots/{}/apply", {"targetOrgId": ACME_ID, "replaceConfig": True}),
])
def test_another_orgs_snapshot_is_answered_as_one_that_does_not_exist(http, repo, initech_snapshot, method, path, body):
    refs = all_refs(repo)
    missing = "6650a1b2c3d4e5f601234567"
    same_answer(http.request(method, path.format(initech_snapshot), headers=ACME, json=body),
                http.request(method, path.format(missing), headers=ACME, json=body), initech_snapshot, missing)
    assert all_refs(repo) == refs


@pytest.mark.parametrize("method, path, body", [
    ("GET", "/api/prompts/{}/versions", None),
    ("POST", "/api/prompts/{}/versions", {"label": "probe"}),
    ("GET", "/api/prompts/{}/versions/1", None),
    ("GET", "/api/prompts/{}/versions/latest", None),
    ("POST", "/api/prompts/{}/versions/1/restore", None),
])
@pytest.mark.parametrize("org", [None, INITECH_ID])
def test_another_orgs_prompt_is_answered_as_one_that_does_not_exist(http, repo, method, path, body, org):
    http.post(f"/api/prompts/{INITECH_ONLY_PROMPT}/versions", headers=bearer(token(INITECH_USER, [INITECH_ID])), json={})
    refs = all_refs(repo)
    missing = "77bb0000000000000000dead"
    params = {"orgId": org} if org else {}
    same_answer(http.request(method, path.format(INITECH_ONLY_PROMPT), params=params, headers=ACME, json=body),
                http.request(method, path.format(missing), params=params, headers=ACME, json=body),
                INITECH_ONLY_PROMPT, missing)
    assert all_refs(repo) == refs


@pytest.mark.parametrize("method, path, body", [
    ("GET", "/api/stubs/{}/snapshots", None),
    ("POST", "/api/stubs/{}/snapshots", {"snapshot_type": "stub", "snapshot_gpt_chat_tasks": True}),
    ("POST", "/api/stubs/{}/snapshots/stub/_default/restore", None),
    ("POST", "/api/stubs/{}/snapshots/gpt_chat_task/_default/restore", {"chat_name": "only_chat"}),
])
@pytest.mark.parametrize("org", [None, INITECH_ID])
def test_another_orgs_stub_is_answered_as_one_that_does_not_exist(http, repo, method, path, body, org):
    initech = bearer(token(INITECH_USER, [INITECH_ID]))
    http.post(f"/api/stubs/{INITECH_ONLY_STUB}/snapshots", headers=initech,
              json={"snapshot_type": "stub", "snapshot_gpt_chat_tasks": True})
    refs = all_refs(repo)
    missing = "no-such-flow"
    params = {"orgId": org} if org else {}
    same_answer(http.request(method, path.format(INITECH_ONLY_STUB), params=params, headers=ACME, json=body),
                http.request(method, path.format(missing), params=params, headers=ACME, json=body),
                INITECH_ONLY_STUB, missing)
    assert all_refs(repo) == refs


# --- RS256 and ES256: a server that has only a public key --------------------------------------------


def key_pair(kind: str):
    if kind == "RS256":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return ec.generate_private_key(ec.SECP256R1())


def public_pem(private) -> bytes:
    return private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


@pytest.fixture(scope="module", params=["RS256", "ES256"])
def public_key_server(request, repo, tmp_path_factory):
    private = key_pair(request.param)
    home = tmp_path_factory.mktemp("home")
    (home / "idp.pem").write_bytes(public_pem(private))
    running = GitsnapServer(repo, home, "--jwt-public-key", str(home / "idp.pem"), env={"GITSNAP_JWT_SECRET": None})
    yield running, private, request.param
    running.stop()


def test_a_token_of_the_identity_provider_is_accepted(public_key_server):
    server, private, algorithm = public_key_server
    response = server.http.get("/api/orgs", headers=bearer(jwt.encode(claims(), private, algorithm=algorithm)))
    assert response.status_code == 200 and [org["_id"] for org in response.json()["orgs"]] == [ACME_ID]


def test_an_hs256_token_to_a_server_with_only_a_public_key_is_401(public_key_server):
    server, private, _ = public_key_server
    assert "'HS256' are not accepted" in unauthorized(server.http.get("/api/orgs", headers=bearer(token())))
    keyed_with_public_key = hs256_keyed_with(public_pem(private), claims())
    unauthorized(server.http.get("/api/orgs", headers=bearer(keyed_with_public_key)))


def test_a_token_signed_by_another_key_or_for_the_other_algorithm_is_401(public_key_server):
    server, _, algorithm = public_key_server
    other = key_pair(algorithm)
    assert "signature" in unauthorized(server.http.get("/api/orgs", headers=bearer(jwt.encode(claims(), other, algorithm=algorithm))))
    crossed = "ES256" if algorithm == "RS256" else "RS256"
    assert f"'{crossed}' are not accepted" in unauthorized(
        server.http.get("/api/orgs", headers=bearer(jwt.encode(claims(), key_pair(crossed), algorithm=crossed))))


def test_a_server_with_a_secret_and_a_public_key_takes_both_and_never_mixes_them(repo, tmp_path_factory):
    private = key_pair("RS256")
    home = tmp_path_factory.mktemp("home")
    server = GitsnapServer(repo, home, "--jwt-public-key", public_pem(private).decode())
    try:
        assert server.http.get("/api/orgs", headers=bearer(token())).status_code == 200
        assert server.http.get("/api/orgs", headers=bearer(jwt.encode(claims(), private, algorithm="RS256"))).status_code == 200
        unauthorized(server.http.get("/api/orgs", headers=bearer(hs256_keyed_with(public_pem(private), claims()))))
    finally:
        server.stop()
