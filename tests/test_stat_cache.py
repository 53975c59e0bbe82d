"""The stat cache of import directories: unchanged files are not read again, a change is never missed."""

from __future__ import annotations

import json
import os
import time

import pytest

from gitsnap import Store, sources
from gitsnap.layout import entity_path
from tests.conftest import ACME_ID, all_refs, fsck, git

PIPELINE = "6501c0de5a1e000000000001"
LIVE = f"refs/heads/orgs/{ACME_ID}"


@pytest.fixture
def files_read(monkeypatch):
    """The paths of every file an import opens for reading."""
    read = []
    real = sources._read_entity_file
    monkeypatch.setattr(sources, "_read_entity_file", lambda path, problems: read.append(path) or real(path, problems))
    return read


def age(directory) -> None:
    """Put every file's mtime 10 s back, out of the cache's racy window (as files are after any real pause)."""
    past = time.time_ns() - 10_000_000_000
    for root, _dirs, names in os.walk(directory):
        for name in names:
            os.utime(os.path.join(root, name), ns=(past, past))


def test_a_second_import_of_an_unchanged_directory_reads_no_entity(acme_repo, acme_dir, files_read):
    age(acme_dir)
    Store(acme_repo).import_org(str(acme_dir))  # builds the cache
    files_read.clear()
    assert Store(acme_repo).import_org(str(acme_dir)).skipped
    entities = [path for path in files_read if "/stubs/" not in path and not path.endswith("org.yaml")]
    assert entities == []


def test_a_changed_file_is_read_and_imported(acme_repo, acme_dir, files_read):
    age(acme_dir)
    Store(acme_repo).import_org(str(acme_dir))
    changed = acme_dir / entity_path("pipelines", PIPELINE)
    changed.write_text(changed.read_text().replace("Leasing inquiries", "Leasing leads"))
    files_read.clear()
    result = Store(acme_repo).import_org(str(acme_dir))
    assert not result.skipped and result.files.changed == 1
    assert str(changed) in files_read
    assert "Leasing leads" in git(acme_repo, "show", f"{LIVE}:{entity_path('pipelines', PIPELINE)}")


def test_a_change_that_keeps_size_and_mtime_is_still_seen(acme_repo, acme_dir):
    age(acme_dir)
    Store(acme_repo).import_org(str(acme_dir))
    changed = acme_dir / entity_path("pipelines", PIPELINE)
    before = changed.stat()
    text = changed.read_text()
    changed.write_text(text.replace("Leasing inquiries", "Leasing inquirie!"))  # same size
    os.utime(changed, ns=(before.st_atime_ns, before.st_mtime_ns))  # same mtime; only ctime tells
    assert changed.stat().st_size == before.st_size and changed.stat().st_mtime_ns == before.st_mtime_ns
    result = Store(acme_repo).import_org(str(acme_dir))
    assert not result.skipped and "inquirie!" in git(acme_repo, "show", f"{LIVE}:{entity_path('pipelines', PIPELINE)}")


def set_mtimes(directory, mtime_ns: int) -> None:
    for root, _dirs, names in os.walk(directory):
        for name in names:
            os.utime(os.path.join(root, name), ns=(mtime_ns, mtime_ns))


def entities_read(files_read: list[str]) -> list[str]:
    return [path for path in files_read if "/stubs/" not in path and not path.endswith("org.yaml")]


def test_files_written_after_the_reading_began_are_read_again(acme_repo, acme_dir, files_read):
    set_mtimes(acme_dir, time.time_ns() + 5_000_000_000)  # younger than the first import's reading
    Store(acme_repo).import_org(str(acme_dir))
    files_read.clear()
    Store(acme_repo).import_org(str(acme_dir))
    assert len(entities_read(files_read)) > 60  # nothing young was trusted


def test_whole_second_timestamps_are_trusted_only_two_seconds_later(acme_repo, acme_dir, files_read):
    set_mtimes(acme_dir, (time.time_ns() // 10**9 - 1) * 10**9)  # a coarse filesystem's "a second ago"
    Store(acme_repo).import_org(str(acme_dir))
    files_read.clear()
    Store(acme_repo).import_org(str(acme_dir))
    assert len(entities_read(files_read)) > 60


def test_nanosecond_timestamps_are_trusted_a_tick_later(acme_repo, acme_dir, files_read):
    set_mtimes(acme_dir, (time.time_ns() // 10**9 - 1) * 10**9 + 500_000_000)  # 0.5 to 1.5 s ago, ns precision
    Store(acme_repo).import_org(str(acme_dir))
    files_read.clear()
    assert Store(acme_repo).import_org(str(acme_dir)).skipped
    assert entities_read(files_read) == []


def test_a_damaged_cache_is_rebuilt_and_lives_outside_every_ref(acme_repo, acme_dir, files_read):
    age(acme_dir)
    Store(acme_repo).import_org(str(acme_dir))
    (cache,) = (acme_repo / "gitsnap" / "stat-cache").iterdir()
    cache.write_bytes(b"\x00not json")
    refs = all_refs(acme_repo)
    assert Store(acme_repo).import_org(str(acme_dir)).skipped
    files_read.clear()
    assert Store(acme_repo).import_org(str(acme_dir)).skipped  # rebuilt, and trusted again
    assert [p for p in files_read if "/stubs/" not in p and not p.endswith("org.yaml")] == []
    assert all_refs(acme_repo) == refs and all("stat-cache" not in ref for ref in refs)
    fsck(acme_repo)


DAMAGES = {
    "not a mapping": lambda stored: [],
    "entries not a mapping": lambda stored: {**stored, "entries": []},
    "time not a number": lambda stored: {**stored, "reading_from_ns": "soon"},
    "an entry a number": lambda stored: {**stored, "entries": {path: 5 for path in stored["entries"]}},
    "entries cut short": lambda stored: {**stored, "entries": {p: e[:2] for p, e in stored["entries"].items()}},
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_cache_of_the_wrong_shape_is_ignored_and_rebuilt(acme_repo, acme_dir, files_read, damage):
    age(acme_dir)
    Store(acme_repo).import_org(str(acme_dir))
    (cache,) = (acme_repo / "gitsnap" / "stat-cache").iterdir()
    cache.write_text(json.dumps(DAMAGES[damage](json.loads(cache.read_bytes()))))
    assert Store(acme_repo).import_org(str(acme_dir)).skipped
    files_read.clear()
    assert Store(acme_repo).import_org(str(acme_dir)).skipped
    assert entities_read(files_read) == []  # rebuilt, and trusted again
