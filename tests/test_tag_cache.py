"""The cache of what snapshot tags say: a listing reads each tag object once, and the refs stay the truth."""

from __future__ import annotations

import json
import time

import pytest

from gitsnap import Store, gitobjects, tagcache
from tests.conftest import ACME_ID, ALEX_ID, FIXTURES, all_refs, fsck, git


@pytest.fixture
def snapshots(acme_repo) -> list[str]:
    """Three snapshots of acme, listed once (so the cache holds them)."""
    with Store(acme_repo) as store:
        ids = [store.create_snapshot(ACME_ID, ALEX_ID, f"Nightly {n}", f"Run {n}").snapshot.id for n in range(3)]
        store.list_snapshots()
    return ids


@pytest.fixture
def tags_read(monkeypatch):
    """The ids of the tag objects read from the repository."""
    read = []
    real = gitobjects.Objects.read_tag
    monkeypatch.setattr(gitobjects.Objects, "read_tag", lambda self, sha: read.append(sha) or real(self, sha))
    return read


def listing(repo) -> list[dict]:
    with Store(repo) as store:
        return store.list_snapshots().to_json()["snapshots"]


def cache_file(repo, org: str = ACME_ID):
    return repo / "gitsnap" / "tag-cache" / "snapshots" / f"{org}.json"


def test_a_second_listing_reads_no_tag_and_lists_the_same(acme_repo, snapshots, tags_read):
    first = listing(acme_repo)
    assert tags_read == []
    cache_file(acme_repo).unlink()
    assert listing(acme_repo) == first  # read from the tags this time
    assert len(tags_read) == 3
    assert [s["_id"] for s in first] == sorted(snapshots, reverse=True)


def test_a_new_snapshot_is_read_from_its_tag_and_the_rest_from_the_cache(acme_repo, snapshots, tags_read):
    with Store(acme_repo) as store:
        new = store.create_snapshot(ACME_ID, ALEX_ID, "Late", "After the listing")
    tags_read.clear()
    listed = {s["_id"]: s for s in listing(acme_repo)}
    assert tags_read == [new.snapshot.tag]
    assert listed[new.snapshot.id]["name"] == "Late" and listed[new.snapshot.id]["description"] == "After the listing"
    assert set(listed) == {*snapshots, new.snapshot.id}


def test_a_deleted_snapshot_leaves_the_listing_and_the_cache(acme_repo, snapshots):
    with Store(acme_repo) as store:
        deleted = store.delete_snapshot(snapshots[0]).snapshot
    assert snapshots[0] not in [s["_id"] for s in listing(acme_repo)]
    assert deleted.tag not in json.loads(cache_file(acme_repo).read_bytes())


def test_the_cache_is_no_ref_and_the_repository_stays_fsck_clean(acme_repo, snapshots):
    assert cache_file(acme_repo).is_file()
    assert not [ref for ref in all_refs(acme_repo) if "cache" in ref]
    fsck(acme_repo)
    assert "tag-cache" not in git(acme_repo, "count-objects", "-v")


@pytest.mark.parametrize("content", [
    b"not json", b"[1, 2]", b'{"x": 1}', b"\xff\xfe", b"[" * 100_000, b"",
], ids=["not JSON", "a list", "no entries", "not UTF-8", "nested deep", "empty"])
def test_an_unreadable_cache_file_is_ignored_and_rebuilt(acme_repo, snapshots, content):
    expected = listing(acme_repo)
    cache_file(acme_repo).write_bytes(content)
    assert listing(acme_repo) == expected
    assert set(json.loads(cache_file(acme_repo).read_bytes())) == {s["tag"] for s in expected}


@pytest.mark.parametrize("damage", [
    lambda entry: entry[:-1],  # one value short
    lambda entry: [*entry, "extra"],
    lambda entry: [entry[0], 7, *entry[2:]],  # a name that is not a string
    lambda entry: [*entry[:8], "3", *entry[9:]],  # a count that is not a number
    lambda entry: [*entry[:8], True, *entry[9:]],  # a boolean is not a count
    lambda entry: ["f" * 24, *entry[1:]],  # another snapshot's summary
    lambda entry: {"not": "a list"},
    lambda entry: None,
], ids=["short", "long", "name not text", "count not number", "count boolean", "other snapshot", "mapping", "null"])
def test_a_cache_entry_of_the_wrong_shape_is_read_again_from_its_tag(acme_repo, snapshots, damage, tags_read):
    expected = listing(acme_repo)
    entries = json.loads(cache_file(acme_repo).read_bytes())
    damaged = expected[1]["tag"]
    entries[damaged] = damage(entries[damaged])
    cache_file(acme_repo).write_text(json.dumps(entries))
    tags_read.clear()
    assert listing(acme_repo) == expected
    assert tags_read == [damaged]


def test_a_dry_run_listing_writes_no_cache(acme_repo, snapshots):
    cache_file(acme_repo).unlink()
    with Store(acme_repo, dry_run=True) as store:
        assert len(store.list_snapshots().snapshots) == 3
    assert not cache_file(acme_repo).exists()


def test_a_cache_that_cannot_be_written_costs_nothing_but_speed(acme_repo, snapshots):
    cache_file(acme_repo).unlink()
    cache_file(acme_repo).parent.rmdir()
    cache_file(acme_repo).parent.write_bytes(b"a file where the cache directory goes")
    assert len(listing(acme_repo)) == 3
    assert not list(acme_repo.joinpath("gitsnap").glob("**/*.tmp-*"))


def test_each_org_has_its_own_cache_and_one_orgs_listing_reads_no_other(acme_repo, snapshots, monkeypatch):
    document = json.loads((FIXTURES / "acme.json").read_text())
    document["org"]["_id"] = "beta"
    with Store(acme_repo) as store:
        store.import_org(json.dumps(document).encode(), name="beta.json")
        beta = store.create_snapshot("beta", ALEX_ID, "Beta nightly").snapshot
    opened, real_init = [], tagcache.TagCache.__init__

    def init(cache, git_dir, group, **options):
        opened.append(group)
        real_init(cache, git_dir, group, **options)

    monkeypatch.setattr(tagcache.TagCache, "__init__", init)
    acme_before = cache_file(acme_repo).read_bytes()
    with Store(acme_repo) as store:
        assert [s.id for s in store.list_snapshots("beta").snapshots] == [beta.id]
        assert opened == ["snapshots/beta"]
        assert set(json.loads(cache_file(acme_repo, "beta").read_bytes())) == {beta.tag}
        assert cache_file(acme_repo).read_bytes() == acme_before
        opened.clear()
        assert len(store.list_snapshots().snapshots) == 4
        assert sorted(opened) == sorted([f"snapshots/{ACME_ID}", "snapshots/beta"])


def test_text_beyond_ascii_reads_back_from_the_cache_exactly(acme_repo):
    description = "Línea 1\u2028línea 2 \U0001f680\ttab\x7f and \"quotes\" \\ back"
    with Store(acme_repo) as store:
        created = store.create_snapshot(ACME_ID, ALEX_ID, "Ünïcode ✓", description).snapshot
        from_tags = store.list_snapshots().snapshots  # fills the cache
        from_cache = store.list_snapshots().snapshots
    assert from_cache == from_tags
    assert (from_cache[0].name, from_cache[0].description) == (created.name, created.description) == \
        ("Ünïcode ✓", description)


def test_a_listing_that_adds_and_drops_nothing_writes_nothing(acme_repo, snapshots):
    written = cache_file(acme_repo).stat().st_mtime_ns
    with Store(acme_repo) as store:
        commit = store.git.refs.read(f"refs/heads/orgs/{ACME_ID}")
        store.git.refs.swap(f"refs/tags/snapshots/{ACME_ID}/{'e' * 24}", None, commit)  # not a tag: unreadable
        time.sleep(0.01)
        for _ in range(2):
            listed = store.list_snapshots()
            assert len(listed.snapshots) == 3 and len(listed.unreadable) == 1
    assert cache_file(acme_repo).stat().st_mtime_ns == written
