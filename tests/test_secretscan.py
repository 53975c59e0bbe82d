"""The secret scanner: each kind found in a realistic document, references and identifiers passing,
no finding ever showing the value, redaction, and fingerprints that are stable and keyed."""

from __future__ import annotations

import ast
import base64
import hashlib
import hmac
import importlib.util
import json
import random
import string
import sys
import uuid
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gitsnap import secretscan, yamlio
from gitsnap.secretscan import Finding, redact_value, scan_value

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
KEY = bytes(range(32))
ENTITY_ID = "6502a0700000000000000001"

# --- realistic fake secrets: generated, never written down, so no scanner flags this file ---------------

_RNG = random.Random(20260515)
ALNUM = string.ascii_letters + string.digits


def rand(length: int, alphabet: str = ALNUM) -> str:
    return "".join(_RNG.choice(alphabet) for _ in range(length))


def base62(number: int, width: int) -> str:
    digits = ""
    while number:
        number, digit = divmod(number, 62)
        digits = (string.digits + string.ascii_letters)[digit] + digits
    return digits.rjust(width, "0")


def github_token(prefix: str) -> str:
    """A classic GitHub token: 30 random characters and their CRC32 in base62, as GitHub issues them."""
    body = rand(30)
    return f"{prefix}_{body}{base62(zlib.crc32(body.encode()), 6)}"


def jwt() -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()
    return ".".join([part({"alg": "HS256", "typ": "JWT"}),
                     part({"sub": "64ee9a8b1e7f2a0011223399", "orgs": ["acme"], "exp": 1900000000}),
                     rand(43, ALNUM + "-_")])


def private_key() -> str:
    body = base64.encodebytes(_RNG.randbytes(400)).decode()
    return f"-----BEGIN OPENSSH PRIVATE KEY-----\n{body}-----END OPENSSH PRIVATE KEY-----\n"


def slack_bot_token() -> str:
    return f"xoxb-{_RNG.randrange(10**11, 10**12)}-{_RNG.randrange(10**12, 10**13)}-{rand(24)}"


def slack_user_token() -> str:
    return (f"xoxp-{_RNG.randrange(10**11, 10**12)}-{_RNG.randrange(10**11, 10**12)}"
            f"-{_RNG.randrange(10**12, 10**13)}-{rand(32, '0123456789abcdef')}")


@dataclass(frozen=True)
class Case:
    label: str
    kind: str
    field: str
    secret: str
    document: Any


def entity(**fields: Any) -> dict:
    return {"id": ENTITY_ID, "name": "CRM sync", "enabled": True, **fields}


def case(label: str, kind: str, field: str, secret: str, document: Any) -> Case:
    return Case(label, kind, field, secret, document)


def cases() -> list[Case]:
    """One realistic document per kind and per way a secret-like key is spelled."""
    openai_legacy = "sk-" + rand(20) + "T3BlbkFJ" + rand(20)
    openai_project = "sk-proj-" + rand(74, ALNUM + "-_") + "T3BlbkFJ" + rand(74, ALNUM + "-_")
    anthropic = "sk-ant-api03-" + rand(93, ALNUM + "-_") + "AA"
    aws_id = "AKIA" + rand(16, string.ascii_uppercase + "234567")
    aws_secret, aws_secret_snake = rand(40, ALNUM + "/+"), rand(40, ALNUM + "/+")
    ghp, gho, pat = github_token("ghp"), github_token("gho"), "github_pat_" + rand(22) + "_" + rand(59)
    xoxb, xoxp = slack_bot_token(), slack_user_token()
    hook = f"https://hooks.slack.com/services/T{rand(8, string.ascii_uppercase + string.digits)}" \
           f"/B{rand(10, string.ascii_uppercase + string.digits)}/{rand(24)}"
    sk_live, rk_live, whsec = "sk_live_" + rand(99), "rk_live_" + rand(99), "whsec_" + rand(32)
    google = "AIza" + rand(35, ALNUM + "-_")
    pem, token = private_key(), jwt()
    bearer, header, curl, env = rand(40, ALNUM + "-_"), rand(40, ALNUM + "-_"), rand(40, ALNUM), rand(32)
    db_password = rand(16, ALNUM)
    basic = base64.b64encode(f"crm-sync:{rand(10)}".encode()).decode()
    random_values = {name: rand(32) for name in ("apiKey", "api_key", "API_KEY", "x-api-key", "APIKey",
                                                 "accessToken", "auth_token", "token", "secret", "PRIVATE_KEY")}
    client_secret, client_secret_snake = rand(34, ALNUM + "~._-"), rand(34, ALNUM + "~._-")
    webhook_secret = rand(64, "0123456789abcdef")
    password = "Tr0ub4dor&3x"
    random_cases = [case(f"random value under {name}", secretscan.RANDOM, f"settings.{name}", value,
                         entity(settings={name: value, "timeoutSeconds": 30}))
                    for name, value in random_values.items()]
    return [
        case("OpenAI key, legacy", "OpenAI API key", "settings.llm.credential", openai_legacy,
             entity(settings={"llm": {"provider": "openai", "model": "gpt-4o", "credential": openai_legacy}})),
        case("OpenAI key, project, in prose", "OpenAI API key", "body", openai_project,
             {"id": ENTITY_ID, "title": "Drafts", "body": f"Call the model with {openai_project} and be brief.\n"}),
        case("Anthropic key", "Anthropic API key", "settings.llm.apiKey", anthropic,
             entity(settings={"llm": {"provider": "anthropic", "apiKey": anthropic}})),
        case("AWS access key id under a neutral key", "AWS access key id", "settings.s3.accessKeyId", aws_id,
             entity(settings={"s3": {"bucket": "acme-exports", "accessKeyId": aws_id}})),
        case("AWS secret access key, camelCase", secretscan.AWS_SECRET, "settings.s3.secretAccessKey", aws_secret,
             entity(settings={"s3": {"secretAccessKey": aws_secret}})),
        case("AWS secret access key, snake_case", secretscan.AWS_SECRET, "settings.aws_secret_access_key",
             aws_secret_snake, entity(settings={"aws_secret_access_key": aws_secret_snake})),
        case("GitHub token in a header pair", "GitHub token", "webhook.headers[0].value", ghp,
             entity(webhook={"url": "https://api.github.com/repos/acme/config/dispatches",
                             "headers": [{"name": "Authorization", "value": f"token {ghp}"}]})),
        case("GitHub OAuth token", "GitHub token", "settings.github.oauthToken", gho,
             entity(settings={"github": {"oauthToken": gho}})),
        case("GitHub fine-grained token in a template", "GitHub token", "body", pat,
             {"id": ENTITY_ID, "name": "Deploy note", "body": f"Clone with {pat} then run make.\n"}),
        case("Slack bot token", "Slack token", "settings.slack.botToken", xoxb,
             entity(settings={"slack": {"botToken": xoxb, "channel": "#leasing"}})),
        case("Slack user token", "Slack token", "settings.slack.userToken", xoxp,
             entity(settings={"slack": {"userToken": xoxp}})),
        case("Slack webhook URL", "Slack webhook URL", "actions[0].url", hook,
             entity(actions=[{"type": "post_webhook", "url": hook}])),
        case("Stripe secret key", "Stripe secret key", "settings.billing.stripeKey", sk_live,
             entity(settings={"billing": {"stripeKey": sk_live}})),
        case("Stripe restricted key", "Stripe restricted key", "settings.billing.restricted", rk_live,
             entity(settings={"billing": {"restricted": rk_live}})),
        case("Stripe webhook secret", "Stripe webhook secret", "settings.billing.signing", whsec,
             entity(settings={"billing": {"signing": whsec}})),
        case("Google API key", "Google API key", "settings.maps.browserKey", google,
             entity(settings={"maps": {"browserKey": google}})),
        case("private key block", "private key", "settings.sftp.privateKey", pem,
             entity(settings={"sftp": {"host": "files.acme.example", "privateKey": pem}})),
        case("JWT under a neutral key", "JWT", "settings.crm.session", token,
             entity(settings={"crm": {"session": token}})),
        case("password in a URL", "password in URL", "settings.database", db_password,
             entity(settings={"database": f"postgres://app:{db_password}@db.internal:5432/app"})),
        case("password", "password", "settings.smtp.password", password,
             entity(settings={"smtp": {"host": "smtp.acme.example", "password": password}})),
        case("client secret, camelCase", secretscan.RANDOM, "settings.oauth.clientSecret", client_secret,
             entity(settings={"oauth": {"clientId": "crm-sync", "clientSecret": client_secret}})),
        case("client secret, snake_case", secretscan.RANDOM, "settings.oauth.client_secret", client_secret_snake,
             entity(settings={"oauth": {"client_secret": client_secret_snake}})),
        case("hex webhook secret", secretscan.RANDOM, "settings.webhookSecret", webhook_secret,
             entity(settings={"webhookSecret": webhook_secret})),
        case("Authorization: Bearer under a JSON key", "bearer token", "settings.headers.Authorization", bearer,
             entity(settings={"headers": {"Authorization": f"Bearer {bearer}"}})),
        case("Authorization header pair", "bearer token", "headers[1].value", header,
             entity(headers=[{"name": "Accept", "value": "application/json"},
                             {"name": "Authorization", "value": f"Bearer {header}"}])),
        case("Authorization: Bearer in a prompt's curl line", "bearer token", "body", curl,
             {"id": ENTITY_ID, "title": "Lookup", "body": f"Run:\ncurl -H 'Authorization: Bearer {curl}' "
                                                          "https://api.acme.example/v1/units\n"}),
        case("Authorization: Basic under a JSON key", secretscan.BASIC, "settings.headers.Authorization", basic,
             entity(settings={"headers": {"Authorization": f"Basic {basic}"}})),
        case("API_KEY= in an .env text", secretscan.RANDOM, "settings.env", env,
             entity(settings={"env": f"REGION=ca-central-1\nAPI_KEY={env}\nDEBUG=false\n"})),
        *random_cases,
    ]


CASES = cases()


def scan(value: Any, path: str = "") -> list[Finding]:
    return scan_value(value, KEY, path)


# --- each kind is found ---------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
def test_each_kind_is_found_at_its_field(case):
    assert [(f.field, f.kind) for f in scan(case.document)] == [(case.field, case.kind)]


def test_every_kind_has_a_case():
    assert set(secretscan.KINDS) == {c.kind for c in CASES}


def test_the_caller_path_prefixes_the_field():
    document = entity(settings={"token": rand(40)})
    assert [f.field for f in scan(document, "automations[3]")] == ["automations[3].settings.token"]


def test_keys_that_are_not_plain_are_written_in_brackets():
    document = {"settings": {"crm.v2": {"Api Key": rand(32)}}}
    assert [f.field for f in scan(document)] == ['settings["crm.v2"]["Api Key"]']


@pytest.mark.parametrize("name", ["apiKey", "ApiKey", "APIKey", "api_key", "API_KEY", "api-key", "X-Api-Key",
                                  "apikey", "accessToken", "ACCESS_TOKEN", "refresh-token", "clientSecret",
                                  "CLIENT_SECRET", "signingKey", "privateKey", "Authorization", "authToken",
                                  "credentials", "dbPassword", "DB_PASSWD", "passphrase", "token2"])
def test_secret_like_keys_match_in_any_case_and_spelling(name):
    assert [f.kind for f in scan({name: rand(32)})] in ([secretscan.RANDOM], ["password"])


@pytest.mark.parametrize("name", ["tokenId", "secretName", "apiKeyId", "passwordPolicy", "max_tokens", "tokenCount",
                                  "keyboard", "monkey", "key", "keys", "secretRef", "tokenUrl", "passwordHash"])
def test_keys_that_only_mention_a_secret_pass(name):
    assert scan({name: "64ee9a8b1e7f2a0011223344"}) == []
    assert scan({name: rand(32)}) == []


# --- the value never shows -----------------------------------------------------------------------------


def substrings(secret: str, length: int = 8) -> set[str]:
    return {secret[start:start + length] for start in range(len(secret) - length + 1)}


@pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
def test_no_finding_shows_the_secret_or_any_8_characters_of_it(case):
    findings = scan(case.document)
    shown = [repr(findings), str(findings), *(str(f) for f in findings),
             *(getattr(f, name) for f in findings for name in ("field", "kind", "fingerprint"))]
    leaked = {piece for piece in substrings(case.secret) for text in shown if piece in text}
    assert findings and leaked == set()


def test_a_secret_in_a_dict_key_shows_as_its_reference_in_every_path():
    secret = github_token("ghp")
    document = {"routes": {secret: {"token": rand(40)}}}
    findings = scan(document)
    mark = secretscan.fingerprint(secret, KEY)
    assert [f.field for f in findings] == [f'routes["${{secret:{mark}}}"]', f'routes["${{secret:{mark}}}"].token']
    assert not any(piece in repr(findings) for piece in substrings(secret))


class Exploding(str):
    """A string whose detection step fails with an error that quotes it, as a library's might."""

    def lower(self):
        raise ValueError(f"cannot read {str.__str__(self)}")


def test_a_failing_detector_names_the_field_and_never_the_value():
    secret = github_token("ghp")
    with pytest.raises(secretscan.SecretScanFailed) as raised:
        scan({"settings": {"notes": Exploding(f"use {secret}")}})
    text = f"{raised.value} {raised.value!r} {raised.value.__cause__!r} {raised.value.__context__!r}"
    assert "settings" in text and "ValueError" in text
    assert not any(piece in text for piece in substrings(secret))
    assert raised.value.__context__ is None and raised.value.__cause__ is None


def test_a_lone_surrogate_in_a_secret_is_fingerprinted_not_raised():
    assert [f.kind for f in scan({"password": "ab\ud800cdefgh"})] == ["password"]


# --- what passes -----------------------------------------------------------------------------------------

REFERENCES = ["${env:OPENAI_API_KEY}", "${secret:stripe-live}", "{vault://kv/prod/slack#bot_token}",
              "${secret:9f2c4e1a7b3d}", "${DB_PASSWORD}", "{{ db_password }}", "<your API key>", "********"]


@pytest.mark.parametrize("reference", REFERENCES)
@pytest.mark.parametrize("name", ["apiKey", "token", "password", "client_secret", "Authorization"])
def test_references_and_placeholders_pass_as_a_whole_value(reference, name):
    assert scan({name: reference}) == []


@pytest.mark.parametrize("reference", REFERENCES[:4])
def test_references_pass_as_the_token_of_a_bearer_header(reference):
    document = entity(authorization=f"Bearer {reference}",
                      headers=[{"name": "Authorization", "value": f"Bearer {reference}"}],
                      body=f"curl -H 'Authorization: Bearer {reference}' https://api.acme.example\n")
    assert scan(document) == []


def identifiers() -> dict:
    rng = random.Random(7)

    def hexes(length: int) -> str:
        return "".join(rng.choice("0123456789abcdef") for _ in range(length))

    return {
        "_id": "64ee9a8b1e7f2a0011223344", "ownerId": hexes(24), "pipelineIds": [hexes(24) for _ in range(5)],
        "uuid": str(uuid.UUID(int=rng.getrandbits(128), version=4)), "stubber_snapshot_uuid": str(uuid.uuid4()),
        "commit": hexes(40), "parents": [hexes(40), hexes(40)], "contentHash": hashlib.sha256(b"body").hexdigest(),
        "sha1": hashlib.sha1(b"x").hexdigest(), "checksum": "sha256:" + hashlib.sha256(b"y").hexdigest(),
        "etag": f'"{hexes(32)}"', "versionId": hexes(40), "snapshotId": hexes(24),
        "secretId": hexes(24), "tokenId": hexes(24), "apiKeyId": str(uuid.uuid4()),
        "urls": ["https://api.acme.example/v1/hooks?source=gitsnap&page=2", "https://hooks.acme.example/services/ab",
                 "s3://acme-configs/orgs/64ee9a8b1e7f2a0011223344/export.json",
                 f"https://github.com/acme/config/commit/{hexes(40)}", "mailto:pat@acme.example",
                 f"https://cdn.acme.example/img/{uuid.uuid4()}.png", "https://pat@git.acme.example/config.git"],
        "logo": "data:image/png;base64," + base64.b64encode(rng.randbytes(90)).decode(),
        "tokenUrl": "https://auth.acme.example/oauth/token", "token_type": "bearer", "tokenCount": "4096",
        "createdAt": "2026-05-15T09:00:00.000Z", "model": "gpt-4o-mini", "skill": "sk-learn",
    }


def test_identifiers_hashes_and_urls_without_credentials_pass():
    assert scan(identifiers()) == []


@pytest.mark.parametrize("text", [
    "Reset your password from the login page. Never share your API key or access token with anyone.",
    "Tokens: keep replies under 200 tokens.\nPassword: use the reset link.\nAuthorization: ask the office.",
    "The bearer of this notice may collect the keys. Private key fobs are at the desk; the secret is patience.",
    "Set OPENAI_API_KEY=${env:OPENAI_API_KEY} and token: ${secret:crm} before the run.",
    "password: required, token: none, apiKey: <your key>",
    "Risk-management skills and desk-side manners; the task-force meets at 9.",
    "password = url.password or password\nPASSWORD = \"password\"\ndef clone(password: str | None = None):",
    "Basic features come first; basic questions go to the office. Basic ${secret:crm-basic} is the header.",
])
def test_prose_and_prompts_pass(text):
    assert scan({"body": text, "title": text}) == []


def load_run_module():
    """benchmarks/run.py, whose generator makes the 10,000-entity org."""
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "benchmarks" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_bundled_fixtures_give_no_findings():
    document = json.loads((FIXTURES / "acme.json").read_text())
    assert scan(document) == []
    files = sorted((FIXTURES / "acme").rglob("*.yaml"))
    assert len(files) > 60
    assert [f for path in files for f in scan(yamlio.load(path.read_bytes()), path.as_posix())] == []


def test_the_generated_10000_entity_org_gives_no_findings():
    run = load_run_module()
    index, findings = 0, []
    for collection, count in run.entity_counts(10_000).items():
        for _ in range(count):
            index += 1
            findings += scan(run.entity(collection, index), f"{collection}/{index}")
    assert index == 10_000 and findings == []


# --- redaction -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=[c.label for c in CASES])
def test_redaction_puts_a_reference_where_the_secret_was(case):
    findings = scan(case.document)
    redacted = redact_value(case.document, KEY, findings)
    text = json.dumps(redacted)
    assert case.secret not in text
    assert "${secret:" + findings[0].fingerprint + "}" in text
    assert scan(redacted) == []


def test_redaction_keeps_the_rest_of_a_text():
    secret = rand(40)
    document = {"body": f"Run:\ncurl -H 'Authorization: Bearer {secret}' https://api.acme.example\nThen stop."}
    [finding] = scan(document)
    assert redact_value(document, KEY, [finding]) == {
        "body": f"Run:\ncurl -H 'Authorization: Bearer ${{secret:{finding.fingerprint}}}' "
                "https://api.acme.example\nThen stop."}


def test_redaction_touches_only_the_findings_it_is_given():
    allowed, redacted = rand(40), rand(40)
    document = {"a": {"token": allowed}, "b": {"token": redacted}}
    findings = [f for f in scan(document) if f.field == "b.token"]
    reference = f"${{secret:{findings[0].fingerprint}}}"
    assert redact_value(document, KEY, findings) == {"a": {"token": allowed}, "b": {"token": reference}}


def test_redaction_renames_a_dict_key_that_is_a_secret():
    secret = github_token("ghp")
    document = {"routes": {secret: "main"}}
    [finding] = scan(document)
    assert redact_value(document, KEY, [finding]) == {"routes": {f"${{secret:{finding.fingerprint}}}": "main"}}


def test_redaction_leaves_the_input_untouched():
    document = {"settings": {"token": rand(40)}}
    before = json.dumps(document)
    redact_value(document, KEY, scan(document))
    assert json.dumps(document) == before


# --- fingerprints ----------------------------------------------------------------------------------------


def test_a_fingerprint_is_the_keyed_hmac_of_the_secret_cut_to_12_hex_digits():
    secret = rand(40)
    [finding] = scan({"token": secret})
    assert finding.fingerprint == hmac.new(KEY, secret.encode(), hashlib.sha256).hexdigest()[:12]


def test_the_same_secret_has_the_same_fingerprint_in_every_field_and_scan():
    secret = "sk_live_" + rand(40)
    document = {"a": secret, "b": {"stripe": [secret]}, "c": f"key {secret} here"}
    first, again = scan(document), scan(json.loads(json.dumps(document)))
    assert len({f.fingerprint for f in first}) == 1 and first == again


def test_another_repository_key_gives_other_fingerprints():
    document = {"token": rand(40)}
    other = secretscan.new_fingerprint_key()
    assert len(other) == 32 and other != secretscan.new_fingerprint_key()
    assert scan_value(document, other)[0].fingerprint != scan(document)[0].fingerprint


def test_findings_are_frozen_values():
    finding = scan({"token": rand(40)})[0]
    with pytest.raises(AttributeError):
        finding.field = "x"
    assert {finding: 1}[Finding(finding.field, finding.kind, finding.fingerprint)] == 1


# --- open-ended input ------------------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)
# provider formats, which are found under any key and in any text
format_secrets = st.sampled_from([c.secret for c in CASES if c.kind in {kind for kind, _, _ in secretscan._FORMATS}
                                  and "\n" not in c.secret and c.secret.startswith(("sk", "AK", "gh", "xox", "AIza"))])


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_any_json_value_scans_without_raising(value):
    for finding in scan(value):
        assert len(finding.fingerprint) == 12


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["token", "notes", "apiKey", "password", "url"]), format_secrets,
                          st.text(max_size=10)), min_size=1, max_size=4))
def test_redacting_every_finding_leaves_nothing_to_find(items):
    document = {"settings": [{name: f"{before} {secret}"} for name, secret, before in items]}
    findings = scan(document)
    assert findings
    assert scan(redact_value(document, KEY, findings)) == []


# --- shape -----------------------------------------------------------------------------------------------


def test_the_scanner_imports_only_the_standard_library_and_gitsnap():
    tree = ast.parse((ROOT / "gitsnap" / "secretscan.py").read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree)
                 if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module}
    assert imported - set(sys.stdlib_module_names) - {"__future__"} == set()
