"""Input files: an import directory holds regular files only, sizes are capped while reading, a file's
content is never echoed, and a repository path must be a git directory; nothing is written on refusal."""

from __future__ import annotations

import json
import os
import shutil
import socket

import pytest

from gitsnap import InvalidInput, NotFound, Store, sources
from tests.conftest import ACME_ID, ALEX_ID, FIXTURES, all_refs, git, run_cli

SECRET = "machine example.com login alex password hunter2-do-not-print"


def import_refused(repo, source, *fragments, code=2):
    refs = all_refs(repo)
    result = run_cli("org", "import", str(source), repo=repo)
    assert result.exit_code == code, result.stderr
    assert "Traceback" not in result.stderr and SECRET.split()[-1] not in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr
    assert all_refs(repo) == refs
    return result


def test_a_symlink_out_of_the_directory_is_refused_and_its_target_never_read(acme_repo, acme_dir, tmp_path):
    netrc = tmp_path / "netrc"
    netrc.write_text(SECRET)
    link = acme_dir / "templates" / "stolen.yaml"
    link.symlink_to(netrc)
    import_refused(acme_repo, acme_dir, f"{link}: a symbolic link; an org directory holds regular files only")


def test_a_symlink_loop_and_a_symlinked_collection_are_refused(acme_repo, acme_dir, tmp_path):
    loop = acme_dir / "prompts" / "loop.yaml"
    loop.symlink_to(loop)
    shutil.move(acme_dir / "users", tmp_path / "users")
    (acme_dir / "users").symlink_to(tmp_path / "users")
    result = import_refused(acme_repo, acme_dir, f"{loop}: a symbolic link", f"{acme_dir / 'users'}: a symbolic link")
    assert "2 problems" in result.stderr


def test_a_fifo_or_socket_in_the_directory_is_refused_without_blocking(acme_repo, acme_dir):
    os.mkfifo(acme_dir / "pipelines" / "fifo.yaml")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(acme_dir / "automations" / "sock.yaml"))
    try:
        import_refused(acme_repo, acme_dir, "fifo.yaml: a pipe; an org directory holds regular files only",
                       "sock.yaml: a socket")
    finally:
        server.close()


def test_a_source_directory_may_itself_be_a_symlink(acme_repo, acme_dir, tmp_path):
    (tmp_path / "current").symlink_to(acme_dir)
    assert run_cli("org", "import", str(tmp_path / "current"), repo=acme_repo).exit_code == 0


def test_dev_zero_is_refused_as_a_device_and_a_huge_pipe_at_the_limit(acme_repo, monkeypatch):
    import_refused(acme_repo, "/dev/zero", "/dev/zero: not a regular file or a pipe (a character device)")
    monkeypatch.setattr(sources, "DOCUMENT_MAX", 1024)
    with open("/dev/zero", "rb") as zeros, pytest.raises(InvalidInput, match="larger than 0 MiB"):
        Store(acme_repo).import_org(zeros)


def test_an_oversized_file_in_a_directory_is_named(acme_repo, acme_dir, monkeypatch):
    monkeypatch.setattr(sources, "FILE_MAX", 2**20)
    big = next((acme_dir / "templates").iterdir())
    big.write_text(big.read_text() + "#" * 2**20 + "\n")
    refs = all_refs(acme_repo)
    with pytest.raises(InvalidInput, match=f"^{big}: larger than 1 MiB, the most gitsnap reads from one file"):
        Store(acme_repo).import_org(str(acme_dir))
    assert all_refs(acme_repo) == refs


def test_a_file_that_is_not_a_document_is_named_by_its_type_not_its_content(acme_repo, acme_dir):
    (acme_dir / "templates" / "6503e1110000000000000001.yaml").write_text(SECRET)
    import_refused(acme_repo, acme_dir, "6503e1110000000000000001.yaml: Input should be a valid dictionary",
                   "(got a string)")


def test_documents_come_as_bytes_or_streams_and_are_named(repo):
    data = (FIXTURES / "acme.json").read_bytes()
    assert Store(repo).import_org(data).org_id == ACME_ID
    with pytest.raises(InvalidInput, match="^<request body>: line 1, column 2: invalid JSON"):
        Store(repo).import_org(b"{oops", name="<request body>")


def test_stdin_is_read_by_the_cli_for_dash(repo):
    result = run_cli("org", "import", "-", "--user", ALEX_ID, repo=repo, input=(FIXTURES / "acme.json").read_bytes())
    assert result.exit_code == 0, result.stderr
    bad = run_cli("org", "import", "-", repo=repo, input=b"org: [")
    assert bad.exit_code == 2 and bad.stderr.startswith("gitsnap: <stdin>: line 2, column 1: invalid YAML")


def test_a_missing_source_is_not_found(repo, tmp_path):
    with pytest.raises(NotFound, match="no such file or directory"):
        Store(repo).import_org(str(tmp_path / "missing.json"))
    broken = tmp_path / "dangling.json"
    broken.symlink_to(tmp_path / "nowhere")
    with pytest.raises(NotFound, match="dangling.json: no such file or directory"):
        Store(repo).import_org(str(broken))


# --- the repository path ------------------------------------------------------------------------------


def test_a_work_tree_is_refused_and_left_untouched(tmp_path):
    work = tmp_path / "work"
    subprocess_git("init", "-q", str(work))
    before = sorted(p.relative_to(work) for p in work.rglob("*"))
    result = run_cli("org", "import", str(FIXTURES / "acme.json"), repo=work)
    assert result.exit_code == 2 and "is a git work tree" in result.stderr
    assert sorted(p.relative_to(work) for p in work.rglob("*")) == before


def test_an_empty_repository_path_is_one_line(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    for args in (["init", "--repo", ""], ["--repo", "", "org", "list"]):
        result = run_cli(*args, cwd=work)
        assert result.exit_code in (2, 3) and len(result.stderr.splitlines()) == 1, result.stderr
        assert "Traceback" not in result.stderr
    assert os.listdir(work) == []


def test_a_plain_git_ref_in_the_way_of_a_live_branch_is_one_line(acme_repo):
    commit = git(acme_repo, "rev-parse", f"refs/heads/orgs/{ACME_ID}").strip()
    git(acme_repo, "update-ref", "-d", f"refs/heads/orgs/{ACME_ID}")
    git(acme_repo, "update-ref", "refs/heads/orgs", commit)
    refs = all_refs(acme_repo)
    result = run_cli("org", "import", str(FIXTURES / "acme.json"), repo=acme_repo)
    assert result.exit_code in (1, 4) and "refs/heads/orgs" in result.stderr, result.stderr
    assert len(result.stderr.splitlines()) == 1 and all_refs(acme_repo) == refs


def subprocess_git(*args):
    import subprocess

    subprocess.run(["git", *args], check=True)


@pytest.mark.parametrize("depth", [150, 5000])
@pytest.mark.parametrize("form", ["json", "yaml"])
def test_data_nested_too_deep_is_refused_naming_the_entity(repo, tmp_path, depth, form):
    nested = "[" * depth + "]" * depth
    if form == "json":
        text = '{"org": {"id": "o1", "name": "O"}, "pipelines": [{"id": "p1", "name": "P", "deep": ' + nested + "}]}"
    else:
        text = f"org: {{id: o1, name: O}}\npipelines:\n- id: p1\n  name: P\n  deep: {nested}\n"
    source = tmp_path / f"deep.{form}"
    source.write_text(text)
    result = run_cli("org", "import", str(source), repo=repo)
    assert result.exit_code == 2 and "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert "nested" in result.stderr and all_refs(repo) == {}


def test_data_nested_within_the_limit_reads_back(repo, tmp_path):
    deep = json.loads("[" * 90 + '"bottom"' + "]" * 90)
    document = {"org": {"id": "o1", "name": "O"}, "pipelines": [{"id": "p1", "name": "P", "deep": deep}]}
    Store(repo).import_org(json.dumps(document).encode())
    exported = json.loads(Store(repo).export_org("o1", fmt="json")[1])
    assert exported["pipelines"][0]["deep"] == deep
