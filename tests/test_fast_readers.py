"""gitsnap's hand-written fast readers agree with dulwich's own, on objects the real git CLI wrote.

Each exists because a benchmark showed its gain (see the module that holds it): the tag reader
(snapshot listings), the object lookup (history walks), the tree diff (snapshot diff, drift).
"""

from __future__ import annotations

import json

import pytest
from dulwich.diff_tree import tree_changes
from dulwich.object_store import DiskObjectStore
from dulwich.objects import Tag

from gitsnap import Store
from gitsnap.gitmessage import Identity, parse_tag
from gitsnap.gittrees import BLOB_MODE, Existing
from gitsnap.layout import nest
from tests.conftest import ACME_ID, FIXTURES, LEASING_PROMPT_ID, git

LIVE = f"refs/heads/orgs/{ACME_ID}"
MESSAGES = ["One line", "Subject\n\nBody line.\n\nKey: value\nOther: two", "Ünïcödé subject\n\n\tindented\n",
            "Subject\n\n-----BEGIN PGP SIGNATURE-----\nnot really\n-----END PGP SIGNATURE-----\n"]


def dulwich_objects(repo) -> DiskObjectStore:
    return DiskObjectStore(str(repo / "objects"))


def test_the_tag_reader_reads_what_dulwich_reads(acme_repo):
    objects = dulwich_objects(acme_repo)
    for number, message in enumerate(MESSAGES):
        git(acme_repo, "-c", "user.name=Tàg Gér", "-c", "user.email=t@x", "tag", "-a", f"t{number}", "-m", message,
            LIVE)
        sha = git(acme_repo, "rev-parse", f"refs/tags/t{number}").strip()
        raw = objects.get_raw(sha.encode())[1]
        ours = Store(acme_repo).git.objects.read_tag(sha)
        theirs = Tag.from_raw_string(Tag.type_num, raw, sha.encode())
        assert (ours.name, ours.target, ours.message) == (theirs.name.decode(), theirs.object[1].decode(),
                                                         theirs.message.decode())
        assert ours.tagger == Identity.parse(theirs.tagger, theirs.tag_time, theirs.tag_timezone)
        if "SIGNATURE" in message:  # the fast reader leaves a signed tag to dulwich's
            with pytest.raises(ValueError):
                parse_tag(sha, raw)
        else:
            assert parse_tag(sha, raw) == ours


def test_the_object_lookup_reads_what_dulwich_reads_loose_and_packed(acme_repo):
    ours = Store(acme_repo).git.objects
    every = git(acme_repo, "cat-file", "--batch-all-objects", "--batch-check=%(objectname)").split()
    for sha in every:
        assert ours.raw(sha) == dulwich_objects(acme_repo).get_raw(sha.encode())
    git(acme_repo, "gc", "-q")  # now every object is packed, most of them as deltas
    ours = Store(acme_repo).git.objects
    for sha in every:
        assert ours.raw(sha) == dulwich_objects(acme_repo).get_raw(sha.encode())


def test_the_tree_diff_is_dulwichs_tree_changes(acme_repo, tmp_path):
    store = Store(acme_repo)
    before = store.git.objects.read_commit(store.git.refs.read(LIVE)).tree
    document = json.loads((FIXTURES / "acme.json").read_text())
    document["pipelines"][0]["name"] = "Renamed"
    document["templates"].pop()
    document["automations"].append({"id": "6502a07000000000000000ff", "name": "New"})
    document["stubs"][0]["chats"].pop("advanced_support")
    store.import_org(json.dumps(document).encode())
    after = store.git.objects.read_commit(store.git.refs.read(LIVE)).tree
    ours = sorted(store.git.trees.diff(before, after))
    theirs = sorted((change.new or change.old).path.decode() for change in
                    tree_changes(dulwich_objects(acme_repo), before.encode(), after.encode()))
    assert [path for path, _old, _new in ours] == theirs and len(ours) == 4
    for path, old, new in ours:
        assert (old is None) == (path in {"automations/6502a07000000000000000ff.yaml"})


def test_a_whole_tree_built_over_its_own_entries_reuses_the_subtrees_and_is_what_git_builds(acme_repo):
    store = Store(acme_repo)
    trees = store.git.trees
    live = store.git.objects.read_commit(store.git.refs.read(LIVE)).tree
    spec = {path: Existing(BLOB_MODE, blob) for path, _old, blob in trees.diff(None, live)}
    assert trees.build(nest(spec), base=live) == live
    renamed = {**spec, "pipelines/zz.yaml": spec.pop(next(p for p in spec if p.startswith("pipelines/")))}
    rebuilt = trees.build(nest(renamed), base=live)
    assert rebuilt != live
    listing = git(acme_repo, "ls-tree", "-r", rebuilt).splitlines()
    assert sorted(line.split("\t")[1] for line in listing) == sorted(renamed)


def test_a_repository_borrowing_objects_through_alternates_reads_and_writes(acme_repo, tmp_path):
    """``git clone --shared`` keeps no objects of its own: every read goes through objects/info/alternates."""
    with Store(acme_repo) as store:
        snapshot = store.create_snapshot(ACME_ID, "64ee9a8b1e7f2a0011223399", "Before sharing").snapshot
        exported = store.export_org(ACME_ID, fmt="json")[1]
    shared = tmp_path / "shared.git"
    git(tmp_path, "clone", "-q", "--bare", "--shared", str(acme_repo), str(shared))
    git(shared, "fetch", "-q", "origin", "+refs/*:refs/*")  # gitsnap's refs too, not only branches and tags
    assert (shared / "objects" / "info" / "alternates").is_file()
    assert not list((shared / "objects" / "pack").glob("*.pack"))
    with Store(shared) as store:
        assert store.export_org(ACME_ID, fmt="json")[1] == exported
        assert [s.id for s in store.list_snapshots().snapshots] == [snapshot.id]
        created = store.create_prompt_version(LEASING_PROMPT_ID, text="Written beside borrowed objects.\n")
        detail = store.show_prompt_version(LEASING_PROMPT_ID, created.version)
    assert "Written beside borrowed objects." in json.dumps(detail.to_json())
    git(shared, "fsck", "--strict")
