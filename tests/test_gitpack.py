"""The one-pass indexer of received packs: the index git writes for the same pack, thin packs left to
dulwich, and a malformed pack refused with one line."""

from __future__ import annotations

import hashlib
import subprocess

import pytest

from gitsnap import Store, gitpack, gitremote
from gitsnap.gitpack import OFS_DELTA, REF_DELTA, CorruptPack, index_pack
from tests.conftest import FIXTURES, all_refs, fsck, git

PROMPT = "65f9b1c2e8a1d4e001a0b1c4"


def packed(repo, *revisions: str, thin: bool = False) -> bytes:
    """The pack ``git pack-objects`` makes of ``revisions`` (with deltas; ``thin``: against what ^rev excludes)."""
    command = ["git", "--git-dir", str(repo), "pack-objects", "--stdout", "--revs", "--delta-base-offset"]
    command += ["--thin"] if thin else []
    revisions = revisions or tuple(git(repo, "for-each-ref", "--format=%(objectname)").split())
    return subprocess.run(command, input="\n".join(revisions).encode() + b"\n", capture_output=True,
                          check=True).stdout


def write_history(repo):
    """A repository whose prompt changed ten times a little: git deltifies the versions against each other."""
    Store.init(repo)
    with Store(repo) as store:
        store.import_org(str(FIXTURES / "acme.json"))
        for n in range(10):
            store.create_prompt_version(PROMPT, text="Rules for the leasing team.\n" * 40 + f"Version {n}\n")
    return repo


@pytest.fixture
def history(tmp_path):
    repo = write_history(tmp_path / "history.git")
    git(repo, "repack", "-adf", "--depth=50")
    return repo


def test_the_index_is_byte_for_byte_the_one_git_index_pack_writes(history, tmp_path):
    data = packed(history)
    (tmp_path / "git.pack").write_bytes(data)
    subprocess.run(["git", "index-pack", str(tmp_path / "git.pack")], check=True, capture_output=True)
    entries = index_pack(data)
    assert entries is not None and len(entries) == int.from_bytes(data[8:12], "big")
    deltas = subprocess.run(["git", "verify-pack", "-v", str(tmp_path / "git.idx")], capture_output=True,
                            text=True, check=True).stdout
    assert "chain length" in deltas  # the pack really holds deltas
    target = Store.init(tmp_path / "target.git")
    with Store(target.repo) as store:
        store.git.objects.add_pack(data, entries)
    (ours,) = (tmp_path / "target.git" / "objects" / "pack").glob("*.idx")
    assert ours.read_bytes() == (tmp_path / "git.idx").read_bytes()


def test_a_thin_pack_is_left_to_dulwich(tmp_path):
    repo = write_history(tmp_path / "loose.git")  # loose objects: git deltifies against the excluded first version
    tip = git(repo, "for-each-ref", "--format=%(objectname)", "refs/prompts").strip()
    first = git(repo, "rev-list", "--reverse", tip).split()[0]
    thin = packed(repo, tip, f"^{first}", thin=True)
    assert index_pack(thin) is None
    assert index_pack(packed(repo, tip, f"^{first}")) is not None  # the same without --thin


def test_a_pull_over_git_daemon_stores_the_thin_pack_it_gets_and_stays_fsck_clean(new_remote, git_daemon, tmp_path):
    source = write_history(tmp_path / "source.git")
    remote = new_remote()
    Store(source).push(git_daemon.url(remote.name))
    Store.clone(git_daemon.url(remote.name), tmp_path / "copy.git")
    fsck(tmp_path / "copy.git")
    with Store(source) as store:
        store.create_prompt_version(PROMPT, text="Rules for the leasing team.\n" * 40 + "Version 10\n")
    Store(source).push(git_daemon.url(remote.name))
    assert [u.status for u in Store(tmp_path / "copy.git").pull().refs if u.status != "up-to-date"] == ["updated"]
    assert all_refs(tmp_path / "copy.git") == all_refs(source)
    fsck(tmp_path / "copy.git")


def with_checksum(body: bytes) -> bytes:
    return body + hashlib.sha1(body).digest()


@pytest.mark.parametrize("damage", ["flipped byte", "truncated", "not a pack", "garbage object", "extra bytes",
                                    "count too high", "unknown type", "dangling offset delta"])
def test_a_malformed_pack_is_one_corrupt_pack_error(history, damage):
    data = packed(history)
    body = data[:-20]
    broken = {
        "flipped byte": data[:100] + bytes([data[100] ^ 0xFF]) + data[101:],
        "truncated": data[: len(data) // 2],
        "not a pack": b"HTTP/1.1 200 OK\r\n\r\n" + b"x" * 40,
        "garbage object": with_checksum(body[:12] + b"\x35" + b"\xff" * 30 + body[43:]),
        "extra bytes": with_checksum(body + b"\x00" * 7),
        "count too high": with_checksum(body[:8] + (int.from_bytes(body[8:12], "big") + 1).to_bytes(4, "big")
                                        + body[12:]),
        "unknown type": with_checksum(body[:12] + b"\x05" + body[13:]),
        "dangling offset delta": with_checksum(body[:12] + b"\x65\x7f" + body[14:]),
    }[damage]
    with pytest.raises(CorruptPack):
        index_pack(broken)


def object_kinds(data: bytes) -> set[int]:
    """The type numbers of a pack's objects as stored (6: offset delta, 7: ref delta)."""
    kinds, position, limit = set(), 12, len(data) - 20
    for _ in range(int.from_bytes(data[8:12], "big")):
        offset = position
        kind, size, position = gitpack._object_header(data, position, limit)
        if kind == OFS_DELTA:
            _distance, position = gitpack._base_distance(data, position, limit)
        position += 20 if kind == REF_DELTA else 0
        _inflated, position = gitpack._inflate(memoryview(data), position, size, limit, offset)
        kinds.add(kind)
    return kinds


def every_object(repo) -> list[str]:
    listing = git(repo, "cat-file", "--batch-all-objects", "--batch-check=%(objectname)")
    return listing.split()


def assert_every_object_reads_as_git_shows_it(repo) -> None:
    with Store(repo) as store:
        for sha in every_object(repo):
            kind, contents = store.git.objects.raw(sha)
            assert contents == subprocess.run(["git", "--git-dir", str(repo), "cat-file",
                                               {1: "commit", 2: "tree", 3: "blob", 4: "tag"}[kind], sha],
                                              capture_output=True, check=True).stdout


@pytest.mark.parametrize("offsets", [True, False], ids=["offset deltas", "ref deltas"])
def test_the_pack_reader_reads_every_deltified_object_as_git_does(history, tmp_path, offsets):
    target = tmp_path / "target.git"
    Store.init(target)
    data = subprocess.run(["git", "--git-dir", str(history), "pack-objects", "--stdout", "--all", "--revs",
                           *(["--delta-base-offset"] if offsets else [])], input=b"", capture_output=True,
                          check=True).stdout
    subprocess.run(["git", "--git-dir", str(target), "index-pack", "--stdin"], input=data, check=True,
                   capture_output=True)
    assert (OFS_DELTA if offsets else REF_DELTA) in object_kinds(data)
    assert (REF_DELTA if offsets else OFS_DELTA) not in object_kinds(data)
    assert_every_object_reads_as_git_shows_it(target)


def test_the_readers_cache_of_bases_stays_within_its_budget_and_reads_stay_right(history):
    with Store(history) as store:
        objects = store.git.objects
        expected = {sha: objects.raw(sha) for sha in every_object(history)}
        (reader,) = objects._packs
        reader.CACHE_BYTES = 4096  # smaller than a few versions of the prompt: bases are evicted and read again
        reader._recent.clear()
        reader._recent_bytes = 0
        for sha, value in expected.items():
            assert reader.get_raw(bytes.fromhex(sha)) == value
            assert reader._recent_bytes == sum(len(v[1]) for v in reader._recent.values()) <= 4096


def test_a_pack_that_would_inflate_past_the_budget_is_left_to_dulwich(history, monkeypatch):
    data = packed(history)
    assert index_pack(data) is not None
    monkeypatch.setattr(gitpack, "INFLATED_MAX", 1000)
    assert index_pack(data) is None


def test_a_large_received_pack_is_streamed_to_dulwichs_indexer_and_the_clone_is_whole(new_remote, git_daemon,
                                                                                    tmp_path, monkeypatch):
    source = write_history(tmp_path / "source.git")
    remote = new_remote()
    Store(source).push(git_daemon.url(remote.name))
    monkeypatch.setattr(gitremote, "PACK_MAX", 0)  # every pack is "large"
    Store.clone(git_daemon.url(remote.name), tmp_path / "copy.git")
    assert all_refs(tmp_path / "copy.git") == all_refs(source)
    fsck(tmp_path / "copy.git")


def test_the_index_reader_gives_the_offset_git_verify_pack_gives_for_every_object(history):
    (idx,) = (history / "objects" / "pack").glob("*.idx")
    listing = git(history, "verify-pack", "-v", str(idx)).splitlines()
    offsets = {line.split()[0]: int(line.split()[4]) for line in listing  # id type size packed-size offset ...
               if len(line.split()) >= 5 and len(line.split()[0]) == 40}
    assert len(offsets) > 20
    index = gitpack.PackIndex(str(idx))
    try:
        for sha, offset in offsets.items():
            assert index.object_offset(bytes.fromhex(sha)) == offset
        for absent in (b"\0" * 20, b"\xff" * 20, bytes.fromhex(min(offsets))[:19] + b"\0"):
            if absent.hex() not in offsets:
                with pytest.raises(KeyError):
                    index.object_offset(absent)
    finally:
        index.close()


def test_an_offset_past_2_gib_is_read_from_the_index_table_of_8_byte_offsets(tmp_path):
    """Git's index for a pack over 2 GiB: the 4-byte offset's top bit points into a table of 8-byte ones."""
    names = [bytes([1]) + b"\0" * 19, bytes([2]) + b"\0" * 19]
    fanout = [0] * 256
    for name in names:
        for first in range(name[0], 256):
            fanout[first] += 1
    data = (b"\377tOc\0\0\0\2" + b"".join(n.to_bytes(4, "big") for n in fanout) + b"".join(names) + b"\0" * 8
            + (1234).to_bytes(4, "big") + (0x80000000).to_bytes(4, "big") + (5 * 2**31).to_bytes(8, "big")
            + b"\0" * 40)
    (tmp_path / "big.idx").write_bytes(data)
    index = gitpack.PackIndex(str(tmp_path / "big.idx"))
    try:
        assert index.object_offset(names[0]) == 1234
        assert index.object_offset(names[1]) == 5 * 2**31
    finally:
        index.close()


def test_a_version_1_index_is_left_to_dulwich_and_every_object_reads_as_git_shows_it(history, tmp_path):
    target = tmp_path / "v1.git"
    Store.init(target)
    subprocess.run(["git", "--git-dir", str(target), "index-pack", "--index-version=1", "--stdin"],
                   input=packed(history), check=True, capture_output=True)
    (idx,) = (target / "objects" / "pack").glob("*.idx")
    with pytest.raises(ValueError, match="not a version 2 pack index"):
        gitpack.PackIndex(str(idx))
    assert_every_object_reads_as_git_shows_it(target)


@pytest.mark.parametrize("size", [0, 100], ids=["empty", "truncated"])
def test_an_index_file_too_short_for_its_entries_is_refused(history, tmp_path, size):
    (idx,) = (history / "objects" / "pack").glob("*.idx")
    (tmp_path / "short.idx").write_bytes(idx.read_bytes()[:size])
    with pytest.raises(ValueError):
        gitpack.PackIndex(str(tmp_path / "short.idx"))
