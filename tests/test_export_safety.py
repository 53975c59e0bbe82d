"""Export refuses tree entries that would escape --out, and writes nothing outside it."""

from __future__ import annotations

import subprocess

import pytest

from .conftest import git, run_cli


def hash_blob(repo, data: bytes) -> str:
    return git(repo, "hash-object", "-w", "--stdin", input=data).strip()


def raw_tree(repo, entries: list[tuple[str, bytes, str]]) -> str:
    """Write a tree byte for byte (git mktree refuses some of the names under test)."""
    body = b"".join(mode.encode() + b" " + name + b"\0" + bytes.fromhex(sha) for mode, name, sha in entries)
    result = subprocess.run(["git", "--git-dir", str(repo), "hash-object", "-t", "tree", "--literally", "-w", "--stdin"],
                            input=body, capture_output=True, check=True)
    return result.stdout.decode().strip()


def commit_tree(repo, tree: str) -> str:
    return git(repo, "commit-tree", tree, "-m", "crafted").strip()


CASES = {
    "dot-dot": [("100644", b"..", "blob")],
    "dot-git": [("100644", b".git", "blob")],
    "dot-git uppercase": [("100644", b".GIT", "blob")],
    "slash in name": [("100644", b"a/b", "blob")],
    "backslash in name": [("100644", b"..\\evil", "blob")],
    "symlink": [("120000", b"link", "blob")],
    "submodule": [("160000", b"sub", "commit")],
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_unsafe_entries_are_refused(repo, tmp_path, case):
    blob = hash_blob(repo, b"/etc/passwd")
    entries = [(mode, name, blob) for mode, name, _ in CASES[case]]
    inner = raw_tree(repo, [("100644", b"org.yaml", blob), *entries])
    tree = raw_tree(repo, [("40000", b"nested", inner), ("100644", b"org.yaml", blob)])
    commit = commit_tree(repo, tree)
    out = tmp_path / "export"
    result = run_cli("org", "export", commit, "--out", str(out), repo=repo)
    assert result.exit_code == 2, result.stderr
    assert "refusing to export" in result.stderr
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gitsnap.git", "home"]


def test_a_safe_crafted_tree_exports(repo, tmp_path):
    blob = hash_blob(repo, b"id: o1\nname: O\n")
    commit = commit_tree(repo, raw_tree(repo, [("100644", b"org.yaml", blob)]))
    result = run_cli("org", "export", commit, "--out", str(tmp_path / "export"), repo=repo)
    assert result.exit_code == 0, result.stderr
    assert (tmp_path / "export" / "org.yaml").read_bytes() == b"id: o1\nname: O\n"
