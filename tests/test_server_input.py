"""What a request body may not be, against a real `gitsnap serve`: over the size limit (413, with or without
a Content-Length), not JSON, not an object, wrongly typed, with unknown fields or hostile strings (400
naming the field), and a failure nobody expected (500 without a traceback). Nothing is written on any."""

from __future__ import annotations

import json
import shutil
import socket

import pytest

from tests.conftest import ACME_ID, ALEX_ID, FIXTURES, LEASING_PROMPT_ID, all_refs
from tests.http_service import GitsnapServer, bearer, module_server, token

ACME = bearer(token(ALEX_ID, [ACME_ID]))
VERSIONS = f"/api/prompts/{LEASING_PROMPT_ID}/versions?orgId={ACME_ID}"
LIMIT = 10 * 2**20  # the default --max-body


repo, server, http = module_server("input")


@pytest.fixture
def unchanged(repo):
    """Checks, after the test, that no ref moved."""
    before = all_refs(repo)
    yield
    assert all_refs(repo) == before


def refused(response, status: int = 400) -> str:
    assert response.status_code == status, response.text
    assert set(response.json()) == {"error", "details"}, response.text
    return response.json()["details"]


def raw_request(server, method: str, path: str, headers: list[str], body: bytes = b"") -> tuple[int, dict]:
    """A request written by hand on a socket (a Content-Length that lies, a chunked body left unfinished);
    the response's status and JSON body, read as soon as the server answers."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as connection:
        head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", *headers, "", ""]
        connection.sendall("\r\n".join(head).encode() + body)
        response = b""
        while b"\r\n\r\n" not in response or len(response.split(b"\r\n\r\n", 1)[1]) < _length(response):
            chunk = connection.recv(65536)
            if not chunk:
                break
            response += chunk
    status_line, _, rest = response.partition(b"\r\n")
    return int(status_line.split()[1]), json.loads(rest.split(b"\r\n\r\n", 1)[1])


def _length(response: bytes) -> int:
    for line in response.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            return int(line.split(b":")[1])
    return 1 << 30


AUTH = f"Authorization: Bearer {token(ALEX_ID, [ACME_ID])}"


# --- the body limit ----------------------------------------------------------------------------------


def test_a_content_length_over_the_limit_is_413_before_the_body_is_read(server, unchanged):
    status, body = raw_request(server, "POST", VERSIONS, [AUTH, "Content-Type: application/json", f"Content-Length: {LIMIT + 1}"])
    assert status == 413 and body["error"] == "Request body too large"
    assert f"{LIMIT + 1} bytes" in body["details"] and "nothing was written" in body["details"]


@pytest.mark.parametrize("method, path", [("POST", VERSIONS), ("PUT", f"/api/orgs/{ACME_ID}")])
def test_a_chunked_body_is_refused_as_soon_as_it_passes_the_limit(server, unchanged, method, path):
    # one chunk just over the limit and no final chunk: the answer comes without the rest of the body
    chunk = b"{" + b" " * LIMIT + b"}"
    body = b"%x\r\n%s\r\n" % (len(chunk), chunk)
    status, answer = raw_request(server, method, path, [AUTH, "Content-Type: application/json", "Transfer-Encoding: chunked"], body)
    assert status == 413 and f"more than {LIMIT} bytes" in answer["details"]


def test_a_body_at_the_limit_is_read(http):
    padded = json.dumps({"label": "At the limit", "padding": ""})
    body = padded.replace('"padding": ""', '"padding": "' + "x" * (LIMIT - len(padded)) + '"').encode()
    assert len(body) == LIMIT
    response = http.post(VERSIONS, headers={**ACME, "Content-Type": "application/json"}, content=body)
    assert response.status_code == 201, response.text


def test_the_limit_is_the_servers_max_body(repo, tmp_path_factory, unchanged):
    server = GitsnapServer(repo, tmp_path_factory.mktemp("home"), "--max-body", "64")
    try:
        body = json.dumps({"label": "x" * 40}).encode()
        over = server.http.post(VERSIONS, headers={**ACME, "Content-Type": "application/json"}, content=body + b" " * 48)
        assert "this server takes at most 64" in refused(over, 413)
    finally:
        server.stop()


def test_an_import_over_the_limit_is_413_and_writes_nothing(http, unchanged):
    document = json.loads((FIXTURES / "acme.json").read_text())
    document["org"]["padding"] = "x" * LIMIT
    refused(http.put(f"/api/orgs/{ACME_ID}", headers=ACME, json=document), 413)


# --- not JSON, not an object, wrong types, unknown fields --------------------------------------------


@pytest.mark.parametrize("content, expected", [
    (b'{"label": ', "line 1, column 11: invalid JSON"),
    (b'{"label": "a", "label": "b"}', "duplicate key 'label'"),
    (b'{"label": NaN}', "NaN is not a JSON number"),
    (b'{"label": "x", "n": 1e400}', "n"),
    (b'{"label": "caf\xe9"}', "not UTF-8 text (byte 0xe9"),
    (b"[" * 100_000, "request body"),
    (b"", "a JSON object is required"),
    (b"[1, 2]", "expected a JSON object, got a list"),
    (b'"text"', "expected a JSON object, got a string"),
])
def test_a_body_that_is_not_a_json_object_is_400_naming_what(http, unchanged, content, expected):
    details = refused(http.post(VERSIONS, headers={**ACME, "Content-Type": "application/json"}, content=content))
    assert details.startswith("request body") and expected in details


def test_a_body_sent_as_another_content_type_is_400(http, unchanged):
    details = refused(http.post(VERSIONS, headers={**ACME, "Content-Type": "text/plain"}, content=b'{"label": "x"}'))
    assert details == "request body: not JSON (send it with Content-Type: application/json); nothing was written"


@pytest.mark.parametrize("path, body, expected", [
    ("/api/org-snapshots", {"name": 5, "sourceOrgId": ACME_ID, "sourceUserId": ALEX_ID},
     "request body: name: Input should be a valid string (got 5)"),
    ("/api/org-snapshots", {"name": "n", "sourceOrgId": ACME_ID}, "request body: sourceUserId: required, but missing"),
    ("/api/org-snapshots", {"name": "n", "sourceOrgId": ACME_ID, "sourceUserId": ALEX_ID, "source_org_id": "x"},
     "request body: source_org_id: unknown field"),
    (VERSIONS, {"label": ["a"]}, "request body: label: Input should be a valid string (got a list)"),
    (VERSIONS, {"source": "copied"}, "request body: source: Input should be 'manual_save', 'ai_apply' or 'checkpoint'"),
    ("/api/stubs/lead-intake-flow/snapshots", {"snapshot_type": "stub", "snapshot_gpt_chat_tasks": "yes"},
     "request body: snapshot_gpt_chat_tasks: Input should be a valid boolean (got 'yes')"),
    ("/api/stubs/lead-intake-flow/snapshots", {"snapshot_type": "stub", "chats": []},
     "request body: chats: unknown field"),
    ("/api/org-snapshots/6650a1b2c3d4e5f601234567/apply", {"targetOrgId": ACME_ID, "replaceConfig": 1},
     "request body: replaceConfig: Input should be a valid boolean (got 1)"),
])
def test_a_field_of_the_wrong_type_or_unknown_is_400_naming_it(http, unchanged, path, body, expected):
    assert expected in refused(http.post(path, headers=ACME, json=body))


def test_several_problems_are_named_together(http, unchanged):
    details = refused(http.post("/api/org-snapshots", headers=ACME, json={"name": 1, "extra": True}))
    assert details.splitlines()[0] == "4 problems in the request; nothing was written:"
    assert len(details.splitlines()) == 5


# --- hostile strings: the rules of CLI arguments -----------------------------------------------------


@pytest.mark.parametrize("body, expected", [
    ('{"label": "two\\nlines"}', "label 'two\\nlines' must be one line of text (it holds a line break)"),
    ('{"title": "a\\u2028b"}', "title 'a\\u2028b' must be one line of text"),
    ('{"displayVersion": "v\\u0007"}', "the control character U+0007"),
    ('{"description": "nul\\u0000"}', "a NUL character"),
    ('{"label": "\\ud800"}', "lone surrogate"),
    ('{"prompt": "text \\udfff"}', "lone surrogate"),
    ('{"ignoredField": "\\udc80"}', "lone surrogate"),
])
def test_hostile_strings_in_a_version_are_400_not_500(http, unchanged, body, expected):
    assert expected in refused(http.post(VERSIONS, headers={**ACME, "Content-Type": "application/json"},
                                         content=body.encode()))


@pytest.mark.parametrize("path, body, expected", [
    ("/api/org-snapshots", '{"name": "\\ud800x", "sourceOrgId": "%s", "sourceUserId": "%s"}' % (ACME_ID, ALEX_ID),
     "lone surrogate"),
    ("/api/org-snapshots", '{"name": "n", "sourceOrgId": "../%s", "sourceUserId": "%s"}' % (ACME_ID, ALEX_ID),
     "may not use org"),
    ("/api/stubs/lead-intake-flow/snapshots", '{"snapshot_type": "stub", "snapshot_name": "a/b"}',
     "'a/b' is not a valid identifier"),
    ("/api/stubs/lead-intake-flow/snapshots", '{"snapshot_type": "gpt_chat_task", "chat_name": "\\ud800"}',
     "lone surrogate"),
    ("/api/stubs/lead-intake-flow/snapshots",
     '{"snapshot_type": "stub", "child_snapshots": {"x.lock": {"snapshot_type": "gpt_chat_task", "chat_name": "customer_support"}}}',
     "'x.lock' is not a valid identifier"),
])
def test_hostile_strings_elsewhere_are_refused_with_the_field(http, unchanged, path, body, expected):
    response = http.post(path, headers={**ACME, "Content-Type": "application/json"}, content=body.encode())
    assert response.status_code in (400, 403)
    assert expected in response.json()["details"]


def test_a_hostile_path_is_refused(http, unchanged):
    assert "not a valid identifier" in refused(http.get("/api/prompts/..%2e/versions", headers=ACME))
    assert "not a valid identifier" in refused(http.get("/api/stubs/a.lock/snapshots", headers=ACME))


# --- a failure nobody expected -----------------------------------------------------------------------


def test_an_unexpected_failure_is_a_500_without_a_traceback_logged_with_its_request_id(repo, tmp_path_factory):
    damaged = tmp_path_factory.mktemp("damaged") / "gitsnap.git"
    shutil.copytree(repo, damaged)
    tip = all_refs(damaged)[f"refs/heads/orgs/{ACME_ID}"]
    loose = damaged / "objects" / tip[:2] / tip[2:]
    loose.unlink()
    loose.mkdir()  # the tip's object file is a directory: reading it fails in a way the library never expects
    server = GitsnapServer(damaged, tmp_path_factory.mktemp("home"))
    try:
        response = server.http.get(f"/api/orgs/{ACME_ID}", headers=ACME)
        request_id = response.headers["x-request-id"]
        assert response.status_code == 500
        assert response.json() == {"error": "Internal error", "details": "the server failed on this request; its "
                                   f"log has the details under request id {request_id}"}
        log = server.wait_for_log(f"request {request_id} (GET /api/orgs/{ACME_ID}) failed")
        assert "Traceback" in log and "IsADirectoryError" in log
        assert server.http.get("/healthz").status_code == 200  # the server goes on
    finally:
        server.stop()
