"""`gitsnap token create` and `gitsnap serve`'s refusals to start, as real processes; and the layering:
the CLI never loads the server stack unless serve or token runs."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.conftest import ACME_ID, ALEX_ID, run_cli
from tests.http_service import SECRET, GitsnapServer, bearer, build_two_orgs

SERVER_STACK = ("fastapi", "starlette", "uvicorn", "jwt", "cryptography", "httpx", "anyio")
PACKAGE = Path(__file__).resolve().parent.parent / "gitsnap"
WITH_SECRET = {"GITSNAP_JWT_SECRET": SECRET}


def decode(value: str) -> dict:
    return jwt.decode(value, SECRET, algorithms=["HS256"])


# --- token create ------------------------------------------------------------------------------------


def test_token_create_prints_an_hs256_token_for_the_user_and_orgs():
    result = run_cli("token", "create", "--user", ALEX_ID, "--org", ACME_ID, "--org", "66aa00000000000000000002",
                     env=WITH_SECRET)
    assert result.exit_code == 0, result.stderr
    claims = decode(result.stdout.strip())
    assert (claims["sub"], claims["orgs"]) == (ALEX_ID, [ACME_ID, "66aa00000000000000000002"])
    assert abs(claims["exp"] - time.time() - 3600) < 60 and "role" not in claims
    assert jwt.get_unverified_header(result.stdout.strip())["alg"] == "HS256"


def test_token_create_json_gives_the_token_and_its_expiry():
    result = run_cli("token", "create", "--user", ALEX_ID, "--org", "*", "--role", "admin", "--expires", "30d",
                     "--json", env=WITH_SECRET)
    document = result.json
    assert set(document) == {"token", "expiresAt"}
    claims = decode(document["token"])
    assert (claims["orgs"], claims["role"]) == (["*"], "admin")
    assert abs(claims["exp"] - time.time() - 30 * 86400) < 60
    assert document["expiresAt"] == time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(claims["exp"]))


@pytest.mark.parametrize("expires, seconds", [("90s", 90), ("15m", 900), ("2h", 7200), ("366d", 366 * 86400)])
def test_token_create_takes_durations_in_s_m_h_d(expires, seconds):
    result = run_cli("token", "create", "--user", ALEX_ID, "--org", ACME_ID, "--expires", expires, env=WITH_SECRET)
    assert abs(decode(result.stdout.strip())["exp"] - time.time() - seconds) < 60


@pytest.mark.parametrize("expires", ["0s", "1x", "-1h", "1.5h", "h", "", "367d", "99999999999d", "1 h", "１h"])
def test_token_create_refuses_a_nonsense_duration_with_exit_2(expires):
    result = run_cli("token", "create", "--user", ALEX_ID, "--org", ACME_ID, "--expires", expires, env=WITH_SECRET)
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == f"gitsnap: --expires {expires!r} is not a duration of 1s to 366d (a whole number and s, " \
                            "m, h or d: 1h, 30d)\n"


@pytest.mark.parametrize("args, expected", [
    (["--user", "a b", "--org", ACME_ID], "user 'a b' is not a valid identifier"),
    (["--user", ALEX_ID, "--org", "../x"], "org '../x' is not a valid identifier"),
    (["--user", ALEX_ID], "Missing option '--org'"),
    (["--user", ALEX_ID, "--org", ACME_ID, "--role", "root"], "'root' is not 'admin'"),
])
def test_token_create_refuses_bad_claims_with_exit_2(args, expected):
    result = run_cli("token", "create", *args, env=WITH_SECRET)
    assert result.exit_code == 2 and expected in result.stderr


def test_token_create_needs_a_secret_of_32_bytes_at_least():
    missing = run_cli("token", "create", "--user", ALEX_ID, "--org", ACME_ID, env={"GITSNAP_JWT_SECRET": ""})
    assert (missing.exit_code, missing.stderr) == (2, "gitsnap: no JWT secret: set GITSNAP_JWT_SECRET or give "
                                                      "--jwt-secret-file PATH\n")
    short = run_cli("--json", "token", "create", "--user", ALEX_ID, "--org", ACME_ID, env={"GITSNAP_JWT_SECRET": "short"})
    assert short.exit_code == 2 and "holds 5 bytes; an HS256 secret needs at least 32" in short.json["details"]


def test_token_create_reads_the_secret_file_without_its_line_break(tmp_path):
    (tmp_path / "secret").write_text(SECRET + "\n")
    result = run_cli("token", "create", "--user", ALEX_ID, "--org", ACME_ID, "--jwt-secret-file",
                     str(tmp_path / "secret"), env={"GITSNAP_JWT_SECRET": ""})
    assert decode(result.stdout.strip())["sub"] == ALEX_ID


def test_a_minted_token_is_accepted_by_the_server(tmp_path):
    repo = build_two_orgs(tmp_path / "gitsnap.git")
    server = GitsnapServer(repo, tmp_path)
    try:
        minted = run_cli("token", "create", "--user", ALEX_ID, "--org", ACME_ID, env=WITH_SECRET).stdout.strip()
        assert [org["_id"] for org in server.http.get("/api/orgs", headers=bearer(minted)).json()["orgs"]] == [ACME_ID]
    finally:
        server.stop()


def test_each_worker_rebuilds_the_keys_and_limit_from_the_options(tmp_path):
    repo = build_two_orgs(tmp_path / "gitsnap.git")
    (tmp_path / "secret").write_text(SECRET + "\n")
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (tmp_path / "idp.pem").write_bytes(private.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    server = GitsnapServer(repo, tmp_path, "--workers", "2", "--jwt-secret-file", str(tmp_path / "secret"),
                           "--jwt-public-key", str(tmp_path / "idp.pem"), "--max-body", "100",
                           env={"GITSNAP_JWT_SECRET": None})
    try:
        claims = {"sub": ALEX_ID, "orgs": [ACME_ID], "exp": int(time.time()) + 600}
        for value in (jwt.encode(claims, SECRET, algorithm="HS256"), jwt.encode(claims, private, algorithm="RS256")):
            assert server.http.get("/api/orgs", headers=bearer(value)).status_code == 200
        too_large = server.http.post("/api/prompts/x/versions", headers=bearer(jwt.encode(claims, SECRET)),
                                     json={"label": "x" * 100})
        assert too_large.status_code == 413
    finally:
        server.stop()


# --- serve refuses to start --------------------------------------------------------------------------


def serve(repo, *args: str, env=None):
    """``gitsnap serve`` expected to stop at once (it would otherwise serve until killed)."""
    command = [sys.executable, "-m", "gitsnap", "--repo", str(repo), "serve", "--port", "0", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60,
                          env={**__import__("os").environ, "GITSNAP_JWT_SECRET": "", **(env or {})})


def test_serve_without_any_key_is_exit_2_in_one_line(repo):
    result = serve(repo)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == ("gitsnap: no key to check tokens with: set GITSNAP_JWT_SECRET, or give --jwt-secret-file "
                             "PATH or --jwt-public-key PEM\n")
    assert json.loads(serve(repo, "--json").stdout)["error"] == "Invalid input"


def test_serve_refuses_a_short_secret_and_an_unreadable_secret_file(repo, tmp_path):
    assert "needs at least 32" in serve(repo, env={"GITSNAP_JWT_SECRET": "x" * 31}).stderr
    result = serve(repo, "--jwt-secret-file", str(tmp_path / "absent"))
    assert result.returncode == 2 and "cannot be read (No such file or directory)" in result.stderr


def test_serve_refuses_a_public_key_it_could_misuse(repo, tmp_path):
    private = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    weak = private.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    (tmp_path / "weak.pem").write_bytes(weak)
    assert "1024-bit RSA key" in serve(repo, "--jwt-public-key", str(tmp_path / "weak.pem")).stderr
    secret_pem = private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption())
    result = serve(repo, "--jwt-public-key", secret_pem.decode())
    assert result.returncode == 2 and "never a private key" in result.stderr and "PRIVATE" not in result.stderr
    (tmp_path / "junk.pem").write_text("not a key")
    assert serve(repo, "--jwt-public-key", str(tmp_path / "junk.pem")).returncode == 2


def test_serve_on_a_path_that_is_no_repository_is_exit_3(tmp_path):
    result = serve(tmp_path / "absent.git", env=WITH_SECRET)
    assert result.returncode == 3 and "is not a gitsnap repository" in result.stderr
    assert len(result.stderr.splitlines()) == 1


# --- layering ----------------------------------------------------------------------------------------


def loaded_after(code: str) -> list[str]:
    """The modules of the server stack loaded once ``code`` ran (written on stderr: help goes to stdout)."""
    probe = f"import json, sys\n{code}\nsys.stderr.write(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & {set(SERVER_STACK)!r})))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return json.loads(result.stderr.splitlines()[-1])


def test_the_cli_and_its_help_load_nothing_of_the_server_stack():
    assert loaded_after("import gitsnap.cli") == []
    assert loaded_after("from gitsnap.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit:\n    pass") == []
    assert loaded_after("from gitsnap.cli import main\ntry:\n    main(['serve', '--help'])\nexcept SystemExit:\n    pass") == []


def test_the_server_imports_neither_click_nor_dulwich():
    for path in (PACKAGE / "server").rglob("*.py"):
        tree = ast.parse(path.read_text())
        names = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
        names |= {node.module.split(".")[0] for node in ast.walk(tree)
                  if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module}
        assert not names & {"click", "dulwich"}, path


def test_without_the_server_extra_serve_and_token_say_how_to_install_it(tmp_path):
    import subprocess
    import sys

    for module, args in (("jwt", ["token", "create", "--user", "u", "--org", "o"]), ("uvicorn", ["serve"])):
        probe = (f"import sys; sys.modules[{module!r}] = None\n"  # as if the extra were not installed
                 f"sys.argv = ['gitsnap', '--repo', {str(tmp_path)!r}, *{args!r}]\n"
                 "from gitsnap.cli import main\nmain()\n")
        result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                                env={"GITSNAP_JWT_SECRET": "x" * 40, "PATH": "/usr/bin:/bin"})
        assert result.returncode == 1, result.stderr
        assert result.stderr.strip() == (f"gitsnap: this command needs the server extra ({module} is not installed): "
                                         "pip install 'gitsnap[server]'")


@pytest.mark.parametrize("alias", ["a b", "latest\n", "x" * 300, "bad..name", "\u2028"])
def test_serve_refuses_a_protected_alias_that_is_not_an_identifier(tmp_path, alias):
    repo = build_two_orgs(tmp_path / "gitsnap.git")
    result = run_cli("serve", "--port", "0", "--protect-alias", alias, repo=repo, env={"GITSNAP_JWT_SECRET": SECRET})
    assert result.exit_code == 2 and "protected alias" in result.stderr and len(result.stderr.splitlines()) == 1
