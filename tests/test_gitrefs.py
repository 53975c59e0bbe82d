"""gitrefs against the real git CLI: what git writes, gitrefs reads; what gitrefs writes, git accepts."""

from __future__ import annotations

import errno
import gc
import multiprocessing
import os
import random
import shutil
import stat
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gitsnap import gitpacked
from gitsnap.errors import RepositoryError
from gitsnap.gitrefs import RefConflict, RefLocked, Refs, check_name, is_object_id

# --- the real git CLI -----------------------------------------------------------------------------


def git(repo: Path | str, *args: str | bytes, input: bytes | None = None, check: bool = True,
        stderr: bool = False) -> bytes:
    """Run git against a bare repository and return its raw stdout, or stderr (ref names may not be UTF-8)."""
    result = subprocess.run(["git", "--git-dir", os.fsencode(repo), *args], input=input, capture_output=True,
                            check=False)
    if check and result.returncode != 0:
        raise AssertionError(f"git {args} failed: {result.stderr.decode(errors='replace')}")
    return result.stderr if stderr else result.stdout


def git_refs(repo: Path | str, *patterns: str) -> dict[str, str]:
    """``git for-each-ref``: every ref and its object id, names decoded as gitrefs decodes them."""
    out = git(repo, "for-each-ref", "--format=%(refname) %(objectname)", *patterns)
    return {name.decode("utf-8", "surrogateescape"): value.decode()
            for name, value in (line.split(b" ", 1) for line in out.splitlines())}


def update_refs(repo: Path | str, updates: dict[str, str]) -> None:
    """Set many refs in one ``git update-ref --stdin`` transaction."""
    script = "".join(f"update {name} {value}\n" for name, value in updates.items())
    git(repo, "update-ref", "--stdin", input=script.encode("utf-8", "surrogateescape"))


def fsck(repo: Path | str) -> None:
    git(repo, "fsck", "--strict", "--no-dangling")


def verify(repo: Path | str, name: str) -> str:
    """``git show-ref --verify``: the value git reads for ``name`` (fails if git cannot read it)."""
    return git(repo, "show-ref", "--verify", "--hash", name).decode().strip()


def leftovers(repo: Path | str) -> list[str]:
    """Lock and temp files anywhere in the repository."""
    return sorted(str(p.relative_to(repo)) for p in Path(repo).rglob("*") if p.name.endswith((".lock", ".tmp")))


def new_commit(repo: Path | str, message: str) -> str:
    tree = git(repo, "mktree", input=b"").decode().strip()
    return git(repo, "commit-tree", tree, "-m", message).decode().strip()


class Repo:
    """A bare repository made by ``git init --bare``, with two commits to point refs at."""

    def __init__(self, path: Path) -> None:
        git(path, "init", "--bare", "--quiet")
        self.path = path
        self.one, self.two = new_commit(path, "one"), new_commit(path, "two")
        self.refs = Refs(str(path))

    def packed_refs(self) -> str:
        return (self.path / "packed-refs").read_text()


@pytest.fixture(params=["whole", "pread"])
def reading(request, monkeypatch) -> str:
    """Read packed-refs whole (as a small file is), or by pread with tiny windows (as a large one is)."""
    if request.param == "pread":
        monkeypatch.setattr(gitpacked, "_READ_WHOLE_BELOW", 0)
        monkeypatch.setattr(gitpacked, "_STEP_READ", 16)  # shorter than a line: the window grows
        monkeypatch.setattr(gitpacked, "_LAST_STEPS_WITHIN", 64)
    return request.param


@pytest.fixture
def repo(tmp_path, reading) -> Repo:
    return Repo(tmp_path / "repo.git")


# For tests whose packed-refs reading is not the point, or happens in other processes.
READ_ONE_WAY = pytest.mark.parametrize("reading", ["whole"], indirect=True)


PROMPTS = [f"refs/prompts/org{o}/prompt{p}" for o in range(3) for p in range(4)]


def populate(repo: Repo, names=PROMPTS, pack: bool = False) -> dict[str, str]:
    """Refs made by git, all on ``repo.one``, packed by git if asked; returns what git lists."""
    update_refs(repo.path, {name: repo.one for name in names})
    if pack:
        git(repo.path, "pack-refs", "--all")
    return git_refs(repo.path)


def assert_matches_git(repo: Repo, prefixes=("refs/", "refs/prompts/", "refs/prompts/org1/", "refs/prompts/org1",
                                             "refs/prompts/org1/prompt2", "refs/heads/", "refs/nothing/")) -> None:
    expected = git_refs(repo.path)
    for prefix in prefixes:
        wanted = {n: v for n, v in expected.items() if n.startswith(prefix)}
        assert list(repo.refs.list(prefix).items()) == list(wanted.items()), prefix
    for name, value in expected.items():
        assert repo.refs.read(name) == value


# --- reading what git wrote -----------------------------------------------------------------------


def test_read_and_list_match_git_on_packed_refs(repo):
    populate(repo, pack=True)
    assert not [p for p in repo.path.glob("refs/**/*") if p.is_file()]
    assert_matches_git(repo)


def test_read_and_list_match_git_on_loose_refs(repo):
    populate(repo)
    assert not (repo.path / "packed-refs").exists()
    assert_matches_git(repo)


def test_read_and_list_match_git_on_mixed_refs(repo):
    populate(repo, pack=True)
    update_refs(repo.path, {"refs/prompts/org1/prompt9": repo.two, "refs/heads/orgs/org1": repo.one})
    assert_matches_git(repo)


def test_a_loose_ref_overrides_its_packed_entry(repo):
    populate(repo, pack=True)
    update_refs(repo.path, {"refs/prompts/org1/prompt2": repo.two})
    assert f"{repo.one} refs/prompts/org1/prompt2" in repo.packed_refs()
    assert repo.refs.read("refs/prompts/org1/prompt2") == repo.two
    assert repo.refs.list("refs/prompts/org1/")["refs/prompts/org1/prompt2"] == repo.two
    assert_matches_git(repo)


def test_peeled_lines_of_annotated_tags_are_not_refs(repo):
    populate(repo)
    for n in range(3):
        git(repo.path, "tag", "-a", "-m", f"snapshot {n}", f"snapshots/org1/{n:024x}", repo.one)
    git(repo.path, "pack-refs", "--all")
    assert repo.packed_refs().count("\n^") == 3
    tags = repo.refs.list("refs/tags/snapshots/org1/")
    assert tags == git_refs(repo.path, "refs/tags/snapshots/org1/")
    assert all(git(repo.path, "cat-file", "-t", value) == b"tag\n" for value in tags.values())
    assert_matches_git(repo, ("refs/", "refs/tags/", "refs/tags/snapshots/org1/0", "refs/prompts/org0/"))


def test_an_unsorted_packed_refs_file_is_read_in_full(repo):
    names = list(PROMPTS) + ["refs/tags/snapshots/org1/s1"]
    git(repo.path, "tag", "-a", "-m", "s1", "snapshots/org1/s1", repo.one)
    update_refs(repo.path, {name: repo.one for name in PROMPTS})
    git(repo.path, "pack-refs", "--all")
    lines = repo.packed_refs().splitlines()[1:]
    records = []
    for line in lines:  # keep each peeled line after its tag
        if line.startswith("^"):
            records[-1] += "\n" + line
        else:
            records.append(line)
    random.Random(7).shuffle(records)
    (repo.path / "packed-refs").write_text("# pack-refs with: peeled \n" + "\n".join(records) + "\n")
    assert set(git_refs(repo.path)) == set(names)
    assert_matches_git(repo)
    assert repo.refs.children("refs/prompts/") == {"org0", "org1", "org2"}


def test_a_packed_refs_file_without_header_is_read(repo):
    (repo.path / "packed-refs").write_text(f"{repo.one} refs/prompts/org1/b\n{repo.two} refs/prompts/org1/a\n")
    assert git_refs(repo.path) == {"refs/prompts/org1/a": repo.two, "refs/prompts/org1/b": repo.one}
    assert_matches_git(repo)


def test_a_large_packed_refs_file_is_read_as_git_reads_it(tmp_path):
    repo = Repo(tmp_path / "repo.git")
    names = [f"refs/prompts/64ee9a8b1e7f2a00{o:08x}/65f9b1c2e8a1d4e0{p:08x}" for o in range(40) for p in range(50)]
    populate(repo, names)
    for n in range(0, 40, 3):
        git(repo.path, "tag", "-a", "-m", "s", f"snapshots/64ee9a8b1e7f2a00{n:08x}/{n:024x}", repo.one)
    git(repo.path, "pack-refs", "--all")
    assert (repo.path / "packed-refs").stat().st_size > 3 * gitpacked._READ_WHOLE_BELOW  # read by pread, not whole
    expected = git_refs(repo.path)
    assert {name: repo.refs.read(name) for name in expected} == expected
    assert repo.refs.read("refs/prompts/64ee9a8b1e7f2a0000000000/0") is None
    assert repo.refs.read("refs/prompts/zzz") is None and repo.refs.read("refs/a") is None
    assert_matches_git(repo, ("refs/", "refs/prompts/64ee9a8b1e7f2a0000000011/", "refs/prompts/64ee9a8b1e7f2a000000001",
                              "refs/tags/snapshots/", "refs/tags/snapshots/64ee9a8b1e7f2a0000000021/"))
    assert repo.refs.children("refs/prompts/") == {f"64ee9a8b1e7f2a00{o:08x}" for o in range(40)}
    doomed = "refs/tags/snapshots/64ee9a8b1e7f2a0000000015/000000000000000000000015"
    assert repo.refs.swap(doomed, expected.pop(doomed), None)
    assert git_refs(repo.path) == expected
    fsck(repo.path)


def test_a_refs_instance_sees_git_change_packed_refs_later(repo):
    populate(repo, pack=True)
    assert repo.refs.read("refs/prompts/org2/prompt3") == repo.one
    git(repo.path, "update-ref", "-d", "refs/prompts/org2/prompt3")
    update_refs(repo.path, {"refs/prompts/org2/prompt0": repo.two})
    git(repo.path, "pack-refs", "--all")
    assert repo.refs.read("refs/prompts/org2/prompt3") is None
    assert repo.refs.read("refs/prompts/org2/prompt0") == repo.two
    assert_matches_git(repo)


def test_a_name_prefix_without_a_slash_matches_within_its_directory(repo):
    populate(repo, ["refs/prompts/org1/a", "refs/prompts/org10/a", "refs/prompts/org1-x", "refs/prompts/org2/a"],
             pack=True)
    update_refs(repo.path, {"refs/prompts/org11/b": repo.two})
    assert list(repo.refs.list("refs/prompts/org1")) == [
        "refs/prompts/org1-x", "refs/prompts/org1/a", "refs/prompts/org10/a", "refs/prompts/org11/b"]
    assert list(repo.refs.list("refs/prompts/org1/")) == ["refs/prompts/org1/a"]


def test_children_are_the_names_one_level_below_that_hold_refs(repo):
    populate(repo, ["refs/tags/snapshots/orgA/s1", "refs/tags/snapshots/orgA/s2", "refs/tags/snapshots/orgA.b/s1",
                    "refs/tags/snapshots/orgA-b/s", "refs/tags/snapshots/orgA0/s"], pack=True)
    update_refs(repo.path, {"refs/tags/snapshots/orgB/s1": repo.one, "refs/tags/snapshotsX/orgC/s": repo.one})
    (repo.path / "refs/tags/snapshots/emptied/deeper").mkdir(parents=True)
    (repo.path / "refs/tags/snapshots/orgD").mkdir()
    (repo.path / "refs/tags/snapshots/orgD/s.lock").write_text(repo.two + "\n")
    expected = {"orgA", "orgA.b", "orgA-b", "orgA0", "orgB"}
    assert repo.refs.children("refs/tags/snapshots/") == expected
    assert repo.refs.children("refs/tags/snapshots") == expected
    assert repo.refs.children("refs/tags/snapshots/orgA/") == {"s1", "s2"}
    assert repo.refs.children("refs/") == {"tags"}


def test_a_garbage_loose_ref_and_a_symbolic_ref_are_returned_as_stored(repo):
    populate(repo)
    (repo.path / "refs/prompts/org1/prompt1").write_text("not an object id\n")
    git(repo.path, "symbolic-ref", "refs/prompts/org1/alias", "refs/prompts/org1/prompt2")
    assert repo.refs.read("refs/prompts/org1/prompt1") == "not an object id"
    assert repo.refs.read("refs/prompts/org1/alias") == "ref: refs/prompts/org1/prompt2"
    listed = repo.refs.list("refs/prompts/org1/")
    assert listed["refs/prompts/org1/alias"] == "ref: refs/prompts/org1/prompt2"
    assert listed["refs/prompts/org1/prompt1"] == "not an object id"


def test_lock_files_and_names_git_rejects_are_not_listed(repo):
    populate(repo)
    directory = repo.path / "refs/prompts/org1"
    for junk in ("prompt9.lock", ".prompt1.tmp", "has space", "sub/x.lock"):
        (directory / junk).parent.mkdir(exist_ok=True)
        (directory / junk).write_text(repo.one + "\n")
    assert sorted(repo.refs.list("refs/prompts/org1/")) == sorted(git_refs(repo.path, "refs/prompts/org1/"))
    assert repo.refs.children("refs/prompts/org1/") == {f"prompt{p}" for p in range(4)}


@pytest.mark.parametrize("packed", [False, True], ids=["loose", "packed"])
def test_names_that_are_not_utf8_round_trip(repo, packed):
    raw = b"refs/prompts/caf\xe9/p\xff"
    git(repo.path, "update-ref", raw, repo.one)
    if packed:
        git(repo.path, "pack-refs", "--all")
    name = raw.decode("utf-8", "surrogateescape")
    assert repo.refs.list("refs/prompts/") == {name: repo.one}
    assert repo.refs.children("refs/prompts/") == {"caf\udce9"}
    assert repo.refs.read(name) == repo.one
    assert repo.refs.swap(name, repo.one, repo.two)
    assert git(repo.path, "show-ref", "--verify", "--hash", raw).decode().strip() == repo.two
    assert repo.refs.swap(name, repo.two, None)
    assert git_refs(repo.path) == {}
    fsck(repo.path)


@pytest.mark.parametrize("name", ["refs/../config", "refs/prompts/./x", "refs/a..b", "refs/x.lock", "HEAD",
                                  "refs/", "refs/a//b", "refs/a/", "refs/a b", "refs/a@{1}", "refs/.hidden/x"])
def test_names_git_rejects_are_refused(repo, name):
    with pytest.raises(ValueError):
        repo.refs.read(name)
    with pytest.raises(ValueError):
        repo.refs.swap(name, None, repo.one)
    assert leftovers(repo.path) == []


def test_prefixes_that_climb_out_of_refs_are_refused(repo):
    with pytest.raises(ValueError):
        repo.refs.list("refs/../")
    with pytest.raises(ValueError):
        repo.refs.children("refs/prompts/../../")


def test_only_object_ids_are_written(repo):
    assert is_object_id(repo.one) and not is_object_id(repo.one.upper()) and not is_object_id("ref: refs/x")
    with pytest.raises(ValueError):
        repo.refs.swap("refs/heads/orgs/a", None, "ref: refs/heads/orgs/b")
    with pytest.raises(ValueError):
        check_name("refs/heads/orgs/a.lock")


# --- compare-and-swap -----------------------------------------------------------------------------


def test_create_writes_a_loose_ref_git_reads(repo):
    assert repo.refs.swap("refs/prompts/org1/p1", None, repo.one)
    assert (repo.path / "refs/prompts/org1/p1").read_text() == repo.one + "\n"
    assert verify(repo.path, "refs/prompts/org1/p1") == repo.one
    assert leftovers(repo.path) == []
    fsck(repo.path)


def test_move_of_a_packed_ref_writes_a_loose_file_and_keeps_packed_refs(repo):
    populate(repo, pack=True)
    before = repo.packed_refs()
    assert repo.refs.swap("refs/prompts/org1/prompt2", repo.one, repo.two)
    assert repo.packed_refs() == before
    assert (repo.path / "refs/prompts/org1/prompt2").read_text() == repo.two + "\n"
    assert verify(repo.path, "refs/prompts/org1/prompt2") == repo.two
    assert_matches_git(repo)
    fsck(repo.path)


def test_delete_of_a_packed_ref_rewrites_packed_refs_without_it(repo):
    populate(repo)
    git(repo.path, "tag", "-a", "-m", "s", "snapshots/org1/s1", repo.one)
    git(repo.path, "tag", "-a", "-m", "s", "snapshots/org1/s2", repo.one)
    git(repo.path, "pack-refs", "--all")
    before = git_refs(repo.path)
    tag = before["refs/tags/snapshots/org1/s1"]
    assert repo.refs.swap("refs/tags/snapshots/org1/s1", tag, None)
    del before["refs/tags/snapshots/org1/s1"]
    assert git_refs(repo.path) == before
    assert "snapshots/org1/s1" not in repo.packed_refs()
    assert repo.packed_refs().count("\n^") == 1  # the other tag's peeled line is kept
    assert repo.packed_refs().startswith("# pack-refs with: peeled fully-peeled sorted")
    assert repo.refs.read("refs/tags/snapshots/org1/s1") is None
    assert leftovers(repo.path) == []
    fsck(repo.path)
    git(repo.path, "pack-refs", "--all")  # git is happy to rewrite what we wrote
    assert git_refs(repo.path) == before


def test_delete_of_a_ref_both_loose_and_packed_removes_both(repo):
    populate(repo, pack=True)
    update_refs(repo.path, {"refs/prompts/org0/prompt0": repo.two})
    assert not repo.refs.swap("refs/prompts/org0/prompt0", repo.one, None)  # the packed value is shadowed
    assert repo.refs.swap("refs/prompts/org0/prompt0", repo.two, None)
    assert "refs/prompts/org0/prompt0" not in git_refs(repo.path)
    assert "org0/prompt0" not in repo.packed_refs()
    assert_matches_git(repo)
    fsck(repo.path)


def test_delete_of_the_last_ref_in_a_directory_removes_the_emptied_directories(repo):
    assert repo.refs.swap("refs/stubs/org1/stub1/stub/_default", None, repo.one)
    assert repo.refs.swap("refs/stubs/org1/stub1/stub/_default", repo.one, None)
    assert not (repo.path / "refs/stubs/org1").exists()
    assert (repo.path / "refs/stubs").is_dir()
    assert git_refs(repo.path) == {}


def test_a_wrong_old_value_changes_nothing(repo):
    populate(repo, pack=True)
    before, packed = git_refs(repo.path), repo.packed_refs()
    assert not repo.refs.swap("refs/prompts/org1/prompt1", repo.two, repo.one)
    assert not repo.refs.swap("refs/prompts/org1/prompt1", None, repo.two)
    assert not repo.refs.swap("refs/prompts/org1/prompt1", repo.two, None)
    assert not repo.refs.swap("refs/prompts/org1/missing", repo.one, repo.two)
    assert not repo.refs.swap("refs/prompts/org1/missing", repo.one, None)
    assert git_refs(repo.path) == before and repo.packed_refs() == packed
    assert leftovers(repo.path) == []


def test_old_and_new_none_asks_whether_the_ref_is_absent(repo):
    populate(repo)
    assert repo.refs.swap("refs/prompts/org1/missing", None, None)
    assert not repo.refs.swap("refs/prompts/org1/prompt1", None, None)
    assert "refs/prompts/org1/prompt1" in git_refs(repo.path)


def test_a_held_ref_lock_raises_at_once_and_is_left_as_it_was(repo):
    populate(repo)
    lock = repo.path / "refs/prompts/org1/prompt1.lock"
    lock.write_text("someone else's\n")
    before = lock.stat()
    with pytest.raises(RefLocked) as raised:
        repo.refs.swap("refs/prompts/org1/prompt1", repo.one, repo.two)
    assert raised.value.lock_path == str(lock) and str(lock) in str(raised.value)
    assert lock.read_text() == "someone else's\n" and lock.stat().st_mtime_ns == before.st_mtime_ns
    assert verify(repo.path, "refs/prompts/org1/prompt1") == repo.one


def test_a_held_packed_refs_lock_blocks_deleting_a_packed_ref(repo):
    populate(repo, pack=True)
    lock = repo.path / "packed-refs.lock"
    lock.write_text("git pack-refs is running\n")
    with pytest.raises(RefLocked) as raised:
        repo.refs.swap("refs/prompts/org1/prompt1", repo.one, None)
    assert raised.value.lock_path == str(lock)
    assert lock.read_text() == "git pack-refs is running\n"
    assert leftovers(repo.path) == ["packed-refs.lock"]  # our ref lock is gone, theirs stays
    lock.unlink()
    assert verify(repo.path, "refs/prompts/org1/prompt1") == repo.one
    assert repo.refs.swap("refs/prompts/org1/prompt1", repo.one, None)


# --- directory/file conflicts ---------------------------------------------------------------------


@pytest.mark.parametrize("packed", [False, True], ids=["loose", "packed"])
@pytest.mark.parametrize("existing, created", [
    ("refs/heads/orgs", "refs/heads/orgs/x"),
    ("refs/heads/orgs", "refs/heads/orgs/x/y"),
    ("refs/prompts/a/b", "refs/prompts/a"),
    ("refs/prompts/a/b/c", "refs/prompts/a"),
], ids=["parent", "grandparent", "child", "grandchild"])
def test_a_directory_file_conflict_names_the_other_ref_and_writes_nothing(repo, packed, existing, created):
    update_refs(repo.path, {existing: repo.one})
    if packed:
        git(repo.path, "pack-refs", "--all")
    files = sorted(str(p) for p in repo.path.rglob("*"))
    with pytest.raises(RefConflict) as raised:
        repo.refs.swap(created, None, repo.two)
    assert (raised.value.name, raised.value.other) == (created, existing)
    assert existing in str(raised.value) and created in str(raised.value)
    assert sorted(str(p) for p in repo.path.rglob("*")) == files
    assert git_refs(repo.path) == {existing: repo.one}
    # git agrees that this is a conflict
    assert b"exists" in git(repo.path, "update-ref", created, repo.two, check=False, stderr=True)


def test_a_loose_parent_in_the_way_of_a_packed_ref_is_a_conflict(repo):
    update_refs(repo.path, {"refs/prompts/a/b": repo.one})
    git(repo.path, "pack-refs", "--all")
    (repo.path / "refs/prompts").mkdir(exist_ok=True)
    (repo.path / "refs/prompts/a").write_text(repo.two + "\n")  # a broken repository: both exist
    with pytest.raises(RefConflict):
        repo.refs.swap("refs/prompts/a/b", repo.one, repo.two)
    assert leftovers(repo.path) == []


def test_empty_directories_are_not_conflicts(repo):
    (repo.path / "refs/prompts/a/b/c").mkdir(parents=True)
    assert repo.refs.swap("refs/prompts/a", None, repo.one)
    assert verify(repo.path, "refs/prompts/a") == repo.one
    assert repo.refs.swap("refs/prompts/a", repo.one, None)
    assert repo.refs.swap("refs/prompts/a/b/c", None, repo.one)
    assert git_refs(repo.path) == {"refs/prompts/a/b/c": repo.one}
    fsck(repo.path)


def test_a_ref_can_take_the_place_of_a_deleted_directory_of_refs(repo):
    populate(repo, pack=True)
    for prompt in range(4):
        assert repo.refs.swap(f"refs/prompts/org1/prompt{prompt}", repo.one, None)
    assert repo.refs.swap("refs/prompts/org1", None, repo.two)
    assert verify(repo.path, "refs/prompts/org1") == repo.two
    assert_matches_git(repo)
    fsck(repo.path)


# --- failures leave nothing behind ----------------------------------------------------------------

FAILING_SWAP = """
import resource, signal, sys
from gitsnap.gitrefs import Refs
refs = Refs(sys.argv[1])
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # every write of a byte to a file fails: EFBIG
try:
    refs.swap(sys.argv[2], sys.argv[3] or None, sys.argv[4] or None)
except Exception as error:  # the one-line RepositoryError, raised from the OSError
    print(error.__cause__.errno)
"""


@READ_ONE_WAY
@pytest.mark.parametrize("change", ["create", "move", "move packed", "delete packed"])
def test_a_write_that_fails_leaves_no_lock_and_no_temp_file(repo, change):
    populate(repo, pack=True)
    update_refs(repo.path, {"refs/heads/orgs/loose": repo.one})
    name, old, new = {
        "create": ("refs/heads/orgs/new", "", repo.two),
        "move": ("refs/heads/orgs/loose", repo.one, repo.two),
        "move packed": ("refs/prompts/org1/prompt1", repo.one, repo.two),
        "delete packed": ("refs/prompts/org1/prompt1", repo.one, ""),
    }[change]
    before, packed = git_refs(repo.path), repo.packed_refs()
    result = subprocess.run([sys.executable, "-c", FAILING_SWAP, str(repo.path), name, old, new],
                            capture_output=True, text=True, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
                            check=False)
    assert result.stdout.strip() == str(errno.EFBIG), result.stderr
    assert leftovers(repo.path) == []
    assert git_refs(repo.path) == before and repo.packed_refs() == packed
    assert repo.refs.swap(name, old or None, new or None)  # nothing blocks the next run
    fsck(repo.path)


@pytest.fixture
def small_filesystem(tmp_path):
    """A 256 KiB tmpfs (needs the right to mount; skipped without it)."""
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(mount_point)],
                            capture_output=True, text=True, check=False)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {result.stderr.strip() or result.returncode}")
    yield mount_point
    gc.collect()  # a Refs keeps packed-refs mapped: let it go before unmounting
    subprocess.run(["umount", str(mount_point)], check=True)


def fill(directory: Path) -> Path:
    """Write a file until the filesystem is full; return it."""
    filler = directory / "filler"
    with open(filler, "wb", buffering=0) as stream:
        try:
            while True:
                stream.write(b"\0" * 4096)
        except OSError as error:
            assert error.errno == errno.ENOSPC
    return filler


@pytest.mark.parametrize("change", ["create", "move", "delete packed"])
def test_a_full_filesystem_leaves_no_lock_and_no_temp_file(small_filesystem, change):
    repo = Repo(small_filesystem / "repo.git")
    populate(repo, pack=True)
    name, old, new = {
        "create": ("refs/heads/orgs/new", None, repo.two),
        "move": ("refs/prompts/org1/prompt1", repo.one, repo.two),
        "delete packed": ("refs/prompts/org1/prompt1", repo.one, None),
    }[change]
    before, packed = git_refs(repo.path), repo.packed_refs()
    filler = fill(small_filesystem)
    with pytest.raises(RepositoryError, match="No space left on device") as raised:
        repo.refs.swap(name, old, new)
    assert raised.value.__cause__.errno == errno.ENOSPC
    assert leftovers(repo.path) == []
    assert git_refs(repo.path) == before and repo.packed_refs() == packed
    filler.unlink()
    assert repo.refs.swap(name, old, new)
    fsck(repo.path)


@READ_ONE_WAY
@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories (the EFBIG and "
                                              "full-filesystem tests cover failed writes)")
def test_a_read_only_refs_directory_raises_and_leaves_nothing(repo):
    populate(repo)
    directory = repo.path / "refs/prompts/org1"
    directory.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        with pytest.raises(RepositoryError, match="Permission denied"):
            repo.refs.swap("refs/prompts/org1/prompt1", repo.one, repo.two)
    finally:
        directory.chmod(stat.S_IRWXU)
    assert leftovers(repo.path) == []
    assert verify(repo.path, "refs/prompts/org1/prompt1") == repo.one


# --- concurrency: real processes ------------------------------------------------------------------


def run_all(processes: list, results) -> list:
    """Start the processes, wait for each to end well, and return what each reported."""
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=300)
        assert process.exitcode == 0, f"{process.name} ended with {process.exitcode} (its traceback is above)"
    return [results.get(timeout=10) for _ in processes]


def _increment(git_dir: str, name: str, ids: list[str], times: int, start, results) -> None:
    """Add one to the counter ref ``times`` times by CAS with retry; report the races lost."""
    refs, index = Refs(git_dir), {value: n for n, value in enumerate(ids)}
    lost = locked = 0
    start.wait()
    for _ in range(times):
        while True:
            current = refs.read(name)
            try:
                if refs.swap(name, current, ids[index[current] + 1]):
                    break
                lost += 1
            except RefLocked:
                locked += 1
            os.sched_yield()
    results.put((lost, locked))


def write_blobs(repo: Repo, count: int) -> list[str]:
    """``count`` distinct blobs written by git, in order: the counter's values."""
    directory = Path(tempfile.mkdtemp(dir=repo.path.parent))
    paths = []
    for n in range(count):
        paths.append(directory / str(n))
        paths[-1].write_text(f"counter {n}\n")
    out = git(repo.path, "hash-object", "-w", "--stdin-paths", input="".join(f"{p}\n" for p in paths).encode())
    shutil.rmtree(directory)
    return out.decode().split()


@READ_ONE_WAY
def test_processes_incrementing_a_counter_by_cas_lose_no_increment(repo):
    workers, times = 4, 60
    ids = write_blobs(repo, workers * times + 1)
    name = "refs/counters/org1/counter"
    update_refs(repo.path, {name: ids[0]})
    git(repo.path, "pack-refs", "--all")  # the first CAS moves a packed ref
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(workers), context.Queue()
    processes = [context.Process(target=_increment, args=(str(repo.path), name, ids, times, start, results))
                 for _ in range(workers)]
    outcomes = run_all(processes, results)
    assert verify(repo.path, name) == ids[workers * times]
    assert sum(lost + locked for lost, locked in outcomes) > 0, "the processes never raced: the test proved nothing"
    assert leftovers(repo.path) == []
    fsck(repo.path)


def _delete_all(git_dir: str, names: list[str], value: str, start, results) -> None:
    """Delete every ref in ``names`` (all packed), retrying while packed-refs.lock is busy."""
    refs, locked = Refs(git_dir), 0
    start.wait()
    for name in names:
        while True:
            try:
                assert refs.swap(name, value, None)
                break
            except RefLocked:
                locked += 1
                os.sched_yield()
    results.put(locked)


@READ_ONE_WAY
def test_processes_deleting_packed_refs_at_once_keep_every_other_ref(repo):
    names = [f"refs/prompts/org{o}/prompt{p}" for o in range(10) for p in range(10)]
    update_refs(repo.path, {name: repo.one for name in names})
    git(repo.path, "pack-refs", "--all")
    doomed = [names[n::5] for n in range(3)]
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(len(doomed)), context.Queue()
    processes = [context.Process(target=_delete_all, args=(str(repo.path), part, repo.one, start, results))
                 for part in doomed]
    run_all(processes, results)
    kept = sorted(set(names) - {name for part in doomed for name in part})
    assert git_refs(repo.path) == {name: repo.one for name in kept}
    assert repo.refs.list("refs/") == git_refs(repo.path)
    assert leftovers(repo.path) == []
    fsck(repo.path)


# --- property: any set of gitsnap-shaped names reads and lists as git reports it -------------------

# Few short names, so that names share prefixes and sort next to each other ("a" < "a-b" < "a.b" < "a/x" < "a0"),
# and any identifier gitsnap accepts.
SHORT = st.sampled_from(["a", "a-b", "a.b", "a0", "b"])
IDENTIFIER = st.one_of(SHORT, SHORT, SHORT, st.from_regex(r"\A[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\Z").filter(
    lambda c: ".." not in c and not c.endswith((".lock", "."))))
NAMESPACES = ["refs/prompts", "refs/tags/snapshots"]
STORAGE = st.sampled_from(["packed", "loose", "both"])


@st.composite
def ref_trees(draw, base: str = "", depth: int = 0) -> dict[str, str]:
    """Ref names (no directory/file conflicts, as git requires) mapped to how each is stored."""
    if not base:
        return {k: v for ns in NAMESPACES for k, v in draw(ref_trees(ns, 1)).items()}
    refs: dict[str, str] = {}
    for child in draw(st.lists(IDENTIFIER, unique=True, min_size=1, max_size=4)):
        if depth == 3 or draw(st.booleans()):
            refs[f"{base}/{child}"] = draw(STORAGE)
        else:
            refs.update(draw(ref_trees(f"{base}/{child}", depth + 1)))
    return refs


def prefixes_of(name: str) -> set[str]:
    """Cuts of ``name`` at every component boundary and inside every component."""
    cuts = {name}
    for n, char in enumerate(name):
        if char == "/":
            cuts |= {name[:n], name[:n + 1]}
            component_end = name.find("/", n + 1)
            end = len(name) if component_end < 0 else component_end
            cuts.add(name[:(n + 1 + end) // 2 + 1])
    return cuts


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                   HealthCheck.too_slow])
@given(ref_trees())
def test_any_set_of_refs_reads_and_lists_as_git_reports_it(tmp_path, reading, storage):
    names = sorted(storage)
    repo = Repo(tmp_path / f"{uuid.uuid4().hex}.git")
    packed = {n: repo.one for n in names if storage[n] != "loose"}
    if packed:
        update_refs(repo.path, packed)
        git(repo.path, "pack-refs", "--all")
    loose = {n: repo.one if storage[n] == "loose" else repo.two for n in names if storage[n] != "packed"}
    if loose:
        update_refs(repo.path, loose)
    expected = git_refs(repo.path)
    assert set(expected) == set(names)
    prefixes = {"refs/", "", "refs", *NAMESPACES, *(ns + "/" for ns in NAMESPACES)}
    for name in names:
        prefixes |= prefixes_of(name)
        assert repo.refs.read(name) == expected[name]
        assert repo.refs.read(name + "x") == expected.get(name + "x")
    for prefix in prefixes:
        wanted = {n: v for n, v in expected.items() if n.startswith(prefix)}
        assert list(repo.refs.list(prefix).items()) == list(wanted.items()), prefix
        if prefix.endswith("/"):
            assert repo.refs.list(prefix) == git_refs(repo.path, prefix), prefix  # git's own prefix match
            children = {n[len(prefix):].split("/", 1)[0] for n in wanted}
            assert repo.refs.children(prefix) == children, prefix
    shutil.rmtree(repo.path)
