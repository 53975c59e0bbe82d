"""Secrets never reach the repository: imports refuse them (never echoing them), --allow-secret and --redact,
stub documents too, and gitsnap scan finds what is already stored, whoever wrote it."""

from __future__ import annotations

import json
import subprocess

import pytest

from gitsnap import Store
from tests.conftest import ACME_ID, ALEX_ID, FIXTURES, all_refs, fsck, git, run_cli
from tests.test_secretscan import CASES

STUB = "lead-intake-flow"


def acme_with(tmp_path, **automation_fields) -> str:
    document = json.loads((FIXTURES / "acme.json").read_text())
    document["automations"][0].update(automation_fields)
    path = tmp_path / "export.json"
    path.write_text(json.dumps(document))
    return str(path)


def every_byte(repo) -> bytes:
    """The contents of every object in the repository, reachable or not."""
    return subprocess.run(["git", "--git-dir", str(repo), "cat-file", "--batch-all-objects", "--batch"],
                          capture_output=True, check=True).stdout


def fragments(secret: str) -> list[str]:
    return [secret] + [secret[i:i + 12] for i in range(0, max(1, len(secret) - 12), 6)]


@pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
def test_each_kind_refuses_the_import_and_never_shows_the_value(acme_repo, tmp_path, case):
    refs, objects = all_refs(acme_repo), every_byte(acme_repo)
    path = acme_with(tmp_path, integration=case.document)
    for args in (["org", "import", path], ["--json", "org", "import", path]):
        result = run_cli(*args, repo=acme_repo)
        assert result.exit_code == 2, result.stderr
        output = result.stdout + result.stderr
        assert case.kind in output and "export.json: automations[0]" in output
        assert not any(piece in output for piece in fragments(case.secret))
    assert all_refs(acme_repo) == refs and every_byte(acme_repo) == objects


def test_the_json_error_lists_each_finding_for_a_script(acme_repo, tmp_path):
    secret = next(c for c in CASES if c.kind == "OpenAI API key")
    result = run_cli("--json", "org", "import", acme_with(tmp_path, integration=secret.document), repo=acme_repo)
    (finding,) = result.json["result"]["findings"]
    assert finding["kind"] == "OpenAI API key" and finding["field"].startswith("integration")
    assert len(finding["fingerprint"]) == 12


def test_references_and_identifiers_pass(acme_repo, tmp_path):
    fields = {"webhook": {"token": "${secret:CRM_TOKEN}", "apiKey": "${env:CRM_KEY}", "password": "{vault://crm/pw}",
                          "headers": [{"name": "Authorization", "value": "Bearer ${secret:CRM}"}]},
              "crmId": "64ee9a8b1e7f2a0011223344", "uuid": "8f14e45f-ceea-467f-a0e6-3b1d5b1c9a2b",
              "sha": "da39a3ee5e6b4b0d3255bfef95601890afd80709"}
    assert Store(acme_repo).import_org(acme_with(tmp_path, **fields)).skipped is False


def test_allow_secret_lets_a_known_false_positive_through(acme_repo, tmp_path):
    case = next(c for c in CASES if c.kind == "JWT")
    path = acme_with(tmp_path, integration=case.document)
    refused = run_cli("--json", "org", "import", path, repo=acme_repo)
    fingerprint = refused.json["result"]["findings"][0]["fingerprint"]
    allowed = run_cli("org", "import", path, "--allow-secret", fingerprint, repo=acme_repo)
    assert allowed.exit_code == 0, allowed.stderr
    assert case.secret.encode() in every_byte(acme_repo)


def test_redact_stores_a_reference_and_no_secret_reaches_any_object(acme_repo, tmp_path):
    secrets = [c for c in CASES if c.kind in ("OpenAI API key", "AWS access key id", "private key", "JWT")]
    path = acme_with(tmp_path, integrations=[c.document for c in secrets])
    result = run_cli("--json", "org", "import", path, "--redact", repo=acme_repo)
    assert result.exit_code == 0, result.stderr
    redacted = result.json["redacted"]
    assert {r["kind"] for r in redacted} >= {"OpenAI API key", "AWS access key id", "private key", "JWT"}
    stored = every_byte(acme_repo)
    for case in secrets:
        assert not any(piece.encode() in stored for piece in fragments(case.secret))
    assert f"${{secret:{redacted[0]['fingerprint']}}}".encode() in stored
    human = run_cli("org", "import", path, "--redact", repo=acme_repo)
    assert human.exit_code == 0 and "No changes" in human.stdout  # the redacted state is already live
    assert run_cli("scan", repo=acme_repo).exit_code == 0
    fsck(acme_repo)


def test_snapshot_create_from_a_source_with_a_secret_writes_nothing(acme_repo, tmp_path):
    case = next(c for c in CASES if c.kind == "GitHub token")
    refs = all_refs(acme_repo)
    result = run_cli("snapshot", "create", "--org", ACME_ID, "--user", ALEX_ID, "--name", "N",
                     "--from", acme_with(tmp_path, integration=case.document), repo=acme_repo)
    assert result.exit_code == 2 and case.secret not in result.stderr and all_refs(acme_repo) == refs


def test_a_stub_document_with_a_secret_is_refused_or_redacted(acme_repo, tmp_path):
    case = next(c for c in CASES if c.kind == "Slack token")
    stub = {"stubref": STUB, "data": {"step": 1, "slack": case.document}, "chats": {}}
    path = tmp_path / "stub.json"
    path.write_text(json.dumps(stub))
    refs = all_refs(acme_repo)
    refused = run_cli("stub", "snapshot", "save", STUB, "--from", str(path), repo=acme_repo)
    assert refused.exit_code == 2 and "stub.json: data.slack" in refused.stderr and case.secret not in refused.stderr
    assert all_refs(acme_repo) == refs
    saved = run_cli("--json", "stub", "snapshot", "save", STUB, "--from", str(path), "--redact", repo=acme_repo)
    assert saved.exit_code == 0 and saved.json["redacted"][0]["kind"] == "Slack token"
    assert case.secret.encode() not in every_byte(acme_repo)


def test_scan_finds_a_secret_written_by_plain_git_in_old_history(acme_repo):
    case = next(c for c in CASES if c.kind == "Stripe secret key")
    live = f"refs/heads/orgs/{ACME_ID}"
    blob = git(acme_repo, "hash-object", "-w", "--stdin", input=json.dumps(case.document).encode()).strip()
    tree = git(acme_repo, "mktree", input=f"100644 blob {blob}\tleak.yaml\n".encode()).strip()
    leak = git(acme_repo, "commit-tree", tree, "-p", git(acme_repo, "rev-parse", live).strip(), "-m", "leak").strip()
    clean = git(acme_repo, "commit-tree", f"{live}^{{tree}}", "-p", leak, "-m", "fixed").strip()
    git(acme_repo, "update-ref", live, clean)
    assert run_cli("scan", repo=acme_repo).exit_code == 0  # the live tree is clean
    result = run_cli("--json", "scan", "--all-history", repo=acme_repo)
    assert result.exit_code == 1
    (finding,) = result.json["findings"]
    assert finding["where"] == f"{live}:leak.yaml" and finding["kind"] == "Stripe secret key"
    assert case.secret not in result.stdout + result.stderr
