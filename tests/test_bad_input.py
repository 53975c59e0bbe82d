"""Bad input: exit 2 (or 3 for not found), one clear line, no traceback, and every ref unchanged."""

from __future__ import annotations

import json

import pytest

from .conftest import ACME_ID, FIXTURES, all_refs, fsck, run_cli

GOOD_ORG = {"id": ACME_ID, "name": "Acme Corp"}


def doc(**collections):
    return json.dumps({"org": GOOD_ORG, **collections})


ALIAS_BOMB = "\n".join(
    ["a: &a [x, x, x, x, x, x, x, x, x]"]
    + [f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 9)}]" for i in range(8)]
    + ["org: {id: o1, name: bomb}"]
)

# (case name, file name, content, expected exit code, text the one error line must contain)
FILE_CASES = [
    ("malformed JSON", "x.json", '{"org": {"id": "o1", "name": }', 2, "invalid JSON"),
    ("truncated JSON", "x.json", '{"org": {"id": "o1"', 2, "invalid JSON"),
    ("malformed YAML", "x.yaml", "org: {id: o1, name: [unclosed\n", 2, "invalid YAML"),
    ("YAML tab indentation", "x.yaml", "org:\n\tid: o1\n", 2, "invalid YAML"),
    ("YAML alias bomb", "x.yaml", ALIAS_BOMB, 2, "aliases are not allowed"),
    ("python tag", "x.yaml", "org: !!python/object/apply:os.system ['touch /tmp/pwned']\n", 2, "python/object"),
    ("python name tag", "x.yaml", "org: !!python/name:os.system\n", 2, "python/name"),
    ("binary tag", "x.yaml", "org: {id: o1, name: !!binary aGVsbG8=}\n", 2, "line 1, column 21: invalid YAML: the tag"),
    ("duplicate YAML key", "x.yaml", "org:\n  id: o1\n  name: A\n  name: B\n", 2, "line 4, column 3: invalid YAML: duplicate key 'name'"),
    ("duplicate JSON key", "x.json", '{"org": {"id": "o1", "name": "A", "name": "B"}}', 2, "invalid JSON: duplicate key 'name'"),
    ("NaN in JSON", "x.json", '{"org": {"id": "o1", "name": "A", "score": NaN}}', 2, "NaN is not a JSON number"),
    ("not UTF-8", "x.yaml", b"org: {id: o1, name: \xff\xfe}\n", 2, "not UTF-8"),
    ("top level is a list", "x.json", "[1, 2]", 2, "expected a mapping"),
    ("empty document", "x.yaml", "", 2, "expected a mapping"),
    ("missing org", "x.json", json.dumps({"users": []}), 2, "org: required field is missing"),
    ("org without name", "x.json", json.dumps({"org": {"id": "o1"}}), 2, "org.name: required field is missing"),
    ("user without email", "x.json", doc(users=[{"id": "u1", "name": "U"}]), 2, "users[0].email: required"),
    ("prompt without body", "x.json", doc(prompts=[{"id": "p1", "title": "T"}]), 2, "prompts[0].body: required"),
    ("stub without data", "x.json", doc(stubs=[{"stubref": "s1"}]), 2, "stubs[0].data: required"),
    ("name is a number", "x.json", doc(pipelines=[{"id": "p1", "name": 42}]), 2, "pipelines[0].name: Input should be a valid string (got 42)"),
    ("body is a list", "x.json", doc(prompts=[{"id": "p1", "body": ["a"]}]), 2, "prompts[0].body: Input should be a valid string"),
    ("users is a mapping", "x.json", doc(users={"u1": {}}), 2, "users: Input should be a valid list"),
    ("unknown collection", "x.json", doc(widgets=[]), 2, "widgets: Extra inputs are not permitted"),
    ("duplicate ids", "x.json", doc(templates=[{"id": "t1", "name": "A"}, {"id": "t1", "name": "B"}]), 2, "templates[1].id: duplicate 't1'"),
    ("id ../x", "x.json", doc(templates=[{"id": "../x", "name": "A"}]), 2, "'../x' is not a valid identifier"),
    ("id with space", "x.json", doc(templates=[{"id": "a b", "name": "A"}]), 2, "'a b' is not a valid identifier"),
    ("id x.lock", "x.json", doc(templates=[{"id": "x.lock", "name": "A"}]), 2, "'x.lock' is not a valid identifier"),
    ("id a..b", "x.json", doc(templates=[{"id": "a..b", "name": "A"}]), 2, "'a..b' is not a valid identifier"),
    ("empty id", "x.json", doc(templates=[{"id": "", "name": "A"}]), 2, "'' is not a valid identifier"),
    ("300-character id", "x.json", doc(templates=[{"id": "a" * 300, "name": "A"}]), 2, "is not a valid identifier"),
    ("id ending in a dot", "x.json", doc(templates=[{"id": "a.", "name": "A"}]), 2, "'a.' is not a valid identifier"),
    ("org id with slash", "x.json", json.dumps({"org": {"id": "a/b", "name": "A"}}), 2, "'a/b' is not a valid identifier"),
    ("id is a number", "x.json", doc(templates=[{"id": 7, "name": "A"}]), 2, "templates[0].id: Input should be a valid string"),
    ("chat name unsafe", "x.json", doc(stubs=[{"stubref": "s1", "data": {}, "chats": {"../c": {}}}]), 2, "'../c' is not a valid identifier"),
]


@pytest.fixture
def seeded_repo(acme_repo):
    return acme_repo


@pytest.mark.parametrize("name, file_name, content, code, expected", FILE_CASES, ids=[c[0] for c in FILE_CASES])
def test_bad_document(seeded_repo, tmp_path, name, file_name, content, code, expected):
    path = tmp_path / file_name
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    before = all_refs(seeded_repo)
    result = run_cli("org", "import", str(path), repo=seeded_repo)
    assert result.exit_code == code, result.stderr
    assert expected in result.stderr
    assert str(path) in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr
    assert all_refs(seeded_repo) == before


def test_every_problem_is_reported_not_just_the_first(acme_repo, tmp_path):
    path = tmp_path / "x.json"
    path.write_text(doc(prompts=[{"id": "p1"}], templates=[{"id": "a b", "name": "T"}], users=[{"id": "u1"}]))
    result = run_cli("org", "import", str(path), repo=acme_repo)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert lines[0].startswith("gitsnap: 4 problems in")
    assert any("prompts[0].body" in line for line in lines)
    assert any("templates[0].id" in line for line in lines)
    assert sum("users[0]." in line for line in lines) == 2


def test_bad_file_in_a_directory_names_the_file_and_field(acme_repo, acme_dir):
    bad = acme_dir / "prompts" / "65f9b1c2e8a1d4e001a0b1c4.yaml"
    bad.write_text("id: 65f9b1c2e8a1d4e001a0b1c4\ntitle: No body\n")
    before = all_refs(acme_repo)
    result = run_cli("org", "import", str(acme_dir), repo=acme_repo)
    assert result.exit_code == 2
    assert result.stderr.strip() == f"gitsnap: {bad}: body: required field is missing; nothing was written"
    assert all_refs(acme_repo) == before


def test_file_name_must_match_the_id(acme_repo, acme_dir):
    path = acme_dir / "templates" / "renamed.yaml"
    next((acme_dir / "templates").iterdir()).rename(path)
    result = run_cli("org", "import", str(acme_dir), repo=acme_repo)
    assert result.exit_code == 2 and f"{path}: id:" in result.stderr and "does not match the file name 'renamed'" in result.stderr


def test_stray_file_in_a_directory_is_refused(acme_repo, acme_dir):
    (acme_dir / "notes.md").write_text("remember")
    result = run_cli("org", "import", str(acme_dir), repo=acme_repo)
    assert result.exit_code == 2 and "notes.md: not part of the org-tree layout" in result.stderr


def test_missing_source_is_not_found(acme_repo, tmp_path):
    before = all_refs(acme_repo)
    result = run_cli("org", "import", str(tmp_path / "nope.json"), repo=acme_repo)
    assert result.exit_code == 3 and result.stderr.strip() == f"gitsnap: {tmp_path / 'nope.json'}: no such file or directory"
    assert all_refs(acme_repo) == before


def test_not_a_repository(tmp_path):
    result = run_cli("org", "list", repo=tmp_path / "missing.git")
    assert result.exit_code == 3 and "is not a gitsnap repository" in result.stderr
    assert not (tmp_path / "missing.git").exists()


def test_unknown_user_is_not_found_and_writes_nothing(acme_repo):
    before = all_refs(acme_repo)
    result = run_cli("org", "import", str(FIXTURES / "acme.json"), "--user", "000000000000000000000000", repo=acme_repo)
    assert result.exit_code == 3 and "user 000000000000000000000000 is not a member of org" in result.stderr
    assert all_refs(acme_repo) == before


def test_json_errors_are_one_document(acme_repo, tmp_path):
    result = run_cli("--json", "org", "import", str(tmp_path / "nope.json"), repo=acme_repo)
    assert result.exit_code == 3
    assert result.json == {"error": "Source not found", "details": f"{tmp_path / 'nope.json'}: no such file or directory"}


def test_usage_error_exits_2(acme_repo):
    result = run_cli("org", "export", ACME_ID, "--format", "xml", repo=acme_repo)
    assert result.exit_code == 2 and "Traceback" not in result.stderr


def test_failed_imports_leave_the_repository_clean(acme_repo, tmp_path):
    for index, (_, file_name, content, _, _) in enumerate(FILE_CASES[:5]):
        path = tmp_path / f"{index}-{file_name}"
        path.write_bytes(content if isinstance(content, bytes) else content.encode())
        run_cli("org", "import", str(path), repo=acme_repo)
    fsck(acme_repo)
